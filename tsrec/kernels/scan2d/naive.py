"""The cell update of the 2-D scan and the float64 double-loop reference (the specification)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

State = tuple[torch.Tensor, torch.Tensor]


def cell(
    x: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    A: Sequence[torch.Tensor | None],
    BC: Sequence[torch.Tensor],
    h1_time: torch.Tensor,
    h2_time: torch.Tensor,
    h1_var: torch.Tensor,
    h2_var: torch.Tensor,
) -> State:
    """One Roesser update for a set of cells; per-cell inputs broadcast against ``(..., D, N)``.

    ``h*_time`` are the states of the time neighbour ``(t-1, v)``, ``h*_var`` those of the variate
    neighbour ``(t, v-1)``; ``A = (A1, A2, A3, A4)`` with ``A2``/``A3`` possibly None.
    """
    A1, A2, A3, A4 = A
    B1, B2 = BC[0].unsqueeze(-2), BC[1].unsqueeze(-2)
    d1, d2, x = d1.unsqueeze(-1), d2.unsqueeze(-1), x.unsqueeze(-1)
    h1 = torch.exp(d1 * A1) * h1_time + (d1 * x) * B1
    if A2 is not None:
        h1 = h1 + torch.exp(d1 * A2) * h2_time
    h2 = torch.exp(d2 * A4) * h2_var + (d2 * x) * B2
    if A3 is not None:
        h2 = h2 + torch.exp(d2 * A3) * h1_var
    return h1, h2


def read(h1: torch.Tensor, h2: torch.Tensor, C1: torch.Tensor, C2: torch.Tensor) -> torch.Tensor:
    """``y = <C1, h1> + <C2, h2>`` over the state axis, ``C*`` shared by the channels."""
    return (h1 * C1.unsqueeze(-2)).sum(-1) + (h2 * C2.unsqueeze(-2)).sum(-1)


def scan_naive(
    x: torch.Tensor,
    delta1: torch.Tensor,
    delta2: torch.Tensor,
    A: Sequence[torch.Tensor | None],
    BC: Sequence[torch.Tensor],
    init: State | None,
    reverse: bool,
) -> tuple[torch.Tensor, State]:
    """Double loop, time outer and variates inner (in scan order); returns ``y`` and the last states."""
    batch, time, nvar, channels = x.shape
    zero = x.new_zeros(batch, channels, A[0].shape[1])
    order = range(nvar - 1, -1, -1) if reverse else range(nvar)
    prev = [(zero, zero) if init is None else (init[0][:, v], init[1][:, v]) for v in range(nvar)]
    ys = [[None] * nvar for _ in range(time)]
    for t in range(time):
        cur = [None] * nvar
        neighbour = (zero, zero)  # the variate boundary state
        for v in order:
            bc = [m[:, t, v] for m in BC]
            cur[v] = cell(x[:, t, v], delta1[:, t, v], delta2[:, t, v], A, bc, *prev[v], *neighbour)
            ys[t][v] = read(*cur[v], bc[2], bc[3])
            neighbour = cur[v]
        prev = cur
    y = torch.stack([torch.stack(row, dim=1) for row in ys], dim=1)
    final = (torch.stack([p[0] for p in prev], 1), torch.stack([p[1] for p in prev], 1))
    return y, final
