"""Steps shared by the torch and Triton selective scans: the cheap ``(batch, time, D)`` parts.

Only the state recurrence needs a custom kernel; the step-size bias/softplus before it and the
skip/gate after it are elementwise over ``(batch, time, D)`` and left to autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import compute_dtype


def prepare_delta(delta: torch.Tensor, delta_bias: torch.Tensor | None, softplus: bool) -> torch.Tensor:
    """Apply the optional step-size bias and softplus."""
    if delta_bias is not None:
        delta = delta + delta_bias
    return F.softplus(delta) if softplus else delta


def widen_inputs(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None,
    z: torch.Tensor | None,
    delta_bias: torch.Tensor | None,
    softplus: bool,
    initial_state: torch.Tensor | None,
) -> list:
    """Cast every input to the accumulation dtype and fold bias/softplus into ``delta``.

    Returns ``[u, delta, A, B, C, D, z, initial_state]`` (None entries stay None).
    """
    wide = compute_dtype(u.dtype)
    u, delta, A, B, C, D, z, bias, h0 = (
        None if x is None else x.to(wide) for x in (u, delta, A, B, C, D, z, delta_bias, initial_state)
    )
    return [u, prepare_delta(delta, bias, softplus), A, B, C, D, z, h0]


def finish_output(y: torch.Tensor, u: torch.Tensor, D: torch.Tensor | None, z: torch.Tensor | None) -> torch.Tensor:
    """Add the skip term ``D * u`` and apply the gate ``silu(z)``."""
    if D is not None:
        y = y + u * D
    if z is not None:
        y = y * F.silu(z)
    return y


def grouped(B: torch.Tensor) -> torch.Tensor:
    """View ``(batch, time, N)`` as one group ``(batch, time, 1, N)``; grouped input unchanged."""
    return B[:, :, None] if B.ndim == 3 else B
