"""Variate sweep for the 2-D scan: one variate at a time, each a 1-D linear scan over time.

Given the whole column ``v - 1`` (every time step), the variate state of column ``v`` needs no
recurrence along time: ``h2[t, v] = a3 h1[t, v-1] + a4 h2[t, v-1] + delta2 B2 x`` for all ``t`` at
once. The time state is then a first-order linear recurrence with a known input,
``h1[t, v] = a1 h1[t-1, v] + (a2 h2[t-1, v] + delta1 B1 x)``, which
:func:`tsrec.kernels.linear_scan`'s torch path runs with one fused op per step (a chunked loop of
about ``2 sqrt(T)`` steps for narrow inputs) and its reverse-scan backward. ``V`` such sweeps
replace the wavefront's ``T + V - 1`` diagonal steps of a dozen ops each, which pays up to a few
hundred variates (the measured crossover, ``from tsrec.kernels.scan2d import SWEEP_MAX_VARIATES``).
Gradients come from autograd through these column operations and the linear scan's own backward.

What backward keeps is most of a Chimera training step's memory: a (batch, time, channels, N)
grid per kept tensor and variate. The time neighbour's term multiplies views of ``h2``, which is
kept anyway, instead of a shifted copy (6.5 grids a column where there were 7.6, no slower), and a
reversed sweep walks the columns backwards instead of scanning flipped copies of the inputs.
Recomputing the variate terms' decays in backward would keep 4.8, but made a step 8% slower.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..linear.torch_impl import linear_scan_torch
from .naive import State, read


def scan_variate_sweep(
    x: torch.Tensor,
    delta1: torch.Tensor,
    delta2: torch.Tensor,
    A: Sequence[torch.Tensor | None],
    BC: Sequence[torch.Tensor],
    init: State | None,
    reverse: bool = False,
) -> tuple[torch.Tensor, State]:
    """Scan of ``(B, T, V, D)`` inputs, from the last variate to the first when ``reverse``;
    returns ``y`` and the states at ``t = T-1``."""
    A1, A2, A3, A4 = A
    batch, time, nvar, channels = x.shape
    n_state = A1.shape[1]
    # each input split into its columns by one unbind: indexing a column inside the loop would
    # make the backward add a zero-filled gradient of the whole input per use (O(V^2) traffic)
    d1s, d2s, us = (t.unsqueeze(-1).unbind(2) for t in (delta1, delta2, x))
    B1s, B2s = (m.unsqueeze(-2).unbind(2) for m in BC[:2])  # (B, T, 1, N) each
    C1s, C2s = BC[2].unbind(2), BC[3].unbind(2)
    init1, init2 = (None, None) if init is None else (init[0].unbind(1), init[1].unbind(1))
    h1_prev = h2_prev = None  # column v - 1; zero at the variate boundary
    ys, finals1, finals2 = [None] * nvar, [None] * nvar, [None] * nvar
    for v in range(nvar - 1, -1, -1) if reverse else range(nvar):
        d1, d2, u = d1s[v], d2s[v], us[v]
        h2 = (d2 * u) * B2s[v] + _decayed(d2, A4, h2_prev)
        if A3 is not None:
            h2 = h2 + _decayed(d2, A3, h1_prev)
        gate = torch.exp(d1 * A1)
        drive = (d1 * u) * B1s[v]
        if A2 is not None:
            drive = drive + _from_time_neighbour(d1, A2, h2, None if init2 is None else init2[v])
        start = None if init1 is None else init1[v].reshape(batch, channels * n_state)
        h1 = linear_scan_torch(gate.reshape(batch, time, -1), drive.reshape(batch, time, -1), start, False)
        h1 = h1.reshape(batch, time, channels, n_state)
        ys[v] = read(h1, h2, C1s[v], C2s[v])
        finals1[v], finals2[v] = h1[:, -1], h2[:, -1]
        h1_prev, h2_prev = h1, h2
    y = torch.stack(ys, dim=2)
    if nvar == 1:  # A3 and A4 act only across variates; keep them in the graph (zero gradient, as naive)
        y = y + sum(a.sum() for a in (A3, A4) if a is not None) * 0
    return y, (torch.stack(finals1, dim=1), torch.stack(finals2, dim=1))


def _decayed(step: torch.Tensor, A: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor | float:
    """``exp(step A) * state``, or 0 at the boundary (no previous column)."""
    return 0.0 if state is None else torch.exp(step * A) * state


def _from_time_neighbour(step: torch.Tensor, A: torch.Tensor, h: torch.Tensor, first: torch.Tensor | None
                         ) -> torch.Tensor:
    """``exp(step[t] A) * h[t-1]``; at ``t = 0`` the state before it is ``first`` (or zero).

    Multiplies views of ``h``, which backward keeps anyway: a shifted copy of it would be kept too.
    """
    later = torch.exp(step[:, 1:] * A) * h[:, :-1]
    head = torch.zeros_like(h[:, :1]) if first is None else torch.exp(step[:, :1] * A) * first.unsqueeze(1)
    return torch.cat([head, later], dim=1)
