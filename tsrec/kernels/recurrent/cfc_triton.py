"""Fused Triton kernels for :func:`tsrec.kernels.recurrent.cfc.cfc_scan` (GPU; CPU interpreter in tests).

Forward: one program owns ``BLOCK_B`` batch rows and walks the sequence with the state and all
weights on chip; per step one ``(rows, U) x (U, Z)`` and three ``(rows, Z) x (Z, U)`` products.

Backward: the same walk in reverse, recomputing each step from the stored states. With
``a = dL/dh'`` and ``c = 1.7159 * 0.666``::

    d1 = a (1 - g)(1 - f1^2),   d2 = a g (1 - f2^2),   dt = a (f2 - f1) g (1 - g)
    dzp = (d1 W1^T + d2 W2^T + dt Wt^T) c (1 - tanh(0.666 zp)^2),   dL/dh = dzp W_h^T

The kernel writes ``dzp`` (the gradient of ``xz``) and ``d1, d2, dt`` for every step; the weight
and bias gradients are then batched products in torch, with no atomics.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .._checks import compute_dtype
from .cfc import lecun_tanh
# the rnn kernels' overflow-free tanh (libdevice's does not interpret) and weight-gradient helpers
from .triton_impl import _tanh, states_before, summed_outer

BLOCK_B = 16  # tl.dot needs every dimension >= 16 on GPUs


@triton.jit
def _lanes(B, Z, U, BB: tl.constexpr, BZ: tl.constexpr, BU: tl.constexpr):
    """This program's batch rows, the backbone and unit lanes, and the masks of real entries."""
    rows = tl.program_id(0).to(tl.int64) * BB + tl.arange(0, BB).to(tl.int64)
    zc, uc = tl.arange(0, BZ).to(tl.int64), tl.arange(0, BU).to(tl.int64)
    return rows, zc, uc, (rows < B)[:, None] & (zc < Z)[None, :], (rows < B)[:, None] & (uc < U)[None, :]


@triton.jit
def _step(xz_ptr, h, rows, zc, mz, t, T, Z, Wh, W1, W2, Wt, b1, b2, bt, PREC: tl.constexpr):
    """Recompute one step from ``h``: backbone pre-activation, z, both heads and the gate."""
    zp = tl.load(xz_ptr + (rows[:, None] * T + t) * Z + zc[None, :], mask=mz, other=0.0)
    zp = zp + tl.dot(h, Wh, input_precision=PREC)
    z = 1.7159 * _tanh(0.666 * zp)
    f1 = _tanh(tl.dot(z, W1, input_precision=PREC) + b1[None, :])
    f2 = _tanh(tl.dot(z, W2, input_precision=PREC) + b2[None, :])
    g = 1.0 / (1.0 + tl.exp(-(tl.dot(z, Wt, input_precision=PREC) + bt[None, :])))
    return zp, f1, f2, g


@triton.jit
def _load_weights(Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, Z, U, BZ: tl.constexpr, BU: tl.constexpr):
    zc, uc = tl.arange(0, BZ), tl.arange(0, BU)
    zu = (zc < Z)[:, None] & (uc < U)[None, :]
    uz = (uc < U)[:, None] & (zc < Z)[None, :]
    Wh = tl.load(Wh_ptr + uc[:, None] * Z + zc[None, :], mask=uz, other=0.0)
    heads = zc[:, None] * U + uc[None, :]
    W1 = tl.load(W1_ptr + heads, mask=zu, other=0.0)
    W2 = tl.load(W2_ptr + heads, mask=zu, other=0.0)
    Wt = tl.load(Wt_ptr + heads, mask=zu, other=0.0)
    b1 = tl.load(b1_ptr + uc, mask=uc < U, other=0.0)
    b2 = tl.load(b2_ptr + uc, mask=uc < U, other=0.0)
    bt = tl.load(bt_ptr + uc, mask=uc < U, other=0.0)
    return Wh, W1, b1, W2, b2, Wt, bt


@triton.jit
def _fwd_kernel(xz_ptr, h0_ptr, Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, out_ptr, B, T, Z, U,
                BB: tl.constexpr, BZ: tl.constexpr, BU: tl.constexpr, PREC: tl.constexpr):
    rows, zc, uc, mz, mu = _lanes(B, Z, U, BB, BZ, BU)
    Wh, W1, b1, W2, b2, Wt, bt = _load_weights(Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, Z, U, BZ, BU)
    h = tl.load(h0_ptr + rows[:, None] * U + uc[None, :], mask=mu, other=0.0)
    for t in range(T):
        zp, f1, f2, g = _step(xz_ptr, h, rows, zc, mz, t, T, Z, Wh, W1, W2, Wt, b1, b2, bt, PREC)
        h = tl.where(mu, f1 * (1.0 - g) + g * f2, 0.0)  # padded lanes stay 0 for the next product
        tl.store(out_ptr + (rows[:, None] * T + t) * U + uc[None, :], h, mask=mu)


@triton.jit
def _bwd_kernel(xz_ptr, h0_ptr, Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, out_ptr, gy_ptr,
                gxz_ptr, gheads_ptr, gh0_ptr, B, T, Z, U,
                BB: tl.constexpr, BZ: tl.constexpr, BU: tl.constexpr, PREC: tl.constexpr):
    rows, zc, uc, mz, mu = _lanes(B, Z, U, BB, BZ, BU)
    Wh, W1, b1, W2, b2, Wt, bt = _load_weights(Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, Z, U, BZ, BU)
    h0 = tl.load(h0_ptr + rows[:, None] * U + uc[None, :], mask=mu, other=0.0)
    a = tl.zeros([BB, BU], dtype=W1.dtype)
    for i in range(T):
        t = T - 1 - i
        prev_ok = mu & (uc[None, :] * 0 + t > 0)
        h_prev = tl.where(t > 0, tl.load(out_ptr + (rows[:, None] * T + t - 1) * U + uc[None, :], mask=prev_ok,
                                         other=0.0), h0)
        zp, f1, f2, g = _step(xz_ptr, h_prev, rows, zc, mz, t, T, Z, Wh, W1, W2, Wt, b1, b2, bt, PREC)
        a += tl.load(gy_ptr + (rows[:, None] * T + t) * U + uc[None, :], mask=mu, other=0.0)
        d1 = tl.where(mu, a * (1.0 - g) * (1.0 - f1 * f1), 0.0)
        d2 = tl.where(mu, a * g * (1.0 - f2 * f2), 0.0)
        dt = tl.where(mu, a * (f2 - f1) * g * (1.0 - g), 0.0)
        dz = tl.dot(d1, tl.trans(W1), input_precision=PREC) + tl.dot(d2, tl.trans(W2), input_precision=PREC)
        dz += tl.dot(dt, tl.trans(Wt), input_precision=PREC)
        tz = _tanh(0.666 * zp)
        dzp = tl.where(mz, dz * (1.7159 * 0.666) * (1.0 - tz * tz), 0.0)
        tl.store(gxz_ptr + (rows[:, None] * T + t) * Z + zc[None, :], dzp, mask=mz)
        heads = gheads_ptr + ((rows[:, None] * T + t) * 3) * U + uc[None, :]
        tl.store(heads, d1, mask=mu)
        tl.store(heads + U, d2, mask=mu)
        tl.store(heads + 2 * U, dt, mask=mu)
        a = tl.dot(dzp, tl.trans(Wh), input_precision=PREC)
    tl.store(gh0_ptr + rows[:, None] * U + uc[None, :], a, mask=mu)


def _meta(xz: torch.Tensor, units: int) -> dict:
    width = xz.shape[2]
    return dict(BB=BLOCK_B, BZ=max(16, triton.next_power_of_2(width)), BU=max(16, triton.next_power_of_2(units)),
                PREC="ieee" if xz.dtype == torch.float64 else "tf32x3", num_warps=8)


class _CfcScanTritonFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xz, h0, W_h, W1, b1, W2, b2, Wt, bt):  # noqa: D102 - autograd protocol
        (batch, T, width), units = xz.shape, h0.shape[1]
        out = xz.new_empty(batch, T, units)
        _fwd_kernel[(triton.cdiv(batch, BLOCK_B),)](xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out, batch, T, width, units,
                                                   **_meta(xz, units))
        ctx.save_for_backward(xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out)
        return out

    @staticmethod
    def backward(ctx, gy):  # noqa: D102 - autograd protocol
        xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out = ctx.saved_tensors
        (batch, T, width), units = xz.shape, h0.shape[1]
        gxz, gheads, gh0 = torch.empty_like(xz), xz.new_empty(batch, T, 3, units), torch.empty_like(h0)
        _bwd_kernel[(triton.cdiv(batch, BLOCK_B),)](xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out, gy.contiguous(),
                                                   gxz, gheads, gh0, batch, T, width, units, **_meta(xz, units))
        # the weight gradients: batched products over every (row, step), no atomics
        h_prev = states_before(h0, out)
        z = lecun_tanh(xz + h_prev @ W_h)
        d1, d2, dt = gheads.unbind(2)
        gW = [summed_outer(z, d) for d in (d1, d2, dt)]
        gb = [d.sum((0, 1)) for d in (d1, d2, dt)]
        return gxz, gh0, summed_outer(h_prev, gxz), gW[0], gb[0], gW[1], gb[1], gW[2], gb[2]


def cfc_scan_triton(xz, h0, params) -> torch.Tensor:
    """The fused kernels in float32 (float64 for float64 inputs); returns ``xz``'s dtype."""
    wide = compute_dtype(xz.dtype)
    prep = [x.to(wide).contiguous() for x in (xz, h0, *params)]
    return _CfcScanTritonFn.apply(*prep).to(xz.dtype)
