"""Reference selective scan (Mamba-1 semantics, time-major): a float64 loop, the specification."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import compute_dtype


def selective_scan_naive(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    initial_state: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the selective SSM step by step in float64.

    Parameters
    ----------
    u, delta : torch.Tensor
        ``(batch, time, D)`` input and step sizes.
    A : torch.Tensor
        ``(D, N)`` state matrix (diagonal per channel).
    B, C : torch.Tensor
        ``(batch, time, N)`` or grouped ``(batch, time, G, N)`` input and output matrices.
    D, z, delta_bias, delta_softplus, initial_state
        Skip weights ``(D,)``, gate ``(batch, time, D)``, step bias ``(D,)``, softplus flag and
        ``(batch, D, N)`` start state, as in :func:`tsrec.kernels.selective_scan`.

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, D)`` in ``u``'s dtype.
    h_T : torch.Tensor
        ``(batch, D, N)`` final state in the accumulation dtype (float32 for half inputs).
    """
    d64 = [None if x is None else x.double() for x in (u, delta, A, B, C, D, z, delta_bias, initial_state)]
    u64, dt, A64, B64, C64, D64, z64, bias64, h = d64
    if bias64 is not None:
        dt = dt + bias64
    if delta_softplus:
        dt = F.softplus(dt)
    if B64.ndim == 3:
        B64, C64 = B64[:, :, None], C64[:, :, None]
    per_group = u.shape[2] // B64.shape[2]
    # channel d reads group d // per_group
    Bd = B64.repeat_interleave(per_group, dim=2)
    Cd = C64.repeat_interleave(per_group, dim=2)
    if h is None:
        h = u64.new_zeros(u.shape[0], u.shape[2], A.shape[1])
    ys = []
    for t in range(u.shape[1]):
        h = torch.exp(dt[:, t, :, None] * A64) * h + (dt[:, t] * u64[:, t])[:, :, None] * Bd[:, t]
        ys.append((h * Cd[:, t]).sum(-1))
    y = torch.stack(ys, dim=1)
    if D64 is not None:
        y = y + u64 * D64
    if z64 is not None:
        y = y * F.silu(z64)
    return y.to(u.dtype), h.to(compute_dtype(u.dtype))
