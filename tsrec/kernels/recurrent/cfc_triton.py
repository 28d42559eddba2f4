"""Fused Triton kernels for :func:`tsrec.kernels.recurrent.cfc.cfc_scan` (GPU; CPU interpreter in tests).

Forward: one program owns ``BLOCK_B`` batch rows and walks the sequence with the state and all
weights on chip; per step one ``(rows, U) x (U, Z)`` and three ``(rows, Z) x (Z, U)`` products.

Backward: the stored states give every step's input, so torch first computes each step's local
derivatives for all steps at once (batched products, cuBLAS on a GPU). With ``a = dL/dh'``,
``c = 1.7159 * 0.666`` and ``zp = xz + h W_h``::

    d1 = a (1 - g)(1 - f1^2),   d2 = a g (1 - f2^2),   dt = a (f2 - f1) g (1 - g)
    dzp = (d1 W1^T + d2 W2^T + dt Wt^T) c (1 - tanh(0.666 zp)^2),   dL/dh = dzp W_h^T

those derivatives are the factors of ``a`` in ``d1, d2, dt`` and the factor of the bracket in
``dzp``. The kernel walks time in reverse through this linear recurrence alone: four products
per step, no activation functions (recomputing each step in the loop took eight products). It
overwrites the factors with ``dzp`` (the gradient of ``xz``) and ``d1, d2, dt``; the weight and
bias gradients are then batched products in torch, with no atomics.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._checks import compute_dtype
from .._autograd import HandWrittenBackward, first_order_only
from .._launch import cdiv, on_device_of
from .cfc import lecun_tanh, tile_side
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
def _load_tiles(Wh_ptr, W1_ptr, W2_ptr, Wt_ptr, Z, U, BZ: tl.constexpr, BU: tl.constexpr):
    """``W_h`` (U, Z) and the three heads' (Z, U) weights, zero in the padded lanes."""
    zc, uc = tl.arange(0, BZ), tl.arange(0, BU)
    zu = (zc < Z)[:, None] & (uc < U)[None, :]
    uz = (uc < U)[:, None] & (zc < Z)[None, :]
    Wh = tl.load(Wh_ptr + uc[:, None] * Z + zc[None, :], mask=uz, other=0.0)
    heads = zc[:, None] * U + uc[None, :]
    W1 = tl.load(W1_ptr + heads, mask=zu, other=0.0)
    W2 = tl.load(W2_ptr + heads, mask=zu, other=0.0)
    Wt = tl.load(Wt_ptr + heads, mask=zu, other=0.0)
    return Wh, W1, W2, Wt


@triton.jit
def _load_bias(b_ptr, U, BU: tl.constexpr):
    uc = tl.arange(0, BU)
    return tl.load(b_ptr + uc, mask=uc < U, other=0.0)


@triton.jit
def _fwd_kernel(xz_ptr, h0_ptr, Wh_ptr, W1_ptr, b1_ptr, W2_ptr, b2_ptr, Wt_ptr, bt_ptr, out_ptr, B, T, Z, U,
                BB: tl.constexpr, BZ: tl.constexpr, BU: tl.constexpr, PREC: tl.constexpr):
    rows, zc, uc, mz, mu = _lanes(B, Z, U, BB, BZ, BU)
    Wh, W1, W2, Wt = _load_tiles(Wh_ptr, W1_ptr, W2_ptr, Wt_ptr, Z, U, BZ, BU)
    b1, b2, bt = _load_bias(b1_ptr, U, BU), _load_bias(b2_ptr, U, BU), _load_bias(bt_ptr, U, BU)
    h = tl.load(h0_ptr + rows[:, None] * U + uc[None, :], mask=mu, other=0.0)
    for t in range(T):
        zp = tl.load(xz_ptr + (rows[:, None] * T + t) * Z + zc[None, :], mask=mz, other=0.0)
        z = 1.7159 * _tanh(0.666 * (zp + tl.dot(h, Wh, input_precision=PREC)))
        f1 = _tanh(tl.dot(z, W1, input_precision=PREC) + b1[None, :])
        f2 = _tanh(tl.dot(z, W2, input_precision=PREC) + b2[None, :])
        g = 1.0 / (1.0 + tl.exp(-(tl.dot(z, Wt, input_precision=PREC) + bt[None, :])))
        h = tl.where(mu, f1 * (1.0 - g) + g * f2, 0.0)  # padded lanes stay 0 for the next product
        tl.store(out_ptr + (rows[:, None] * T + t) * U + uc[None, :], h, mask=mu)


@triton.jit
def _bwd_kernel(Wh_ptr, W1_ptr, W2_ptr, Wt_ptr, gy_ptr, gxz_ptr, gheads_ptr, gh0_ptr, B, T, Z, U,
                BB: tl.constexpr, BZ: tl.constexpr, BU: tl.constexpr, PREC: tl.constexpr):
    """The adjoint walk. ``gxz`` and ``gheads`` hold the local derivatives on entry and are
    overwritten with the gradients; padded lanes load them as zero, so their gradients stay zero."""
    rows, zc, uc, mz, mu = _lanes(B, Z, U, BB, BZ, BU)
    Wh, W1, W2, Wt = _load_tiles(Wh_ptr, W1_ptr, W2_ptr, Wt_ptr, Z, U, BZ, BU)
    a = tl.zeros([BB, BU], dtype=W1.dtype)
    for i in range(T):
        t = T - 1 - i
        zrow = gxz_ptr + (rows[:, None] * T + t) * Z + zc[None, :]
        heads = gheads_ptr + ((rows[:, None] * T + t) * 3) * U + uc[None, :]
        a += tl.load(gy_ptr + (rows[:, None] * T + t) * U + uc[None, :], mask=mu, other=0.0)
        d1 = a * tl.load(heads, mask=mu, other=0.0)
        d2 = a * tl.load(heads + U, mask=mu, other=0.0)
        dt = a * tl.load(heads + 2 * U, mask=mu, other=0.0)
        dz = tl.dot(d1, tl.trans(W1), input_precision=PREC) + tl.dot(d2, tl.trans(W2), input_precision=PREC)
        dz += tl.dot(dt, tl.trans(Wt), input_precision=PREC)
        dzp = dz * tl.load(zrow, mask=mz, other=0.0)
        tl.store(zrow, dzp, mask=mz)
        tl.store(heads, d1, mask=mu)
        tl.store(heads + U, d2, mask=mu)
        tl.store(heads + 2 * U, dt, mask=mu)
        a = tl.dot(dzp, tl.trans(Wh), input_precision=PREC)
    tl.store(gh0_ptr + rows[:, None] * U + uc[None, :], a, mask=mu)


def _local_derivatives(xz, h_prev, W_h, W1, b1, W2, b2, Wt, bt) -> tuple[torch.Tensor, ...]:
    """``z`` and the kernel's entry buffers for all steps: ``dz/dzp`` (batch, time, width) and the
    factors of ``d1, d2, dt`` in ``a`` (batch, time, 3, units) of the module docstring."""
    z = lecun_tanh(xz + h_prev @ W_h)
    f1, f2, g = (z @ torch.cat([W1, W2, Wt], dim=1) + torch.cat([b1, b2, bt])).chunk(3, dim=-1)
    f1, f2, g = torch.tanh(f1), torch.tanh(f2), torch.sigmoid(g)
    heads = torch.stack([(1.0 - g) * (1.0 - f1 * f1), g * (1.0 - f2 * f2), (f2 - f1) * g * (1.0 - g)], dim=2)
    return z, 0.666 * (1.7159 - z * z / 1.7159), heads  # c (1 - tanh^2), with tanh = z / 1.7159


def _meta(xz: torch.Tensor, units: int) -> dict:
    width = xz.shape[2]
    return dict(BB=BLOCK_B, BZ=tile_side(width), BU=tile_side(units),  # the sides cfc.triton_fits counts
                PREC="ieee" if xz.dtype == torch.float64 else "tf32x3", num_warps=8)


class _CfcScanTritonFn(HandWrittenBackward):
    @staticmethod
    def forward(ctx, xz, h0, W_h, W1, b1, W2, b2, Wt, bt):  # noqa: D102 - autograd protocol
        (batch, T, width), units = xz.shape, h0.shape[1]
        out = xz.new_empty(batch, T, units)
        with on_device_of(xz):
            _fwd_kernel[(cdiv(batch, BLOCK_B),)](xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out, batch, T, width,
                                                 units, **_meta(xz, units))
        ctx.save_for_backward(xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out)
        return out

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy):  # noqa: D102 - autograd protocol
        xz, h0, W_h, W1, b1, W2, b2, Wt, bt, out = ctx.saved_tensors
        (batch, T, width), units = xz.shape, h0.shape[1]
        h_prev = states_before(h0, out)
        z, gxz, gheads = _local_derivatives(xz, h_prev, W_h, W1, b1, W2, b2, Wt, bt)
        gh0 = torch.empty_like(h0)
        with on_device_of(xz):
            _bwd_kernel[(cdiv(batch, BLOCK_B),)](W_h, W1, W2, Wt, gy.contiguous(), gxz, gheads, gh0,
                                                 batch, T, width, units, **_meta(xz, units))
        # the weight gradients: batched products over every (row, step), no atomics
        d1, d2, dt = gheads.unbind(2)
        gW = [summed_outer(z, d) for d in (d1, d2, dt)]
        gb = [d.sum((0, 1)) for d in (d1, d2, dt)]
        return gxz, gh0, summed_outer(h_prev, gxz), gW[0], gb[0], gW[1], gb[1], gW[2], gb[2]


def cfc_scan_triton(xz: torch.Tensor, h0: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """The fused kernels in float32 (float64 for float64 inputs); returns ``xz``'s dtype."""
    wide = compute_dtype(xz.dtype)
    prep = [x.to(wide).contiguous() for x in (xz, h0, *params)]
    return _CfcScanTritonFn.apply(*prep).to(xz.dtype)
