"""Reference linear scan: a plain float64 (complex128) loop over time, the specification."""

from __future__ import annotations

import torch


def linear_scan_naive(
    a: torch.Tensor,
    b: torch.Tensor,
    initial_state: torch.Tensor | None = None,
    reverse: bool = False,
) -> torch.Tensor:
    """Compute ``h_t = a_t * h_{t-1} + b_t`` step by step in double precision.

    Parameters
    ----------
    a, b : torch.Tensor
        Gates and inputs, shape ``(batch, time, channels)``.
    initial_state : torch.Tensor or None
        State before the first step, shape ``(batch, channels)``; zeros when None.
    reverse : bool
        Scan from the last time step to the first.

    Returns
    -------
    torch.Tensor
        All states, shape and dtype of ``b``.
    """
    wide = torch.complex128 if (a.is_complex() or b.is_complex()) else torch.float64
    a64, b64 = a.to(wide), b.to(wide)
    h = torch.zeros_like(b64[:, 0]) if initial_state is None else initial_state.to(wide)
    steps = range(a.shape[1] - 1, -1, -1) if reverse else range(a.shape[1])
    out = [None] * a.shape[1]
    for t in steps:
        h = a64[:, t] * h + b64[:, t]
        out[t] = h
    return torch.stack(out, dim=1).to(b.dtype)
