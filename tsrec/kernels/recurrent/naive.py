"""Reference loops for the recurrent ops: the specifications the fast paths are tested against."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .cells import cell_step


def recurrent_scan_naive(step_fn: Callable, x: torch.Tensor, h0: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """Apply ``step_fn`` step by step, indexing time directly (clear, not fast)."""
    n_steps = x.shape[1]
    out: list = [None] * n_steps
    h = h0
    for t in range(n_steps - 1, -1, -1) if reverse else range(n_steps):
        h = step_fn(x[:, t], h)
        out[t] = h
    return torch.stack(out, dim=1)


def rnn_scan_naive(cell: str, x: torch.Tensor, W: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    """The fused cell family in float64, cast back to ``x``'s dtype."""
    W64 = W.double()
    h = x.new_zeros(x.shape[0], W.shape[0], dtype=torch.float64) if h0 is None else h0.double()
    ys = []
    for t in range(x.shape[1]):
        h = cell_step(cell, x[:, t].double(), h, W64)
        ys.append(h)
    return torch.stack(ys, dim=1).to(x.dtype)
