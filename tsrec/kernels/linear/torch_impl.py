"""Fast pure-PyTorch linear scan: a time loop or a chunked loop, with a hand-written backward.

The backward of ``h_t = a_t h_{t-1} + b_t`` is the same scan run the other way over the output
gradient, with the gates shifted by one step (and conjugated for complex inputs)::

    g_t  = grad_h_t + conj(a_{t+1}) g_{t+1}      (db_t = g_t)
    da_t = g_t conj(h_{t-1}),   dh_0 = conj(a_0) g_0

so one scan routine serves both directions.
"""

from __future__ import annotations

import math

import torch

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only, refuse_functorch
from .._checks import compute_dtype

# Measured crossover, fwd+bwd on one core (benchmarks/results/kernels.md): the chunked loop wins
# 1.4-4.8x at batch*channels <= 256 (more the longer T), breaks even near 1024 and loses up to 2x
# at 4096, where one time step is big enough that the plain loop is memory-bound, not overhead-bound.
CHUNK_MAX_ROWS = 512
CHUNK_MIN_TIME = 64


def _loop_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, reverse: bool) -> torch.Tensor:
    """One ``addcmul`` per step, written straight into the output (no final ``stack``).

    Time is ``unbind``-ed once up front; per-step indexing would cost more per step.
    """
    out = torch.empty_like(b)
    a_steps, b_steps, o_steps = a.unbind(1), b.unbind(1), out.unbind(1)
    order = range(b.shape[1] - 1, -1, -1) if reverse else range(b.shape[1])
    h = h0
    for t in order:
        if h is None:
            o_steps[t].copy_(b_steps[t])
        else:
            torch.addcmul(b_steps[t], a_steps[t], h, out=o_steps[t])
        h = o_steps[t]
    return out


def _chunk_len(n_steps: int) -> int:
    """Power of two at or below sqrt(T), 8 to 32: loop count about 2 sqrt(T); measured, chunks
    longer than 32 lose because each local step then touches too many chunks' worth of memory."""
    return min(32, max(8, 2 ** int(math.log2(math.sqrt(n_steps)))))


def _chunk_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor | None:
    """Forward scan in about ``2 sqrt(T)`` Python steps, or None where it would be wrong.

    All chunks advance together from a zero state while a running product of the gates is
    kept; a short loop then carries the state across chunk boundaries, and one fused
    ``addcmul`` adds each chunk's carried-in state. Gates above 1 can overflow that product
    to inf (and a zero gate after it makes NaN), which a carried-in state of 0 turns into NaN
    where the step-by-step recurrence is finite; or lift it back from an underflow (1e-30 twice,
    then 1e30 twice, in float32), which lost the carried-in state the recurrence keeps. Then
    None, and the caller runs the plain loop.
    """
    batch, n_steps, chans = a.shape
    length = _chunk_len(n_steps)
    n_chunks = -(-n_steps // length)
    pad = n_chunks * length - n_steps
    if pad:  # gate 1 and input 0 leave the state unchanged in the padding
        a = torch.cat([a, a.new_ones(batch, pad, chans)], dim=1)
        b = torch.cat([b, b.new_zeros(batch, pad, chans)], dim=1)
    shape = (batch, n_chunks, length, chans)
    # the local scans and gate products are written in place: no stack copies afterwards
    local, prod = torch.empty(shape, dtype=b.dtype, device=b.device), torch.empty(shape, dtype=a.dtype, device=a.device)
    a_steps, b_steps = a.reshape(shape).unbind(2), b.reshape(shape).unbind(2)
    h_steps, p_steps = local.unbind(2), prod.unbind(2)
    h_steps[0].copy_(b_steps[0])
    p_steps[0].copy_(a_steps[0])
    for l in range(1, length):
        torch.addcmul(b_steps[l], a_steps[l], h_steps[l - 1], out=h_steps[l])
        torch.mul(p_steps[l - 1], a_steps[l], out=p_steps[l])
    if _overflowed(p_steps[-1]) or _lifted_from_underflow(a, prod):
        return None
    carry = b.new_zeros(batch, chans) if h0 is None else h0
    carries = [carry]
    for h_end, p_end in zip(h_steps[-1].unbind(1)[:-1], p_steps[-1].unbind(1)[:-1]):
        carry = torch.addcmul(h_end, p_end, carry)
        carries.append(carry)
    local.addcmul_(prod, torch.stack(carries, dim=1)[:, :, None])
    scanned = local.reshape(batch, n_chunks * length, chans)
    # a slice of the padded buffer would be non-contiguous (``view`` fails) and hold the padding
    return scanned[:, :n_steps].contiguous() if pad else scanned


def _overflowed(prod_end: torch.Tensor) -> bool:
    """Whether a chunk's gate product is inf or NaN (one read of the chunks' last products).

    Once non-finite, a product stays so to the chunk's end (inf times a gate is inf or NaN), so
    the last step tells. A ``meta`` tensor has no values to read: shape inference goes on.
    """
    return not prod_end.is_meta and not bool(torch.isfinite(prod_end).all())


def _lifted_from_underflow(a: torch.Tensor, prod: torch.Tensor) -> bool:
    """Whether gates above 1 in magnitude may have lifted a gate product from below the smallest
    normal number, where it lost its digits (or all of them, at 0).

    Gates at most 1, the usual decays, only shrink a product: an underflowed one stays below the
    smallest normal times the carried-in state, under the rounding of the other terms. So the
    product is read (a second pass) only where some gate is above 1.
    """
    if a.is_meta:
        return False
    # one pass of aminmax reads a real tensor 10x faster than vector_norm(a, inf), which costs
    # as much as a third of the chunked scan itself
    low, high = torch.aminmax(a) if not a.is_complex() else (-1, a.abs().amax())
    if not bool((high > 1) | (low < -1)):
        return False
    return bool(prod.abs().amin() < torch.finfo(prod.dtype).tiny)


def scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, reverse: bool) -> torch.Tensor:
    """Pick the plain or chunked loop by size (no autograd bookkeeping of its own).

    The backward runs through here too, so its adjoint scan falls back to the loop the same way.
    """
    batch, n_steps, chans = a.shape
    # empty rows take the loop: the chunked path's checks reduce over the gates, which an empty tensor has not
    if 0 < batch * chans <= CHUNK_MAX_ROWS and n_steps >= CHUNK_MIN_TIME:
        h = _chunk_scan(a.flip(1), b.flip(1), h0) if reverse else _chunk_scan(a, b, h0)
        if h is not None:
            return h.flip(1) if reverse else h
    return _loop_scan(a, b, h0, reverse)


def _conj(x: torch.Tensor) -> torch.Tensor:
    return x.conj() if x.is_complex() else x


class _LinearScanFn(HandWrittenBackward):
    """Linear scan whose backward is the reverse scan of the output gradient."""

    @staticmethod
    def forward(ctx, a, b, h0, reverse):  # noqa: D102 - autograd protocol
        h = scan(a, b, h0, reverse)
        ctx.save_for_backward(a, h, h0)
        ctx.reverse = reverse
        return h

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, grad_h):  # noqa: D102 - autograd protocol
        a, h, h0 = ctx.saved_tensors
        g = adjoint_scan(a, grad_h, ctx.reverse)
        da, dh0 = gate_and_state_grads(g, a, h, h0, ctx.reverse, ctx.needs_input_grad)
        return da, g, dh0, None


def adjoint_scan(a: torch.Tensor, grad_h: torch.Tensor, reverse: bool) -> torch.Tensor:
    """The adjoint states ``g = dL/dh`` of ``h = scan(a, b, ., reverse)`` from ``grad_h`` (also ``dL/db``)."""
    a_c = _conj(a)
    # the adjoint of step t is fed by step t+1 (t-1 when reversed): shift the gates. The gate shifted
    # in meets the scan's first step, which has no state before it, so its value is never used: 1,
    # not 0, as a 0 there made every gate product 0, and any gate above 1 then sent the chunked scan
    # back to the plain loop (as an underflow it might have lifted; 37x slower at T = 20000)
    one = torch.ones_like(a_c[:, :1])
    a_adj = torch.cat([one, a_c[:, :-1]], 1) if reverse else torch.cat([a_c[:, 1:], one], 1)
    return scan(a_adj, grad_h.contiguous(), None, not reverse)


def gate_and_state_grads(
    g: torch.Tensor,
    a: torch.Tensor,
    h: torch.Tensor,
    h0: torch.Tensor | None,
    reverse: bool,
    needs_input_grad: tuple[bool, ...],
) -> tuple:
    """Gradients of the gates and of the initial state from the adjoint states ``g``.

    Shared by every backend's backward: ``dL/da_t = g_t * conj(h_{t-1})`` (the state the gate
    multiplied) and ``dL/dh0 = g_first * conj(a_first)``; None where no gradient is needed.
    """
    da = dh0 = None
    if needs_input_grad[0]:
        start = torch.zeros_like(h[:, :1]) if h0 is None else h0[:, None]
        h_prev = torch.cat([h[:, 1:], start], 1) if reverse else torch.cat([start, h[:, :-1]], 1)
        da = g * _conj(h_prev)
    if h0 is not None and needs_input_grad[2]:
        first = -1 if reverse else 0
        dh0 = g[:, first] * _conj(a[:, first])
    return da, dh0


def linear_scan_torch(
    a: torch.Tensor, b: torch.Tensor, initial_state: torch.Tensor | None = None, reverse: bool = False
) -> torch.Tensor:
    """Linear scan on any device with PyTorch ops; half precision is computed in float32.

    Parameters
    ----------
    a, b : torch.Tensor
        Gates and inputs, ``(batch, time, channels)``, one dtype.
    initial_state : torch.Tensor or None
        ``(batch, channels)`` state before the first step.
    reverse : bool
        Scan from the last step to the first.

    Returns
    -------
    torch.Tensor
        All states, dtype of ``b``.
    """
    wide = compute_dtype(b.dtype)
    h0 = None if initial_state is None else initial_state.to(wide)
    refuse_functorch("linear_scan", a, b, h0)
    return _LinearScanFn.apply(a.to(wide), b.to(wide), h0, reverse).to(b.dtype)
