"""Triton linear scan for GPUs (also runs in the CPU interpreter, ``TRITON_INTERPRET=1``).

One program owns a block of channels of one batch row and walks over time one tile of
``CHUNK`` steps at a time. A whole ``(CHUNK, BLOCK)`` tile of gates and inputs is loaded at
once and scanned in registers with ``tl.associative_scan`` (the pair ``(a, b)`` is the affine
map ``h -> a h + b``, and composing maps is associative); the state carried in from the
previous tile is folded into the tile's first step beforehand. Loading a tile per round trip instead
of one step per round trip keeps enough bytes in flight for the scan to be bandwidth-bound
rather than latency-bound (the step-at-a-time loop waits one memory latency per time step).

Backward runs the same kernel in the other direction over the output gradient, reading each
gate one step ahead (``GATE_SHIFT``) instead of materialising a shifted copy.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .._autograd import first_order_only
from .._checks import compute_dtype
from .._launch import on_device_of
from .._triton_tiles import compose_affine
from .torch_impl import gate_and_state_grads

BLOCK_C = 32  # channels per program: 32 fp32 = one 128-byte row segment per time step
CHUNK_T = 64  # time steps per tile; a (64, 32) tile is 16 values per thread and tensor at 4 warps
NUM_WARPS = 4  # benchmarks/kernels_gpu.py sweeps these three on a GPU


@triton.jit
def _scan_kernel(
    a_ptr, b_ptr, h0_ptr, out_ptr, n_steps, n_chans,
    HAS_H0: tl.constexpr, REVERSE: tl.constexpr, GATE_SHIFT: tl.constexpr,
    ACC: tl.constexpr, BLOCK: tl.constexpr, CHUNK: tl.constexpr,
):
    pid_b = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1).to(tl.int64) * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    col_ok = cols < n_chans
    row = pid_b * n_steps * n_chans  # int64: B*T*C may exceed 2**31
    lane = tl.arange(0, CHUNK).to(tl.int64)
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * n_chans + cols, mask=col_ok, other=0.0).to(ACC)
    else:
        h = tl.zeros([BLOCK], dtype=ACC)
    for c in range(tl.cdiv(n_steps, CHUNK)):
        step = c * CHUNK + lane  # position in scan order
        t = n_steps - 1 - step if REVERSE else step
        tg = t + GATE_SHIFT
        step_ok = step < n_steps
        ok = step_ok[:, None] & col_ok[None, :]
        gate_ok = ok & ((tg >= 0) & (tg < n_steps))[:, None]
        a = tl.load(a_ptr + row + tg[:, None] * n_chans + cols[None, :], mask=gate_ok, other=0.0).to(ACC)
        a = tl.where(step_ok[:, None], a, 1.0)  # steps past the end leave the state unchanged
        b = tl.load(b_ptr + row + t[:, None] * n_chans + cols[None, :], mask=ok, other=0.0).to(ACC)
        # the carried state enters as the tile's first step, a h + b, instead of as gain * h after the
        # scan: a tile's gate product can overflow (5**56 > float32 max) where h is 0, and inf * 0 = NaN
        b = tl.where(lane[:, None] == 0, b + a * h[None, :], b)
        _, states = tl.associative_scan((a, b), 0, compose_affine)
        tl.store(out_ptr + row + t[:, None] * n_chans + cols[None, :], states.to(out_ptr.dtype.element_ty), mask=ok)
        # the tile's last row (padding steps repeat the last real state): a masked sum picks it
        h = tl.sum(tl.where(lane[:, None] == CHUNK - 1, states, 0.0), axis=0)


def _launch(a, b, h0, reverse: bool, gate_shift: int, out_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Scan ``(a, b)`` into a new tensor of ``out_dtype`` (``b``'s when None)."""
    batch, n_steps, chans = b.shape
    out = torch.empty_like(b, dtype=out_dtype)
    acc = tl.float64 if b.dtype == torch.float64 else tl.float32
    block = min(BLOCK_C, triton.next_power_of_2(chans))
    chunk = min(CHUNK_T, triton.next_power_of_2(n_steps))
    grid = (batch, triton.cdiv(chans, block))
    with on_device_of(b):
        _scan_kernel[grid](
            a, b, h0 if h0 is not None else b, out, n_steps, chans,
            HAS_H0=h0 is not None, REVERSE=reverse, GATE_SHIFT=gate_shift, ACC=acc, BLOCK=block, CHUNK=chunk,
            num_warps=NUM_WARPS,
        )
    return out


class _LinearScanTritonFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0, reverse):  # noqa: D102 - autograd protocol
        a, b = a.contiguous(), b.contiguous()
        h0 = None if h0 is None else h0.contiguous()
        h = _launch(a, b, h0, reverse, 0)
        ctx.save_for_backward(a, h, h0)
        ctx.reverse = reverse
        return h

    @staticmethod
    @first_order_only
    def backward(ctx, grad_h):  # noqa: D102 - autograd protocol
        a, h, h0 = ctx.saved_tensors
        rev = ctx.reverse
        # adjoint scan: opposite direction, gate of the neighbour the state flowed into. Its output
        # stays in the accumulation dtype: da = g * h_prev in half precision underflows to 0 (or
        # overflows) where the float32 product is fine; only db = g is rounded to b's dtype.
        g = _launch(a, grad_h.contiguous(), None, not rev, -1 if rev else 1, compute_dtype(grad_h.dtype))
        da, dh0 = gate_and_state_grads(g, a, h, h0, rev, ctx.needs_input_grad)
        da = None if da is None else da.to(a.dtype)
        dh0 = None if dh0 is None else dh0.to(h0.dtype)
        return da, g.to(h.dtype), dh0, None


def linear_scan_triton(
    a: torch.Tensor, b: torch.Tensor, initial_state: torch.Tensor | None = None, reverse: bool = False
) -> torch.Tensor:
    """Linear scan with the Triton kernel; real dtypes only, accumulated in float32 or wider.

    Parameters
    ----------
    a, b : torch.Tensor
        Gates and inputs, ``(batch, time, channels)``.
    initial_state : torch.Tensor or None
        ``(batch, channels)`` state before the first step.
    reverse : bool
        Scan from the last step to the first.

    Returns
    -------
    torch.Tensor
        All states, dtype of ``b``.
    """
    return _LinearScanTritonFn.apply(a, b, initial_state, reverse)
