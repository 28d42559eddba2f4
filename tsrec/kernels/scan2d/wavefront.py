"""Anti-diagonal wavefront for the 2-D scan, with a hand-written backward.

Cell ``(t, v)`` depends only on the previous anti-diagonal ``s - 1`` (``s = t + v``). The grid is
skewed once so that diagonal ``s`` is one dense slice, and ``T + V - 1`` steps update a diagonal
each. A diagonal is indexed along the shorter axis (``by_time`` when ``V > T``): rows are then
time steps and ``min(T, V)`` cells wide, so few pad cells are computed.

Backward is the adjoint recurrence, the same wavefront run from the last diagonal back: with
``g = dL/dh`` and ``pre`` the masked update, ``g1(t, v) = C1 dy + a1(t+1, v) g1(t+1, v) +
a3(t, v+1) g2(t, v+1)`` and ``g2(t, v) = C2 dy + a2(t+1, v) g1(t+1, v) + a4(t, v+1) g2(t, v+1)``
(``a_i = exp(delta A_i)``). Only the two state grids are kept from the forward pass; autograd
through the loop would keep about fifteen per-step intermediates instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only, refuse_functorch
from .naive import State, cell, read


def skew(z: torch.Tensor) -> torch.Tensor:
    """``(B, T, V, F) -> (B, T+V-1, V, F)`` with ``out[:, t + v, v] = z[:, t, v]``, zeros elsewhere.

    Each ``(v, time)`` row is padded by ``V`` zeros and the flat buffer is re-read with row length
    ``T + V - 1``: row ``v`` then starts ``v`` places later, i.e. is shifted right by ``v``.
    """
    batch, time, nvar, feat = z.shape
    w = F.pad(z.permute(0, 3, 2, 1), (0, nvar))  # (B, F, V, T+V)
    w = w.reshape(batch, feat, nvar * (time + nvar))[..., : nvar * (time + nvar - 1)]
    return w.reshape(batch, feat, nvar, time + nvar - 1).permute(0, 3, 2, 1)


def unskew(z: torch.Tensor, time: int) -> torch.Tensor:
    """Inverse of :func:`skew`: ``(B, S, V, F) -> (B, time, V, F)``, ``out[:, t, v] = z[:, t + v, v]``."""
    batch, steps, nvar, feat = z.shape
    w = F.pad(z.permute(0, 3, 2, 1).reshape(batch, feat, nvar * steps), (0, nvar))
    return w.reshape(batch, feat, nvar, steps + 1)[..., :time].permute(0, 3, 2, 1)


def scan_wavefront(
    x: torch.Tensor,
    delta1: torch.Tensor,
    delta2: torch.Tensor,
    A: Sequence[torch.Tensor | None],
    BC: Sequence[torch.Tensor],
    init: State | None,
) -> tuple[torch.Tensor, State]:
    """Forward-variate scan of ``(B, T, V, D)`` inputs; returns ``y`` and the states at ``t = T-1``."""
    time, nvar = x.shape[1:3]
    by_time = nvar > time

    def diagonal_major(z: torch.Tensor) -> torch.Tensor:
        # skewed, diagonal axis first and contiguous, so every step reads dense slices
        return skew(z.transpose(1, 2) if by_time else z).transpose(0, 1).contiguous()

    grids = [diagonal_major(t) for t in (x, delta1, delta2, *BC)]
    init = (None, None) if init is None else init
    # cell (T-1, v) sits on diagonal T-1+v, in row T-1 (by time) or row v (by variate)
    steps = torch.arange(nvar, device=x.device) + time - 1
    rows = torch.full_like(steps, time - 1) if by_time else steps - time + 1
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (*grids, *A, *init)
    )
    if needs_grad:
        refuse_functorch("scan2d", *grids, *A, *init)
        y, H1, H2 = _Wavefront.apply(*grids, *A, *init, (time, nvar, by_time))
        final = (H1[steps, :, rows].transpose(0, 1), H2[steps, :, rows].transpose(0, 1))
    else:  # inference: keep only the last states of each row, not the two state grids
        y, final = _sweep(*grids, *A, *init, (time, nvar, by_time), store=False)
        row_of = [time - 1] * nvar if by_time else range(nvar)  # `rows` as ints: no value read (meta)
        final = tuple(torch.stack([h[:, r] for h, r in zip(f, row_of)], 1) for f in final)
    y = unskew(y.transpose(0, 1), nvar if by_time else time)
    # a contiguous y, as the sweep path returns: elementwise ops and their backward after the
    # scan run slower on the permuted view unskew leaves
    return (y.transpose(1, 2) if by_time else y).contiguous(), final


def _sweep(x, d1, d2, B1, B2, C1, C2, A1, A2, A3, A4, init1, init2, dims, store):
    """The forward loop over diagonals (no autograd).

    Returns ``y`` and either the full state grids ``(H1, H2)``, ``(S, B, R, D, N)`` each
    (``store``), or the states of the diagonals ``T-1 .. S-1`` that hold the last time step.
    """
    time, nvar, by_time = dims
    steps, batch, rows, channels = x.shape
    valid = _valid(steps, rows, nvar if by_time else time, x)
    h1 = h2 = x.new_zeros(batch, rows, channels, A1.shape[1])
    y = torch.empty_like(x)
    H1, H2 = (x.new_empty(steps, *h1.shape), x.new_empty(steps, *h1.shape)) if store else ([], [])
    for s in range(steps):
        near = _neighbours(h1, h2, s, by_time, (init1, init2))
        h1, h2 = cell(x[s], d1[s], d2[s], (A1, A2, A3, A4), (B1[s], B2[s]), *near)
        # zero the pads: cells before the grid stay empty, cells past it cannot overflow
        h1, h2 = h1 * valid[s], h2 * valid[s]
        y[s] = read(h1, h2, C1[s], C2[s])
        if store:
            H1[s], H2[s] = h1, h2
        elif s >= time - 1:
            H1.append(h1)
            H2.append(h2)
    return y, (H1, H2)


def _valid(steps: int, rows: int, length: int, like: torch.Tensor) -> torch.Tensor:
    """``(S, 1, rows, 1, 1)`` mask of real cells: the other coordinate ``s - r`` lies in the grid."""
    other = torch.arange(steps, device=like.device).unsqueeze(1) - torch.arange(rows, device=like.device)
    return ((other >= 0) & (other < length)).to(like.dtype).view(steps, 1, rows, 1, 1)


def _neighbours(h1, h2, s, by_time, init) -> tuple[torch.Tensor, ...]:
    """States of the time neighbour ``(t-1, v)`` and the variate neighbour ``(t, v-1)`` per row.

    Both sat on the previous diagonal: one row up for the neighbour along the row axis, in the
    same row for the other. The caller's ``t = -1`` state enters at the first cell of each row
    of the time axis.
    """
    boundary = init[0] is not None and s < init[0].shape[1]
    if by_time:
        first = (init[0][:, s], init[1][:, s]) if boundary else (None, None)
        return _shift(h1, first[0]), _shift(h2, first[1]), h1, h2
    if boundary:
        # row v = s holds the (masked, zero) pad cell (t=-1, v); the boundary state goes there
        at_s = torch.zeros_like(h1[:1, :, :1, :1])
        at_s[:, s] = 1.0
        h1, h2 = h1 + at_s * init[0], h2 + at_s * init[1]
    return h1, h2, _shift(h1), _shift(h2)


def _shift(h: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
    """Move every row down by one (``out[:, r] = h[:, r-1]``); row 0 gets ``first`` or zeros."""
    if first is None:
        return F.pad(h, (0, 0, 0, 0, 1, 0))[:, :-1]
    return torch.cat([first.unsqueeze(1), h[:, :-1]], dim=1)


def _unshift(g: torch.Tensor) -> torch.Tensor:
    """Adjoint of :func:`_shift`: ``out[:, r] = g[:, r+1]``, zero in the last row."""
    return F.pad(g[:, 1:], (0, 0, 0, 0, 0, 1))


class _Wavefront(HandWrittenBackward):
    """Inputs diagonal-major: ``x, d1, d2`` ``(S, B, R, D)``; ``B1..C2`` ``(S, B, R, N)``."""

    @staticmethod
    def forward(ctx, x, d1, d2, B1, B2, C1, C2, A1, A2, A3, A4, init1, init2, dims):
        y, (H1, H2) = _sweep(x, d1, d2, B1, B2, C1, C2, A1, A2, A3, A4, init1, init2, dims, store=True)
        ctx.save_for_backward(x, d1, d2, B1, B2, C1, C2, A1, A2, A3, A4, init1, init2, H1, H2)
        ctx.by_time = dims[2]
        ctx.set_materialize_grads(False)
        return y, H1, H2

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy, gH1, gH2):
        saved = ctx.saved_tensors
        x, d1, d2, B1, B2, C1, C2 = saved[:7]
        A, init, (H1, H2) = saved[7:11], saved[11:13], saved[13:]
        grads = _Grads(x, A, init)
        valid = _valid(x.shape[0], x.shape[2], H1.shape[0] - x.shape[2] + 1, x)
        G1 = G2 = torch.zeros_like(H1[0])
        zero = torch.zeros_like(H1[0])
        for s in range(x.shape[0] - 1, -1, -1):
            g1, g2 = _direct_grads(s, G1, G2, gy, gH1, gH2, C1, C2)
            g1, g2 = g1 * valid[s], g2 * valid[s]
            prev = (H1[s - 1], H2[s - 1]) if s > 0 else (zero, zero)
            near = _neighbours(*prev, s, ctx.by_time, init)
            G1, G2 = grads.step(s, g1, g2, near, (x[s], d1[s], d2[s], B1[s], B2[s]), ctx.by_time)
            if gy is not None:
                grads.dC1[s] = (gy[s].unsqueeze(-1) * H1[s]).sum(-2)
                grads.dC2[s] = (gy[s].unsqueeze(-1) * H2[s]).sum(-2)
        return (*grads.result(), None)


def _direct_grads(s, G1, G2, gy, gH1, gH2, C1, C2) -> State:
    """Gradient reaching the states of diagonal ``s``: carried + through ``y`` + from outputs."""
    g1, g2 = G1, G2
    if gy is not None:
        g1 = g1 + gy[s].unsqueeze(-1) * C1[s].unsqueeze(-2)
        g2 = g2 + gy[s].unsqueeze(-1) * C2[s].unsqueeze(-2)
    if gH1 is not None:
        g1 = g1 + gH1[s]
    if gH2 is not None:
        g2 = g2 + gH2[s]
    return g1, g2


class _Grads:
    """Gradient buffers of the wavefront inputs, filled one diagonal at a time."""

    def __init__(self, x, A, init):
        self.A, self.init = A, init
        self.dx, self.dd1, self.dd2 = (torch.zeros_like(x) for _ in range(3))
        shape = (*x.shape[:3], A[0].shape[1])
        self.dB1, self.dB2, self.dC1, self.dC2 = (x.new_zeros(shape) for _ in range(4))
        self.dA = [None if a is None else torch.zeros_like(a) for a in A]
        self.dinit = [None if h is None else torch.zeros_like(h) for h in init]

    def step(self, s, g1, g2, near, cell_in, by_time) -> State:
        """Accumulate diagonal ``s``'s input gradients; return the gradient for diagonal ``s-1``."""
        P1, P2, Q1, Q2 = near
        x, d1, d2, B1, B2 = cell_in
        d1e, d2e = d1.unsqueeze(-1), d2.unsqueeze(-1)
        # the transition terms: (gradient, decay exponent step, neighbour state, A index, delta)
        terms = ((g1, d1e, P1, 0), (g1, d1e, P2, 1), (g2, d2e, Q1, 2), (g2, d2e, Q2, 3))
        through, dd = [None] * 4, [0.0, 0.0]
        for g, de, near_state, i in terms:
            if self.A[i] is None:
                continue
            decay = torch.exp(de * self.A[i])
            through[i] = g * decay  # gradient passed on to the neighbour state
            part = through[i] * near_state
            self.dA[i] += (part * de).sum((0, 1))
            dd[i // 2] = dd[i // 2] + (part * self.A[i]).sum(-1)
        gb1, gb2 = (g1 * B1.unsqueeze(-2)).sum(-1), (g2 * B2.unsqueeze(-2)).sum(-1)
        self.dx[s] = d1 * gb1 + d2 * gb2
        self.dd1[s] = dd[0] + x * gb1
        self.dd2[s] = dd[1] + x * gb2
        self.dB1[s] = (g1 * (d1 * x).unsqueeze(-1)).sum(-2)
        self.dB2[s] = (g2 * (d2 * x).unsqueeze(-1)).sum(-2)
        return self._route(s, through, by_time)

    def _route(self, s, through, by_time) -> State:
        """Send the neighbour gradients back to the previous diagonal (and the boundary state)."""
        gP1, gP2, gQ1, gQ2 = through
        zero = torch.zeros_like(gQ2)
        gP2 = zero if gP2 is None else gP2
        gQ1 = zero if gQ1 is None else gQ1
        boundary = self.init[0] is not None and s < self.init[0].shape[1]
        if by_time:  # time neighbour one row up, variate neighbour in the same row
            if boundary:
                self.dinit[0][:, s], self.dinit[1][:, s] = gP1[:, 0], gP2[:, 0]
            return _unshift(gP1) + gQ1, _unshift(gP2) + gQ2
        if boundary:
            self.dinit[0][:, s], self.dinit[1][:, s] = gP1[:, s], gP2[:, s]
        return gP1 + _unshift(gQ1), gP2 + _unshift(gQ2)

    def result(self) -> tuple:
        """Gradients in the order of :meth:`_Wavefront.forward`'s inputs (``dims`` excluded)."""
        return (self.dx, self.dd1, self.dd2, self.dB1, self.dB2, self.dC1, self.dC2, *self.dA, *self.dinit)
