"""The device guard every Triton launch runs in (no triton import: the unit tests use it without one).

A Triton kernel launches on the *current* CUDA device, not on its arguments': with the inputs on
``cuda:1`` and ``cuda:0`` current it reads memory of another GPU (an illegal address, or garbage).
"""

from __future__ import annotations

import contextlib

import torch


def on_device_of(tensor: torch.Tensor) -> contextlib.AbstractContextManager:
    """``torch.cuda.device(tensor.device)`` for a CUDA tensor, else a no-op context: the interpreter's
    tensors are on the CPU, where ``torch.cuda.device`` would fail without a GPU."""
    if tensor.device.type == "cuda":
        return torch.cuda.device(tensor.device)
    return contextlib.nullcontext()
