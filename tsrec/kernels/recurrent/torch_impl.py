"""Tight PyTorch loops for nonlinear recurrences; autograd differentiates through the steps.

``unbind`` splits the time axis once before the loop: indexing ``x[:, t]`` inside the loop
would make backward scatter into a full-size zero tensor at every step (quadratic in time).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._checks import compute_dtype
from .cells import cell_step


def recurrent_scan_torch(step_fn: Callable, x: torch.Tensor, h0: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """Run ``h = step_fn(x_t, h)`` over time and stack the states ``(batch, time, H)``."""
    steps = x.unbind(1)
    out: list = [None] * len(steps)
    h = h0
    for t in range(len(steps) - 1, -1, -1) if reverse else range(len(steps)):
        h = step_fn(steps[t], h)
        out[t] = h
    return torch.stack(out, dim=1)


def rnn_scan_torch(cell: str, x: torch.Tensor, W: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    """The fused cell family as a torch loop (half precision computed in float32)."""
    wide = compute_dtype(x.dtype)
    W_w = W.to(wide)
    h = x.new_zeros(x.shape[0], W.shape[0], dtype=wide) if h0 is None else h0.to(wide)
    out = recurrent_scan_torch(lambda x_t, h_prev: cell_step(cell, x_t, h_prev, W_w), x.to(wide), h)
    return out.to(x.dtype)
