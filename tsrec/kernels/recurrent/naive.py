"""Reference loops for the recurrent ops: the specifications the fast paths are tested against.

Each cell is written out from its equations in float64 (sums of products for the matrix
products, ``1 / (1 + exp(-x))`` for the sigmoid) and shares no code with the torch path, so a
fast path that agrees with it agrees with the equations, not with itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def recurrent_scan_naive(step_fn: Callable, x: torch.Tensor, h0: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """Apply ``step_fn`` step by step, indexing time directly (clear, not fast)."""
    n_steps = x.shape[1]
    out: list = [None] * n_steps
    h = h0
    for t in range(n_steps - 1, -1, -1) if reverse else range(n_steps):
        h = step_fn(x[:, t], h)
        out[t] = h
    return torch.stack(out, dim=1)


def _sigmoid(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + torch.exp(-x))


def _times(v: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """``(v M)_j = sum_i v_i M_ij`` for a batch of rows ``v``."""
    return (v[:, :, None] * M[None]).sum(dim=1)


def rnn_scan_naive(cell: str, x: torch.Tensor, W: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    """The fused cell family (``tanh``: ``h = tanh(x_t + h W)``; ``gated``: ``[p, q] = x_t + h W``,
    ``s = sigmoid(p)``, ``h = (1 - s) h + s tanh(q)``) in float64, cast back to ``x``'s dtype."""
    x64, W64, hidden = x.double(), W.double(), W.shape[0]
    h = x64.new_zeros(x.shape[0], hidden) if h0 is None else h0.double()
    states = []
    for t in range(x.shape[1]):
        pre = x64[:, t] + _times(h, W64)
        if cell == "tanh":
            h = torch.tanh(pre)
        else:
            s = _sigmoid(pre[:, :hidden])
            h = (1.0 - s) * h + s * torch.tanh(pre[:, hidden:])
        states.append(h)
    return torch.stack(states, dim=1).to(x.dtype)


def ltc_scan_naive(terms: torch.Tensor, v0: torch.Tensor, params: Sequence[torch.Tensor], ode_unfolds: int,
                   epsilon: float, elapsed: torch.Tensor | None = None) -> torch.Tensor:
    """The LTC solver of :mod:`tsrec.kernels.recurrent.ltc`, in float64 (inputs already float64).

    ``elapsed`` (batch, time), when given, is each step's length in unit steps: the step's
    capacitance is ``cm_t / elapsed``, in the numerator and in ``leak_den = cm_t + g_leak``.
    """
    cm_t, leak_num, leak_den, w, w_erev, sigma, mu = params
    units = v0.shape[1]
    v, states = v0, []
    for t in range(terms.shape[1]):
        sensory_num, sensory_den = terms[:, t, :units], terms[:, t, units:]
        cm_step = cm_t if elapsed is None else cm_t / elapsed[:, t, None]
        for _ in range(ode_unfolds):
            g = _sigmoid(sigma[None] * (v[:, :, None] - mu[None]))  # g[b, i, j]: synapse i -> j
            numerator = leak_num + sensory_num + cm_step * v + (g * w_erev[None]).sum(dim=1)
            denominator = (leak_den - cm_t) + cm_step + sensory_den + epsilon + (g * w[None]).sum(dim=1)
            v = numerator / denominator
        states.append(v)
    return torch.stack(states, dim=1)


def cfc_scan_naive(xz: torch.Tensor, h0: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """The CfC recurrence of :mod:`tsrec.kernels.recurrent.cfc`, in float64 (inputs already float64)."""
    W_h, W1, b1, W2, b2, Wt, bt = params
    h, states = h0, []
    for t in range(xz.shape[1]):
        z = 1.7159 * torch.tanh(0.666 * (xz[:, t] + _times(h, W_h)))
        f1, f2 = torch.tanh(_times(z, W1) + b1), torch.tanh(_times(z, W2) + b2)
        g = _sigmoid(_times(z, Wt) + bt)
        h = f1 * (1.0 - g) + g * f2
        states.append(h)
    return torch.stack(states, dim=1)
