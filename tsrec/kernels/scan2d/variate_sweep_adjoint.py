"""The variate sweep's backward: the adjoint recurrence, one column at a time from the last back.

With ``a_i = exp(delta A_i)`` and ``g* = dL/dh*`` (every path), the forward recurrences give::

    g1[t, v] = C1 dy[t, v] + a1[t+1, v] g1[t+1, v] + a3[t, v+1] g2[t, v+1]
    g2[t, v] = C2 dy[t, v] + a2[t+1, v] g1[t+1, v] + a4[t, v+1] g2[t, v+1]

(``v+1`` the next column in scan order). ``g1`` of a column needs the next column's ``g2`` only,
so it is one reverse linear scan over time; ``g2`` then follows for every ``t`` at once. Each
term ``a_i h`` contributes ``p_i = g a_i h_neighbour`` to the step's gradient (times ``A_i``, summed
over states) and to ``A_i``'s (times the step, summed over batch and time).
"""

from __future__ import annotations

import torch

from ..linear.torch_impl import adjoint_scan
from .sweep_columns import ColumnInputs, dot_states, variate_decays


def sweep_backward(cols: ColumnInputs, A, init, kept, grads, order) -> tuple:
    """Gradients of ``x, delta1, delta2, B1, B2, C1, C2, A1..A4, init1, init2`` (None for absent ones).

    ``kept = (H1, H2, time decays)`` per column; ``grads = (dy, d final1, d final2)``, zeros for an
    unused output (autograd materialises them); ``order`` the columns in scan order.
    """
    adjoint = _SweepAdjoint(cols, A, init, kept)
    gy, g_final1, g_final2 = grads
    nvar = cols.x.shape[0]
    gy = gy.permute(2, 0, 1, 3).contiguous()
    carry = (None, None)  # gradients into the previous column's h1, h2
    columns = list(order)
    for i in range(nvar - 1, -1, -1):
        v = columns[i]
        finals = (g_final1[:, v], g_final2[:, v])
        carry = adjoint.column(v, columns[i - 1] if i > 0 else None, gy[v], finals, carry)
    return adjoint.result()


class _SweepAdjoint:
    """The saved forward pass and the gradient buffers, filled one column at a time."""

    def __init__(self, cols: ColumnInputs, A, init, kept) -> None:
        self.cols, self.A, self.init = cols, A, init
        self.H1, self.H2, self.time_decays = kept
        self.out = {name: torch.empty_like(t) for name, t in cols._asdict().items()}  # every column fills its own
        self.dA = [None if a is None else torch.zeros_like(a) for a in A]
        self.d_init = [None if h is None else torch.zeros_like(h) for h in init]

    def column(self, v: int, prev: int | None, gy: torch.Tensor, finals, carry) -> tuple:
        """Accumulate column ``v``'s gradients (``prev`` the column before it in scan order, None for
        the first); return the gradients it passes to the states of ``prev``."""
        cols, (a1, a2) = self.cols, self.time_decays[v]
        start1, start2 = (None if h is None else h[:, v] for h in self.init)
        g1 = _time_adjoint(a1, _direct(gy, cols.C1[v], carry[0], finals[0]))
        q1 = g1 * a1
        p1 = _times_previous_step(q1, self.H1[v], start1)
        g2 = _direct(gy, cols.C2[v], carry[1], finals[1])
        p2 = None
        if a2 is not None:
            q2 = g1 * a2
            g2[:, :-1] += q2[:, 1:]  # h2[t] fed h1[t+1]
            p2 = _times_previous_step(q2, self.H2[v], start2)
            if start2 is not None:
                self.d_init[1][:, v] = q2[:, 0]
        if start1 is not None:
            self.d_init[0][:, v] = q1[:, 0]
        p3 = p4 = None
        if prev is not None:
            a3, a4 = variate_decays(cols, v, self.A)
            carry = (None if a3 is None else g2 * a3, g2 * a4)
            p3 = None if a3 is None else carry[0] * self.H1[prev]
            p4 = carry[1] * self.H2[prev]
        _input_grads(cols, v, (g1, g2), (p1, p2, p3, p4), self.A, self.out)
        self.out["C1"][v] = _sum_channels(self.H1[v], gy)
        self.out["C2"][v] = _sum_channels(self.H2[v], gy)
        self._decay_grads(v, (p1, p2, p3, p4))
        return carry

    def _decay_grads(self, v: int, p) -> None:
        """``dA_i += sum over batch and time of p_i times the step``."""
        steps = (self.cols.d1[v], self.cols.d1[v], self.cols.d2[v], self.cols.d2[v])
        for i, (term, step) in enumerate(zip(p, steps)):
            if term is not None:
                self.dA[i] += (term * step.unsqueeze(-1)).sum((0, 1))

    def result(self) -> tuple:
        """The gradients in the order of :func:`sweep_backward`'s docstring, back in (B, T, V, F) layout."""
        ordered = [self.out[n].permute(1, 2, 0, 3).contiguous() for n in ColumnInputs._fields]
        return (*ordered, *self.dA, *self.d_init)


def _input_grads(cols, v, g, p, A, out) -> None:
    """Gradients of column ``v``'s ``x``, steps and ``B``'s from the adjoint states ``g = (g1, g2)``."""
    u, d1, d2 = cols.x[v], cols.d1[v], cols.d2[v]
    through1, through2 = dot_states(g[0], cols.B1[v]), dot_states(g[1], cols.B2[v])
    out["x"][v] = d1 * through1 + d2 * through2
    out["d1"][v] = _decay_step_grad(p[0], p[1], A[0], A[1]) + u * through1
    out["d2"][v] = u * through2
    if p[3] is not None:
        out["d2"][v] += _decay_step_grad(p[3], p[2], A[3], A[2])
    out["B1"][v] = _sum_channels(g[0], d1 * u)
    out["B2"][v] = _sum_channels(g[1], d2 * u)


def _decay_step_grad(p, p_other, A, A_other) -> torch.Tensor:
    """``sum_N (p A + p_other A_other)``: the step's gradient through two decays ``exp(step A)``."""
    s = p * A
    if p_other is not None:
        s.addcmul_(p_other, A_other)
    return s.sum(-1)


def _direct(gy, C, carried, final) -> torch.Tensor:
    """Gradient reaching a column's state from ``y`` (``dy C``), the next column and the final state."""
    g = gy.unsqueeze(-1) * C.unsqueeze(-2)
    if carried is not None:
        g += carried
    g[:, -1] += final
    return g


def _time_adjoint(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``G[t] = g[t] + a[t+1] G[t+1]``: the time state's adjoint, the linear scan's own (B, T, D, N)."""
    batch, time = a.shape[:2]
    return adjoint_scan(a.view(batch, time, -1), g.view(batch, time, -1), False).view_as(g)


def _times_previous_step(q: torch.Tensor, h: torch.Tensor, start: torch.Tensor | None) -> torch.Tensor:
    """``q[t] * h[t-1]``, with ``start`` (or zero) before the first step."""
    out = torch.empty_like(q)
    torch.mul(q[:, 1:], h[:, :-1], out=out[:, 1:])
    if start is None:
        out[:, 0] = 0.0
    else:
        torch.mul(q[:, 0], start, out=out[:, 0])
    return out


def _sum_channels(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``sum_D h w``: (B, T, D, N) with (B, T, D) -> (B, T, N)."""
    return (h * w.unsqueeze(-1)).sum(-2)

