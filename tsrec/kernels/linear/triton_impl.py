"""Triton linear scan for GPUs (also runs in the CPU interpreter, ``TRITON_INTERPRET=1``).

One program owns a block of channels of one batch row and walks over time with the state in
registers. Backward runs the same kernel in the other direction over the output gradient,
reading each gate one step ahead (``GATE_SHIFT``) instead of materialising a shifted copy.
Only ``tl.load``/``tl.store`` and arithmetic are used, so the interpreter can run it.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .torch_impl import gate_and_state_grads

BLOCK_C = 128


@triton.jit
def _scan_kernel(
    a_ptr, b_ptr, h0_ptr, out_ptr, n_steps, n_chans,
    HAS_H0: tl.constexpr, REVERSE: tl.constexpr, GATE_SHIFT: tl.constexpr,
    ACC: tl.constexpr, BLOCK: tl.constexpr,
):
    pid_b = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1).to(tl.int64) * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    mask = cols < n_chans
    row = pid_b * n_steps * n_chans  # int64: B*T*C may exceed 2**31
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * n_chans + cols, mask=mask, other=0.0).to(ACC)
    else:
        h = tl.zeros([BLOCK], dtype=ACC)
    for i in range(n_steps):
        t = n_steps - 1 - i if REVERSE else i
        # a vector index: the interpreter rejects masks built from scalar comparisons
        tg = cols * 0 + (t + GATE_SHIFT)
        gate_ok = mask & (tg >= 0) & (tg < n_steps)
        a = tl.load(a_ptr + row + tg * n_chans + cols, mask=gate_ok, other=0.0).to(ACC)
        b = tl.load(b_ptr + row + t * n_chans + cols, mask=mask, other=0.0).to(ACC)
        h = a * h + b
        tl.store(out_ptr + row + t * n_chans + cols, h.to(out_ptr.dtype.element_ty), mask=mask)


def _launch(a, b, h0, reverse: bool, gate_shift: int) -> torch.Tensor:
    batch, n_steps, chans = b.shape
    out = torch.empty_like(b)
    acc = tl.float64 if b.dtype == torch.float64 else tl.float32
    grid = (batch, triton.cdiv(chans, BLOCK_C))
    _scan_kernel[grid](
        a, b, h0 if h0 is not None else b, out, n_steps, chans,
        HAS_H0=h0 is not None, REVERSE=reverse, GATE_SHIFT=gate_shift, ACC=acc, BLOCK=BLOCK_C,
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
    def backward(ctx, grad_h):  # noqa: D102 - autograd protocol
        a, h, h0 = ctx.saved_tensors
        rev = ctx.reverse
        # adjoint scan: opposite direction, gate of the neighbour the state flowed into
        g = _launch(a, grad_h.contiguous(), None, not rev, -1 if rev else 1)
        da, dh0 = gate_and_state_grads(g, a, h, h0, rev, ctx.needs_input_grad)
        return da, g, dh0, None


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
