"""Variate sweep for the 2-D scan: one variate at a time, each a 1-D linear scan over time.

Given the whole column ``v - 1`` (every time step), the variate state of column ``v`` needs no
recurrence along time: ``h2[t, v] = a3 h1[t, v-1] + a4 h2[t, v-1] + delta2 B2 x`` for all ``t`` at
once. The time state is then a first-order linear recurrence with a known input,
``h1[t, v] = a1 h1[t-1, v] + (a2 h2[t-1, v] + delta1 B1 x)``, run by the linear scan's loop (one
fused op per step, or a chunked loop of about ``2 sqrt(T)`` steps for narrow inputs). ``V`` such
sweeps replace the wavefront's ``T + V - 1`` diagonal steps of a dozen ops each, which pays up to a
few hundred variates per batch row at 96 steps, and more at longer series (the measured crossover,
``from tsrec.kernels.scan2d import sweep_limit``).

Backward is written by hand (:mod:`.variate_sweep_adjoint`): the same sweep from the last column
back, each column's time adjoint one reverse linear scan. It keeps each column's two states and
its two time decays ``exp(delta1 A1)``, ``exp(delta1 A2)`` (which the adjoint scan reads) and
recomputes the variate decays: 4.6 state-sized grids a column with the inputs, where autograd
through the column operations kept 6.5. It is faster too, since autograd's backward of each product
broadcast along the short channel or state axis is a full-grid product and a reduction: ETTh1's
shape (batch 32, 96 steps, 7 variates) took 76 ms forward+backward on one core against autograd's
95 ms, old and new code interleaved in one run; one variate about the same. Recomputing the time
decays too (2.6 grids) made univariate series 1.3 times slower than autograd.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only, refuse_functorch
from ..linear.torch_impl import scan
from .naive import State
from .sweep_columns import ColumnInputs, dot_states, sweep_order, time_decays, variate_decays
from .variate_sweep_adjoint import sweep_backward


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
    init1, init2 = (None, None) if init is None else init
    inputs = (x, delta1, delta2, *BC, *A, init1, init2)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
        refuse_functorch("scan2d", *inputs)
        y, final1, final2 = _VariateSweep.apply(*inputs, reverse)
        return y, (final1, final2)
    y, final, _ = _sweep(ColumnInputs.of(x, delta1, delta2, BC), A, (init1, init2), reverse, store=False)
    return y, final


def _sweep(cols: ColumnInputs, A, init, reverse: bool, store: bool) -> tuple[torch.Tensor, State, dict]:
    """The forward sweep (no autograd); with ``store``, also every column's states and time decays."""
    nvar, batch, time, channels = cols.x.shape
    # (B, T, V, D) from the start: a permuted (V, B, T, D) buffer counts as contiguous when V == 1, so
    # .contiguous() would hand out a view of it, which a caller may not then change in place
    y = cols.x.new_empty(batch, time, nvar, channels)
    kept = {"h1": [None] * nvar, "h2": [None] * nvar, "decays": [None] * nvar}
    finals1, finals2 = [None] * nvar, [None] * nvar
    prev = None
    for v in sweep_order(nvar, reverse):
        start = tuple(None if h is None else h[:, v] for h in init)
        h1, h2, decays = _column(cols, v, A, prev, start)
        y[:, :, v] = dot_states(h1, cols.C1[v]) + dot_states(h2, cols.C2[v])
        finals1[v], finals2[v] = h1[:, -1], h2[:, -1]
        if store:
            kept["h1"][v], kept["h2"][v], kept["decays"][v] = h1, h2, decays
        prev = (h1, h2)
    final = (torch.stack(finals1, dim=1), torch.stack(finals2, dim=1))
    return y, final, kept


def _column(cols: ColumnInputs, v: int, A, prev: State | None, start) -> tuple:
    """States ``h1``, ``h2`` of column ``v`` (B, T, D, N) and its time decays; ``prev`` holds the previous
    column's states (None at the variate boundary), ``start`` those at ``t = -1`` (None for zero)."""
    u = cols.x[v].unsqueeze(-1)
    a1, a2 = time_decays(cols, v, A)
    a3, a4 = (None, None) if prev is None else variate_decays(cols, v, A)
    h2 = (cols.d2[v].unsqueeze(-1) * u) * cols.B2[v].unsqueeze(-2)
    if a4 is not None:
        h2.addcmul_(a4, prev[1])
    if a3 is not None:
        h2.addcmul_(a3, prev[0])
    drive = (cols.d1[v].unsqueeze(-1) * u) * cols.B1[v].unsqueeze(-2)
    if a2 is not None:  # the time neighbour's variate state: views of h2, no shifted copy
        drive[:, 1:].addcmul_(a2[:, 1:], h2[:, :-1])
        if start[1] is not None:
            drive[:, 0].addcmul_(a2[:, 0], start[1])
    batch, time = u.shape[:2]
    h0 = None if start[0] is None else start[0].reshape(batch, -1)
    h1 = scan(a1.view(batch, time, -1), drive.view(batch, time, -1), h0, False).view_as(drive)
    return h1, h2, (a1, a2)


class _VariateSweep(HandWrittenBackward):
    """The sweep with its hand-written adjoint; keeps each column's two states and time decays."""

    @staticmethod
    def forward(ctx, x, d1, d2, B1, B2, C1, C2, A1, A2, A3, A4, init1, init2, reverse):  # noqa: D102
        cols = ColumnInputs.of(x, d1, d2, (B1, B2, C1, C2))
        A = (A1, A2, A3, A4)
        y, (final1, final2), kept = _sweep(cols, A, (init1, init2), reverse, store=True)
        decays = [a for pair in kept["decays"] for a in pair]
        ctx.save_for_backward(*cols, *A, init1, init2, *kept["h1"], *kept["h2"], *decays)
        ctx.reverse, ctx.nvar = reverse, x.shape[2]
        return y, final1, final2

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy, g_final1, g_final2):  # noqa: D102 - autograd protocol
        saved, nvar = ctx.saved_tensors, ctx.nvar
        cols, A, init = ColumnInputs(*saved[:7]), saved[7:11], saved[11:13]
        H1, H2 = saved[13:13 + nvar], saved[13 + nvar:13 + 2 * nvar]
        decays = saved[13 + 2 * nvar:]
        kept = (H1, H2, [decays[2 * v:2 * v + 2] for v in range(nvar)])
        order = sweep_order(nvar, ctx.reverse)
        return (*sweep_backward(cols, A, init, kept, (gy, g_final1, g_final2), order), None)
