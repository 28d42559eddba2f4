"""Fused Triton kernels for :func:`tsrec.kernels.recurrent.ltc.ltc_scan` (GPU; CPU interpreter in tests).

Forward: one program owns ``BB`` batch rows and walks the whole sequence with the state and the
four ``U x U`` synapse tiles in registers; the gate tile is ``(BB, U, U)``. It writes the state
after every input step and, for the backward, the state entering every solver update.

Backward (adjoint of one update ``v' = N / D``, with ``a = dL/dv'``)::

    dN = a / D,   dD = -a v' / D,   dg_ij = dN_j w_erev_ij + dD_j w_ij,   dp = dg g (1 - g)
    dL/dv_i = dN_i cm_i + sum_j dp_ij sigma_ij
    d sigma_ij += dp_ij (v_i - mu_ij),  d mu_ij -= dp_ij sigma_ij,
    d w_erev_ij += dN_j g_ij,  d w_ij += dD_j g_ij,  d cm_j += dN_j v_j,
    d num_j += dN_j,  d den_j += dD_j        (num, den: the input step's terms and the leaks)

walked over steps and updates in reverse. Parameter gradients are summed per program in
registers and added up in torch (no atomics: deterministic).

With steps of different lengths (``HAS_RATE``: ``rate = 1 / elapsed`` per batch row and step),
a step's capacitance is ``cm r``: in the updates' ``cm v`` and in the denominator constant,
``ld + cm (r - 1)``; then ``dL/dv_i`` takes ``dN_i cm_i r``, ``d cm_j`` takes ``dN_j v_j r`` per
update and ``d den_j (r - 1)`` per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._checks import compute_dtype
from .._autograd import HandWrittenBackward, first_order_only
from .._launch import cdiv, next_power_of_2, on_device_of

GATE_TILE = 4096  # elements of one (BB, U, U) tile at most: BB = GATE_TILE // U_pad**2, capped (_blocks)
MAX_ROWS = 64  # batch rows a program takes at most: U_pad >= 8 takes 64 anyway, and spills nothing


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _load_params(cm_ptr, ln_ptr, ld_ptr, w_ptr, we_ptr, s_ptr, m_ptr, U, BU: tl.constexpr):
    j = tl.arange(0, BU)
    ok = j < U
    tile = j[:, None] * U + j[None, :]
    ok2 = ok[:, None] & ok[None, :]
    cm = tl.load(cm_ptr + j, mask=ok, other=0.0)
    ln = tl.load(ln_ptr + j, mask=ok, other=0.0)
    ld = tl.load(ld_ptr + j, mask=ok, other=1.0)  # padded neurons: a non-zero denominator
    w = tl.load(w_ptr + tile, mask=ok2, other=0.0)
    we = tl.load(we_ptr + tile, mask=ok2, other=0.0)
    s = tl.load(s_ptr + tile, mask=ok2, other=0.0)
    m = tl.load(m_ptr + tile, mask=ok2, other=0.0)
    return cm, ln, ld, w, we, s, m


@triton.jit
def _step_rate(rate_ptr, rows, B, T, t, cm, den, HAS_RATE: tl.constexpr):
    """The step's capacitance ``(BB, BU)``, its rates ``(BB, 1)`` and its denominator constant."""
    if HAS_RATE:
        r = tl.load(rate_ptr + rows * T + t, mask=rows < B, other=1.0)[:, None]
        return cm[None, :] * r, r, den + cm[None, :] * (r - 1.0)
    else:
        return cm[None, :], 1.0, den


@triton.jit
def _fwd_kernel(terms_ptr, v0_ptr, rate_ptr, cm_ptr, ln_ptr, ld_ptr, w_ptr, we_ptr, s_ptr, m_ptr, out_ptr, vk_ptr,
                B, T, U, eps, UNFOLDS: tl.constexpr, BB: tl.constexpr, BU: tl.constexpr, HAS_RATE: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BB + tl.arange(0, BB).to(tl.int64)
    j = tl.arange(0, BU).to(tl.int64)
    m2 = (rows < B)[:, None] & (j < U)[None, :]
    cm, ln, ld, w, we, s, m = _load_params(cm_ptr, ln_ptr, ld_ptr, w_ptr, we_ptr, s_ptr, m_ptr, U, BU)
    v = tl.load(v0_ptr + rows[:, None] * U + j[None, :], mask=m2, other=0.0)
    for t in range(T):
        trow = terms_ptr + (rows[:, None] * T + t) * (2 * U) + j[None, :]
        num = ln[None, :] + tl.load(trow, mask=m2, other=0.0)
        den = ld[None, :] + tl.load(trow + U, mask=m2, other=0.0) + eps
        cm_s, _, den = _step_rate(rate_ptr, rows, B, T, t, cm, den, HAS_RATE)
        for k in tl.static_range(UNFOLDS):
            tl.store(vk_ptr + ((rows[:, None] * T + t) * UNFOLDS + k) * U + j[None, :], v, mask=m2)
            g = _sigmoid(s[None, :, :] * (v[:, :, None] - m[None, :, :]))
            v = (num + tl.sum(g * we[None, :, :], axis=1) + cm_s * v) / (den + tl.sum(g * w[None, :, :], axis=1))
        tl.store(out_ptr + (rows[:, None] * T + t) * U + j[None, :], v, mask=m2)


@triton.jit
def _bwd_kernel(terms_ptr, rate_ptr, cm_ptr, ln_ptr, ld_ptr, w_ptr, we_ptr, s_ptr, m_ptr, vk_ptr, gy_ptr,
                gterms_ptr, gv0_ptr, gvec_ptr, gmat_ptr,
                B, T, U, eps, UNFOLDS: tl.constexpr, BB: tl.constexpr, BU: tl.constexpr, HAS_RATE: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    rows = pid * BB + tl.arange(0, BB).to(tl.int64)
    j = tl.arange(0, BU).to(tl.int64)
    m2 = (rows < B)[:, None] & (j < U)[None, :]
    cm, ln, ld, w, we, s, m = _load_params(cm_ptr, ln_ptr, ld_ptr, w_ptr, we_ptr, s_ptr, m_ptr, U, BU)
    a = tl.zeros([BB, BU], dtype=w.dtype)  # adjoint of the state
    g_cm = tl.zeros([BU], dtype=w.dtype)
    g_num = tl.zeros([BU], dtype=w.dtype)
    g_den = tl.zeros([BU], dtype=w.dtype)
    g_s = tl.zeros([BU, BU], dtype=w.dtype)
    g_m = tl.zeros([BU, BU], dtype=w.dtype)
    g_we = tl.zeros([BU, BU], dtype=w.dtype)
    g_w = tl.zeros([BU, BU], dtype=w.dtype)
    for i in range(T):
        t = T - 1 - i
        trow = (rows[:, None] * T + t) * (2 * U) + j[None, :]
        num = ln[None, :] + tl.load(terms_ptr + trow, mask=m2, other=0.0)
        den = ld[None, :] + tl.load(terms_ptr + trow + U, mask=m2, other=0.0) + eps
        cm_s, r, den = _step_rate(rate_ptr, rows, B, T, t, cm, den, HAS_RATE)
        a += tl.load(gy_ptr + (rows[:, None] * T + t) * U + j[None, :], mask=m2, other=0.0)
        d_num = tl.zeros([BB, BU], dtype=w.dtype)
        d_den = tl.zeros([BB, BU], dtype=w.dtype)
        for kk in range(UNFOLDS):
            k = UNFOLDS - 1 - kk
            v = tl.load(vk_ptr + ((rows[:, None] * T + t) * UNFOLDS + k) * U + j[None, :], mask=m2, other=0.0)
            diff = v[:, :, None] - m[None, :, :]
            g = _sigmoid(s[None, :, :] * diff)
            n_tot = num + tl.sum(g * we[None, :, :], axis=1) + cm_s * v
            d_tot = den + tl.sum(g * w[None, :, :], axis=1)
            dn = a / d_tot
            dd = -a * n_tot / (d_tot * d_tot)
            dp = (dn[:, None, :] * we[None, :, :] + dd[:, None, :] * w[None, :, :]) * g * (1.0 - g)
            a = dn * cm_s + tl.sum(dp * s[None, :, :], axis=2)
            g_cm += tl.sum(dn * v * r, axis=0)
            g_s += tl.sum(dp * diff, axis=0)
            g_m -= tl.sum(dp * s[None, :, :], axis=0)
            g_we += tl.sum(dn[:, None, :] * g, axis=0)
            g_w += tl.sum(dd[:, None, :] * g, axis=0)
            d_num += dn
            d_den += dd
        tl.store(gterms_ptr + trow, d_num, mask=m2)
        tl.store(gterms_ptr + trow + U, d_den, mask=m2)
        g_num += tl.sum(d_num, axis=0)
        g_den += tl.sum(d_den, axis=0)
        if HAS_RATE:
            g_cm += tl.sum(d_den * (r - 1.0), axis=0)
    tl.store(gv0_ptr + rows[:, None] * U + j[None, :], a, mask=m2)
    ok = j < U
    vec = gvec_ptr + pid * 3 * U + j
    tl.store(vec, g_cm, mask=ok)
    tl.store(vec + U, g_num, mask=ok)
    tl.store(vec + 2 * U, g_den, mask=ok)
    tile = j[:, None] * U + j[None, :]
    ok2 = ok[:, None] & ok[None, :]
    mat = gmat_ptr + pid * 4 * U * U + tile
    tl.store(mat, g_w, mask=ok2)
    tl.store(mat + U * U, g_we, mask=ok2)
    tl.store(mat + 2 * U * U, g_s, mask=ok2)
    tl.store(mat + 3 * U * U, g_m, mask=ok2)


def _blocks(units: int, batch: int) -> tuple[int, int]:
    """Padded U and batch rows per program: one gate tile holds about GATE_TILE values, but no more
    than MAX_ROWS rows (4096 rows of one unit spilled 1 KB of registers a thread on sm_90) and no
    more than the batch needs (3 rows of 2 units computed 1024, 1021 of them masked, every step)."""
    bu = next_power_of_2(units)
    return bu, max(1, min(GATE_TILE // (bu * bu), MAX_ROWS, next_power_of_2(batch)))


def _warps(bu: int) -> int:
    """8 warps for 64 units: the adjoint's four (U, U) gradient tiles then fit in registers."""
    return 8 if bu >= 64 else 4


class _LtcScanTritonFn(HandWrittenBackward):
    @staticmethod
    def forward(ctx, terms, v0, cm, ln, ld, w, we, s, m, unfolds, eps, rates):  # noqa: D102 - autograd protocol
        (batch, T, _), units = terms.shape, v0.shape[1]
        bu, bb = _blocks(units, batch)
        out = terms.new_empty(batch, T, units)
        vk = terms.new_empty(batch, T, unfolds, units)
        rate_arg = terms if rates is None else rates  # never read without HAS_RATE
        with on_device_of(terms):
            _fwd_kernel[(cdiv(batch, bb),)](terms, v0, rate_arg, cm, ln, ld, w, we, s, m, out, vk, batch, T, units,
                                            eps, UNFOLDS=unfolds, BB=bb, BU=bu, HAS_RATE=rates is not None,
                                            num_warps=_warps(bu))
        ctx.save_for_backward(terms, cm, ln, ld, w, we, s, m, vk, rates)
        ctx.unfolds, ctx.eps = unfolds, eps
        return out

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy):  # noqa: D102 - autograd protocol
        terms, cm, ln, ld, w, we, s, m, vk, rates = ctx.saved_tensors
        (batch, T, _), units = terms.shape, cm.shape[0]
        bu, bb = _blocks(units, batch)
        n_prog = cdiv(batch, bb)
        gterms, gv0 = torch.empty_like(terms), terms.new_empty(batch, units)
        gvec, gmat = terms.new_empty(n_prog, 3, units), terms.new_empty(n_prog, 4, units, units)
        with on_device_of(terms):
            _bwd_kernel[(n_prog,)](terms, terms if rates is None else rates, cm, ln, ld, w, we, s, m, vk,
                                   gy.contiguous(), gterms, gv0, gvec, gmat, batch, T, units, ctx.eps,
                                   UNFOLDS=ctx.unfolds, BB=bb, BU=bu, HAS_RATE=rates is not None,
                                   num_warps=_warps(bu))
        g_cm, g_num, g_den = gvec.sum(0)
        g_w, g_we, g_s, g_m = gmat.sum(0)
        return gterms, gv0, g_cm, g_num, g_den, g_w, g_we, g_s, g_m, None, None, None


def ltc_scan_triton(
    terms: torch.Tensor, v0: torch.Tensor, params: Sequence[torch.Tensor], ode_unfolds: int, epsilon: float,
    elapsed: torch.Tensor | None = None,
) -> torch.Tensor:
    """The fused kernels in float32 (float64 for float64 inputs); returns ``terms``'s dtype."""
    wide = compute_dtype(terms.dtype)
    prep = [x.to(wide).contiguous() for x in (terms, v0, *params)]
    rates = None if elapsed is None else elapsed.to(wide).reciprocal().contiguous()
    return _LtcScanTritonFn.apply(*prep, ode_unfolds, float(epsilon), rates).to(terms.dtype)
