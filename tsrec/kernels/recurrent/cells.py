"""The fused RNN cell family shared by every backend of :func:`tsrec.kernels.rnn_scan`.

The input projection is done by the caller (one big matmul over all time steps); only the
recurrent product ``h_{t-1} @ W`` stays inside the loop, as in FlashRNN.

``"tanh"``  (K = 1): ``h_t = tanh(x_t + h_{t-1} W)``
``"gated"`` (K = 2): ``[p, q] = x_t + h_{t-1} W``; ``s = sigmoid(p)``;
``h_t = (1 - s) * h_{t-1} + s * tanh(q)`` -- a CfC-like interpolation between the old state and
a candidate, with a learned gate.
"""

from __future__ import annotations

import torch

CELLS = {"tanh": 1, "gated": 2}
MAX_HIDDEN = 128  # the largest H the fused Triton kernel keeps on chip
# the gated cell's two weight blocks: at H = 128 a launch asks 272 KiB of shared memory (backward 320
# KiB), more than an H100/H200 gives a block (227 KiB; an H200 refused it), at 64 it asks 72 and 96
MAX_GATED_HIDDEN = 64


def triton_hidden_limit(cell: str) -> int:
    """The largest H the fused Triton kernel runs ``cell`` with."""
    return MAX_GATED_HIDDEN if cell == "gated" else MAX_HIDDEN


def cell_step(cell: str, x_t: torch.Tensor, h: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """One step of ``cell``: ``x_t`` ``(batch, K*H)``, ``h`` ``(batch, H)``, ``W`` ``(H, K*H)``."""
    pre = torch.addmm(x_t, h, W)
    if cell == "tanh":
        return torch.tanh(pre)
    p, q = pre.chunk(2, dim=-1)
    s = torch.sigmoid(p)
    return torch.lerp(h, torch.tanh(q), s)
