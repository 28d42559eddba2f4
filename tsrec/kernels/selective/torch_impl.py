"""Streaming selective scan for CPU (and any device without Triton), with a hand-written backward.

The state ``h`` is held as ``(batch, G, N, D/G)``, the channels last: every product then
broadcasts whole rows of channels and the sums over ``N`` add rows (with ``N`` last, at
S-Mamba's ``N = 2`` and 256 channels, a step's products and reductions took 1.7-4.7x as long).
Each step's ``exp(delta*A)`` and ``delta*u*B`` are built on the fly, so no ``(batch, time, D, N)``
tensor ever exists. Forward keeps only the states at chunk starts; backward recomputes one chunk
of states at a time from them and runs the adjoint recurrence::

    g_t   = gy_t C_t + exp(delta_{t+1} A) g_{t+1}         (adjoint of h_t)
    s_t   = g_t * h_{t-1} * exp(delta_t A)                (gradient of delta_t A)
    dC_t  = sum_d gy_t h_t,   dB_t = sum_d g_t delta_t u_t,   d(delta u)_t = sum_n g_t B_t
    ddelta_t += sum_n s_t A,  dA += sum_{b,t} s_t delta_t
"""

from __future__ import annotations

import math

import torch

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only, refuse_functorch
from .common import finish_output, grouped, widen_inputs


def _chunk_len(n_steps: int) -> int:
    """About sqrt(T): memory is (T/K + K) states, recompute cost one extra forward."""
    return max(8, 2 ** round(math.log2(math.sqrt(n_steps))))


def _step(h, delta_t, du_t, A_t, B_t):
    """One state update on ``(batch, G, N, Dg)`` states (``A_t`` is ``(G, N, Dg)``); returns the new
    state and the decay used (backward needs it)."""
    decay = torch.exp(delta_t[:, :, None, :] * A_t)
    return torch.addcmul(du_t[:, :, None, :] * B_t[..., None], decay, h), decay


def _forward(u, delta, A, B, C, h0, chunk):
    """Run the scan; return outputs, final state and the states at chunk starts (as ``(batch, G, N, Dg)``)."""
    batch, _, groups, per_group = u.shape
    A_t = A.transpose(-1, -2).contiguous()
    du_s, delta_s = (delta * u).unbind(1), delta.unbind(1)
    B_s, C_s = B.unbind(1), C.unbind(1)
    h = u.new_zeros(batch, groups, A.shape[-1], per_group) if h0 is None else h0.transpose(-1, -2).contiguous()
    ys, starts = [], []
    for t in range(len(delta_s)):
        if t % chunk == 0:
            starts.append(h)
        h, _ = _step(h, delta_s[t], du_s[t], A_t, B_s[t])
        ys.append(torch.matmul(C_s[t][:, :, None, :], h).squeeze(-2))
    return torch.stack(ys, dim=1), h.transpose(-1, -2).contiguous(), torch.stack(starts)


def _backward(u, delta, A, B, C, starts, gy, ghT, chunk, needs):
    """Adjoint pass; returns gradients for (u, delta, A, B, C, h0), None for those ``needs`` (autograd's
    ``needs_input_grad``) does not ask for: each costs a product per step, the whole backward for u alone."""
    n_steps = delta.shape[1]
    want_du, want_s = needs[0] or needs[1], needs[1] or needs[2]
    A_t = A.transpose(-1, -2).contiguous()
    du_s, delta_s = (delta * u).unbind(1), delta.unbind(1)
    B_s, C_s, gy_s = B.unbind(1), C.unbind(1), gy.unbind(1)
    g = torch.zeros_like(starts[0]) if ghT is None else ghT.transpose(-1, -2).contiguous()
    gA = torch.zeros_like(starts[0])
    gC, gB, gdu, gdl = ([None] * n_steps for _ in range(4))
    for c in range(len(starts) - 1, -1, -1):
        t0, t1 = c * chunk, min(n_steps, (c + 1) * chunk)
        hs, decays = [starts[c]], []
        for t in range(t0, t1):  # recompute this chunk's states
            h, decay = _step(hs[-1], delta_s[t], du_s[t], A_t, B_s[t])
            hs.append(h)
            decays.append(decay)
        for t in range(t1 - 1, t0 - 1, -1):
            k = t - t0
            g = torch.addcmul(g, gy_s[t][:, :, None, :], C_s[t][..., None])
            if needs[4]:
                gC[t] = (hs[k + 1] * gy_s[t][:, :, None, :]).sum(-1)  # 3x faster than matmul's sum over Dg
            if needs[3]:
                gB[t] = (g * du_s[t][:, :, None, :]).sum(-1)
            if want_du:
                gdu[t] = torch.matmul(B_s[t][:, :, None, :], g).squeeze(-2)
            if want_s:
                s = g * hs[k] * decays[k]
                gdl[t] = (s * A_t).sum(-2)
                gA.addcmul_(s, delta_s[t][:, :, None, :])
            g = g * decays[k]
    gdu_all = torch.stack(gdu, dim=1) if want_du else None
    return (
        gdu_all * delta if needs[0] else None,
        torch.stack(gdl, dim=1) + gdu_all * u if needs[1] else None,
        gA.sum(0).transpose(-1, -2) if needs[2] else None,
        torch.stack(gB, 1) if needs[3] else None,
        torch.stack(gC, 1) if needs[4] else None,
        g.transpose(-1, -2) if needs[5] else None,
    )


class _SelectiveScanFn(HandWrittenBackward):
    """Core recurrence on grouped views: u, delta ``(b,T,G,Dg)``, A ``(G,Dg,N)``, B, C ``(b,T,G,N)``."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, h0):  # noqa: D102 - autograd protocol
        chunk = _chunk_len(u.shape[1])
        y, hT, starts = _forward(u, delta, A, B, C, h0, chunk)
        ctx.save_for_backward(u, delta, A, B, C, starts)
        ctx.chunk = chunk
        return y, hT

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy, ghT):  # noqa: D102 - autograd protocol
        u, delta, A, B, C, starts = ctx.saved_tensors
        if gy is None:
            gy = torch.zeros_like(u)
        return _backward(u, delta, A, B, C, starts, gy, ghT, ctx.chunk, ctx.needs_input_grad)


def selective_scan_torch(
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
    """Selective scan with PyTorch ops; arguments as in :func:`tsrec.kernels.selective_scan`.

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, D)`` in ``u``'s dtype.
    h_T : torch.Tensor
        ``(batch, D, N)`` final state in the accumulation dtype.
    """
    u_w, delta_w, A_w, B_w, C_w, D_w, z_w, h0 = widen_inputs(
        u, delta, A, B, C, D, z, delta_bias, delta_softplus, initial_state
    )
    B_w, C_w = grouped(B_w), grouped(C_w)
    batch, n_steps, dim = u.shape
    groups, n_state = B_w.shape[2], A.shape[1]
    split = (batch, n_steps, groups, dim // groups)
    h0 = None if h0 is None else h0.reshape(batch, groups, dim // groups, n_state)
    refuse_functorch("selective_scan", u_w, delta_w, A_w, B_w, C_w, h0)
    y, hT = _SelectiveScanFn.apply(
        u_w.reshape(split), delta_w.reshape(split), A_w.reshape(groups, dim // groups, n_state), B_w, C_w, h0
    )
    y = finish_output(y.reshape(batch, n_steps, dim), u_w, D_w, z_w)
    return y.to(u.dtype), hT.reshape(batch, dim, n_state)
