"""Fused Triton RNN kernel (FlashRNN idea): the whole time loop in one launch, state on chip.

An arbitrary Python step function cannot be compiled into Triton, so the kernel covers the
documented cell family of :mod:`.cells` with hidden size ``H <= 128`` (gated: 64; on an A100, whose
blocks have less shared memory, 64 and 64). One program owns ``BLOCK_B`` batch rows; the recurrent
weights ``W`` and the state ``h`` stay in registers for all steps, only ``x_t`` is read and ``h_t``
written per step.

Backward is one more launch that walks time backwards, but only over what is sequential: the
adjoint recurrence, which is linear. Everything else is done in torch around it, over all steps
at once (large matrix products and elementwise ops, cuBLAS on a GPU). Before the kernel, the
stored states give each step's local derivatives (``dh_t/dp_t``, ``dh_t/dq_t`` and the direct
``dh_t/dh_{t-1} = 1 - s`` of the gated cell; ``1 - h_t^2`` for tanh); the kernel multiplies
them into the incoming gradient and adds the products with ``W^T``, so its loop holds no
activation functions and reads no states. After it, the weight gradient ``sum_t h_{t-1}^T g_t``
is one more matrix product (instead of an ``H x KH`` accumulator in every program's registers).
``tanh``/``sigmoid`` are written with ``tl.exp`` because libdevice does not run in the
interpreter.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._checks import compute_dtype
from .._autograd import HandWrittenBackward, first_order_only
from .._launch import block_shared_memory, cdiv, next_power_of_2, on_device_of, shared_memory_text
from .cells import triton_hidden_limit

BLOCK_B = 16  # tl.dot needs every dimension >= 16 on GPUs


@triton.jit
def _tanh(x):
    e = tl.exp(-2.0 * tl.abs(x))  # never overflows
    r = (1.0 - e) / (1.0 + e)
    return tl.where(x >= 0, r, -r)


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _fwd_kernel(x_ptr, W_ptr, h0_ptr, out_ptr, B, T, H,
                HAS_H0: tl.constexpr, GATED: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr,
                PREC: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BB + tl.arange(0, BB).to(tl.int64)
    cols = tl.arange(0, BH).to(tl.int64)
    m2 = (rows < B)[:, None] & (cols < H)[None, :]
    mw = (cols < H)[:, None] & (cols < H)[None, :]
    K = 2 if GATED else 1
    w_tile = cols[:, None] * (K * H) + cols[None, :]
    Wp = tl.load(W_ptr + w_tile, mask=mw, other=0.0)
    Wq = tl.load(W_ptr + w_tile + H, mask=mw & GATED, other=0.0)
    if HAS_H0:
        h = tl.load(h0_ptr + rows[:, None] * H + cols[None, :], mask=m2, other=0.0)
    else:
        h = tl.zeros([BB, BH], dtype=Wp.dtype)
    for t in range(T):
        xrow = x_ptr + (rows[:, None] * T + t) * (K * H) + cols[None, :]
        p = tl.load(xrow, mask=m2, other=0.0) + tl.dot(h, Wp, input_precision=PREC)
        if GATED:
            q = tl.load(xrow + H, mask=m2, other=0.0) + tl.dot(h, Wq, input_precision=PREC)
            s = _sigmoid(p)
            h = (1.0 - s) * h + s * _tanh(q)
        else:
            h = _tanh(p)
        tl.store(out_ptr + (rows[:, None] * T + t) * H + cols[None, :], h, mask=m2)


@triton.jit
def _bwd_kernel(W_ptr, keep_ptr, gy_ptr, gx_ptr, gh0_ptr, B, T, H,
                GATED: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr, PREC: tl.constexpr):
    """The adjoint walk. ``gx`` holds each step's local derivatives on entry and is overwritten with
    the pre-activation gradients; ``keep`` is the gated cell's ``1 - s``."""
    rows = tl.program_id(0).to(tl.int64) * BB + tl.arange(0, BB).to(tl.int64)
    cols = tl.arange(0, BH).to(tl.int64)
    m2 = (rows < B)[:, None] & (cols < H)[None, :]
    mw = (cols < H)[:, None] & (cols < H)[None, :]
    K = 2 if GATED else 1
    w_tile = cols[:, None] * (K * H) + cols[None, :]
    Wp = tl.load(W_ptr + w_tile, mask=mw, other=0.0)
    Wq = tl.load(W_ptr + w_tile + H, mask=mw & GATED, other=0.0)
    g = tl.zeros([BB, BH], dtype=Wp.dtype)
    for i in range(T):
        t = T - 1 - i
        hrow = (rows[:, None] * T + t) * H + cols[None, :]
        xrow = (rows[:, None] * T + t) * (K * H) + cols[None, :]
        gh = g + tl.load(gy_ptr + hrow, mask=m2, other=0.0)
        gp = gh * tl.load(gx_ptr + xrow, mask=m2, other=0.0)
        tl.store(gx_ptr + xrow, gp, mask=m2)
        g = tl.dot(gp, tl.trans(Wp), input_precision=PREC)
        if GATED:
            gq = gh * tl.load(gx_ptr + xrow + H, mask=m2, other=0.0)
            tl.store(gx_ptr + xrow + H, gq, mask=m2)
            g += gh * tl.load(keep_ptr + hrow, mask=m2, other=0.0) + tl.dot(gq, tl.trans(Wq), input_precision=PREC)
    tl.store(gh0_ptr + rows[:, None] * H + cols[None, :], g, mask=m2)


def _block_h(H: int) -> int:
    return max(16, next_power_of_2(H))


def _warps(H: int) -> int:
    """8 warps from H = 64: the on-chip ``W`` tiles then fit far better in registers.

    ptxas's stack bytes per thread at H = 128, sm_90 (tests/kernels/triton_compile_check.py):
    forward 200 -> 0 (tanh) and 680 -> 104 (gated); backward 56 (tanh) and 176 (gated), and 0
    at H = 64 gated (float32 on tf32x3; it was 864 / 1792 / 208 while the weight gradient was
    accumulated in the kernel, and 40 / 488 / 8 while the loop recomputed the gates).
    """
    return 8 if _block_h(H) >= 64 else 4


def _precision(x: torch.Tensor) -> str:
    """``tl.dot`` precision: float64 exactly (FMA); float32 as three TF32 products ("tf32x3").

    tf32x3 runs on the tensor cores and stays close to float32 (each product drops terms of about
    2**-21 relative). The plain-FMA float32 dot ("ieee") is what Triton 3.9's LLVM
    SLP vectorizer crashes on (an assertion that aborts the process) when it compiles these
    kernels for sm_90, depending on H and the surrounding code; tests/kernels/test_triton_compile.py
    compiles every launch for sm_80 and sm_90 to keep it that way.
    """
    return "ieee" if x.dtype == torch.float64 else "tf32x3"


def states_before(h0: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The state entering each step, ``(batch, time, H)``: ``h0``, then ``out`` one step late."""
    return torch.cat([h0[:, None], out[:, :-1]], dim=1)


def summed_outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``sum over (batch, time) of a_t^T b_t`` as one matrix product: a weight gradient without
    per-program accumulators or atomics."""
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])


class _RnnTritonFn(HandWrittenBackward):
    @staticmethod
    def forward(ctx, x, W, h0, gated):  # noqa: D102 - autograd protocol
        batch, T, H = x.shape[0], x.shape[1], W.shape[0]
        out = x.new_empty(batch, T, H)
        grid = (cdiv(batch, BLOCK_B),)
        with on_device_of(x):
            _fwd_kernel[grid](x, W, h0 if h0 is not None else out, out, batch, T, H,
                              HAS_H0=h0 is not None, GATED=gated, BB=BLOCK_B, BH=_block_h(H), PREC=_precision(x),
                              num_warps=_warps(H))
        ctx.save_for_backward(x, W, h0, out)
        ctx.gated = gated
        return out

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy):  # noqa: D102 - autograd protocol
        x, W, h0, out = ctx.saved_tensors
        batch, T, H = out.shape
        h_prev = states_before(h0 if h0 is not None else out.new_zeros(batch, H), out)
        gx, keep = local_derivatives(x, W, h_prev, out, ctx.gated)
        gh0 = out.new_empty(batch, H)
        with on_device_of(x):
            _bwd_kernel[(cdiv(batch, BLOCK_B),)](W, keep, gy.contiguous(), gx, gh0, batch, T, H,
                                                 GATED=ctx.gated, BB=BLOCK_B, BH=_block_h(H),
                                                 PREC=_precision(x), num_warps=_warps(H))
        return gx, summed_outer(h_prev, gx), gh0 if h0 is not None else None, None


def local_derivatives(x: torch.Tensor, W: torch.Tensor, h_prev: torch.Tensor, out: torch.Tensor,
                      gated: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Each step's ``dh_t / d(pre-activation)`` (the kernel's ``gx`` on entry) and, for the gated
    cell, ``dh_t / dh_{t-1}`` outside ``W``, ``1 - s`` (for tanh a placeholder the kernel never reads).

    With ``h_t = (1 - s) h_{t-1} + s c``, ``s = sigmoid(p)``, ``c = tanh(q)``:
    ``dh/dp = (c - h_{t-1}) s (1 - s)`` and ``dh/dq = s (1 - c^2)``; for ``h_t = tanh(p)``,
    ``dh/dp = 1 - h_t^2``.
    """
    if not gated:
        return 1.0 - out * out, out
    p, q = (x + h_prev @ W).chunk(2, dim=-1)
    s, c = torch.sigmoid(p), torch.tanh(q)
    return torch.cat([(c - h_prev) * s * (1.0 - s), s * (1.0 - c * c)], dim=-1), 1.0 - s


def rnn_scan_triton(cell: str, x: torch.Tensor, W: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    """Run the fused cell family in one Triton kernel (float32, or float64 for float64 inputs).

    Parameters
    ----------
    cell : {"tanh", "gated"}
        Cell of :mod:`.cells`.
    x : torch.Tensor
        ``(batch, time, K*H)`` input projections.
    W : torch.Tensor
        ``(H, K*H)`` recurrent weights, ``H <= triton_hidden_limit(cell, ...)`` of ``x``'s GPU.
    h0 : torch.Tensor or None
        ``(batch, H)`` start state.

    Returns
    -------
    torch.Tensor
        ``(batch, time, H)`` states in ``x``'s dtype.
    """
    limit = triton_hidden_limit(cell, block_shared_memory(x))
    if W.shape[0] > limit:
        raise ValueError(f"with {shared_memory_text(x)}, the fused Triton RNN kernel keeps H <= {limit} on chip "
                         f"for cell {cell!r}, got H={W.shape[0]}; use backend='torch'")
    wide = compute_dtype(x.dtype)
    h0_w = None if h0 is None else h0.to(wide).contiguous()
    return _RnnTritonFn.apply(x.to(wide).contiguous(), W.to(wide).contiguous(), h0_w, cell == "gated").to(x.dtype)
