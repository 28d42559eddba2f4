"""Triton 2-D Roesser scan: forward and backward kernels (GPU; CPU interpreter for tests).

Grid ``batch * ceil(D / BLOCK_D)`` programs on one axis, batch fastest (CUDA's axis 1 ends at
65535, which the channel blocks reach at ``D = 65536`` when a block is one channel: float32 with
``N > 16``, float64 with ``N > 8``). One program owns a block of channels of one batch row. It
walks the variates in scan order (a column of the grid at a time) and, down each column, time
in tiles of ``CHUNK_T`` steps. With ``a1 = exp(delta1 A1)``, ``a2 = exp(delta1 A2)``,
``a3 = exp(delta2 A3)``, ``a4 = exp(delta2 A4)`` of a cell and ``q`` the states of the previous
variate in scan order at the same step::

    h2(t,v) = a4 q2 + a3 q1 + delta2 x B2                  (no recurrence within the column)
    h1(t,v) = a1 h1(t-1,v) + [a2 h2(t-1,v) + delta1 x B1]  (a linear scan down the column)

so a whole ``(CHUNK_T, BLOCK_D, N)`` tile of ``h2`` is computed at once from the previous
column's states, read back from the state grids ``H1``/``H2`` ``(batch, T, V, D, N)`` (which the
backward needs anyway), and ``h1`` is scanned in registers with ``tl.associative_scan``. A
cell-at-a-time walk waits one memory latency per cell (``T * V`` in all); this one waits about
``V * T / CHUNK_T`` times.

Backward walks the columns and tiles in the reverse order. With ``next`` the following cell in
scan order, the state adjoints are::

    G1(t,v) = dy C1 + a3(t,next) G2(t,next) + a1(t+1,v) G1(t+1,v)
    G2(t,v) = dy C2 + a4(t,next) G2(t,next) + a2(t+1,v) G1(t+1,v)

The ``next`` terms were written by the column processed before (a scratch column, double
buffered); ``G1(t+1)`` is a reverse scan over the tile's inputs shifted one step, whose last
row is the first ``G1`` of the tile after it; ``G1(t)`` and ``G2(t)`` then follow cell by cell.
Per-cell gradients (``p`` the states at ``(t-1, v)``, sums over ``N`` unless noted)::

    dx  = d1 <G1, B1> + d2 <G2, B2>
    dd1 = x <G1, B1> + <G1 a1 p1, A1> + <G1 a2 p2, A2>
    dd2 = x <G2, B2> + <G2 a4 q2, A4> + <G2 a3 q1, A3>
    dA1 += G1 a1 p1 d1  (and likewise A2..A4; per (d, n), summed over b on the host)
    dB1 = sum_d G1 d1 x,  dC1 = sum_d dy h1  (per channel block, summed on the host)

The host reductions keep the kernels free of atomics, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only
from .._launch import cdiv, flat_grid, next_power_of_2, on_device_of
from .._triton_tiles import carried, compose_affine, tile_gain, tile_row
from .naive import State
BLOCK_D = 16  # channels per program, at most
CHUNK_T = 16  # time steps per tile
TILE_VALUES = 512  # (time, channel, state) values per tile, float32 (float64: half); see _meta
FWD_WARPS, BWD_WARPS = 8, 4


@triton.jit
def _program(batch):
    """This program's batch row and channel block, from the flat grid (batch fastest)."""
    pid = tl.program_id(0).to(tl.int64)
    return pid % batch, pid // batch


@triton.jit
def _rows(ptr, cell, ok, cols, col_ok, width):
    """``[CHUNK, len(cols)]`` values of the cells ``cell`` (zero where not ``ok``)."""
    return tl.load(ptr + cell[:, None] * width + cols[None, :], mask=ok[:, None] & col_ok[None, :], other=0.0)


@triton.jit
def _states(H_ptr, cell, ok, tile, m2, DN):
    """``[CHUNK, BLOCK_D, N]`` grid states of the cells ``cell`` (zero where not ``ok``)."""
    return tl.load(H_ptr + cell[:, None, None] * DN + tile[None, :, :], mask=ok[:, None, None] & m2[None, :, :],
                   other=0.0)


@triton.jit
def _h2_cells(x_ptr, d2_ptr, B2_ptr, H1_ptr, H2_ptr, A3, A4, cell, pcell, ok, has_prev, d, dmask, n, nmask,
              tile, m2, D, N, HAS_A3: tl.constexpr):
    """``h2`` of the cells ``cell`` from the previous variate's states (cells ``pcell``) and the input."""
    DN = D * N
    d2 = _rows(d2_ptr, cell, ok, d, dmask, D)[:, :, None]
    h2 = (d2 * _rows(x_ptr, cell, ok, d, dmask, D)[:, :, None]) * _rows(B2_ptr, cell, ok, n, nmask, N)[:, None, :]
    h2 += tl.exp(d2 * A4[None]) * _states(H2_ptr, pcell, ok & has_prev, tile, m2, DN)
    if HAS_A3:
        h2 += tl.exp(d2 * A3[None]) * _states(H1_ptr, pcell, ok & has_prev, tile, m2, DN)
    return h2


@triton.jit
def _fwd_kernel(
    x_ptr, d1_ptr, d2_ptr, A1_ptr, A2_ptr, A3_ptr, A4_ptr, B1_ptr, B2_ptr, C1_ptr, C2_ptr,
    h01_ptr, h02_ptr, y_ptr, H1_ptr, H2_ptr,
    batch, T, V, D, N,
    HAS_A2: tl.constexpr, HAS_A3: tl.constexpr, HAS_H0: tl.constexpr, REVERSE: tl.constexpr,
    CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb, pd = _program(batch)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    lane = tl.arange(0, CHUNK).to(tl.int64)
    dmask, nmask = d < D, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]  # [BD, BN]
    # an absent A2/A3 points at A1: loaded, never used
    A1, A2 = tl.load(A1_ptr + tile, mask=m2, other=0.0), tl.load(A2_ptr + tile, mask=m2, other=0.0)
    A3, A4 = tl.load(A3_ptr + tile, mask=m2, other=0.0), tl.load(A4_ptr + tile, mask=m2, other=0.0)
    DN = D * N
    for i in range(V):
        v = V - 1 - i if REVERSE else i
        pv = v + 1 if REVERSE else v - 1  # the previous variate in scan order
        if HAS_H0:
            h1 = tl.load(h01_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)
            h2_init = tl.load(h02_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)
        else:
            h1 = tl.zeros([BLOCK_D, BLOCK_N], dtype=A1.dtype)
            h2_init = h1
        for c in range(tl.cdiv(T, CHUNK)):
            t = c * CHUNK + lane
            ok = t < T
            cell, pcell = (pb * T + t) * V + v, (pb * T + t) * V + pv
            h2 = _h2_cells(x_ptr, d2_ptr, B2_ptr, H1_ptr, H2_ptr, A3, A4, cell, pcell, ok, i > 0, d, dmask, n, nmask,
                           tile, m2, D, N, HAS_A3)
            d1 = _rows(d1_ptr, cell, ok, d, dmask, D)[:, :, None]
            b = ((d1 * _rows(x_ptr, cell, ok, d, dmask, D)[:, :, None])
                 * _rows(B1_ptr, cell, ok, n, nmask, N)[:, None, :])
            if HAS_A2:  # h2 one step earlier: recomputed, or the initial state before t = 0
                h2_prev = _h2_cells(x_ptr, d2_ptr, B2_ptr, H1_ptr, H2_ptr, A3, A4, cell - V, pcell - V, ok & (t > 0),
                                    i > 0, d, dmask, n, nmask, tile, m2, D, N, HAS_A3)
                h2_prev += tl.where(t[:, None, None] == 0, h2_init[None], 0.0)
                b += tl.exp(d1 * A2[None]) * h2_prev
            _, local = tl.associative_scan((tl.exp(d1 * A1[None]), b), 0, compose_affine)
            hs = local + carried(tile_gain(d1, A1, False), h1[None])
            full = ok[:, None, None] & m2[None]
            tl.store(H1_ptr + cell[:, None, None] * DN + tile[None], hs, mask=full)
            tl.store(H2_ptr + cell[:, None, None] * DN + tile[None], h2, mask=full)
            y = tl.sum(hs * _rows(C1_ptr, cell, ok, n, nmask, N)[:, None, :]
                       + h2 * _rows(C2_ptr, cell, ok, n, nmask, N)[:, None, :], axis=2)
            tl.store(y_ptr + cell[:, None] * D + d[None, :], y, mask=ok[:, None] & dmask[None, :])
            # padding steps leave h1 unchanged: the last row is the state leaving the tile
            h1 = tile_row(hs, lane, CHUNK - 1)
        tl.debug_barrier()  # this column is read back as the previous variate of the next


@triton.jit
def _bwd_kernel(
    x_ptr, d1_ptr, d2_ptr, A1_ptr, A2_ptr, A3_ptr, A4_ptr, B1_ptr, B2_ptr, C1_ptr, C2_ptr,
    h01_ptr, h02_ptr, H1_ptr, H2_ptr, gy_ptr, gT1_ptr, gT2_ptr, R_ptr,
    gx_ptr, gd1_ptr, gd2_ptr, gA1_ptr, gA2_ptr, gA3_ptr, gA4_ptr, gB1_ptr, gB2_ptr, gC1_ptr, gC2_ptr,
    gh01_ptr, gh02_ptr,
    batch, T, V, D, N, NBLK,
    HAS_A2: tl.constexpr, HAS_A3: tl.constexpr, HAS_H0: tl.constexpr, HAS_GT: tl.constexpr,
    REVERSE: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb, pd = _program(batch)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    lane = tl.arange(0, CHUNK).to(tl.int64)
    dmask, nmask = d < D, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]  # [BD, BN]
    # an absent A2/A3 points at A1: loaded, never used (its e_k below stays zero)
    A1, A2 = tl.load(A1_ptr + tile, mask=m2, other=0.0), tl.load(A2_ptr + tile, mask=m2, other=0.0)
    A3, A4 = tl.load(A3_ptr + tile, mask=m2, other=0.0), tl.load(A4_ptr + tile, mask=m2, other=0.0)
    zero = tl.zeros([BLOCK_D, BLOCK_N], dtype=A1.dtype)
    gA1, gA2, gA3, gA4 = zero, zero, zero, zero
    DN = (pb * 0 + D) * N  # int64 (pb is): T * DN offsets in the scratch pass 2**31 at T*D*N >= 2**30
    # R: two scratch columns (batch, 2, 2, T, D, N) of a3 G2 and a4 G2, alternating by column parity
    R_base = R_ptr + pb * 4 * T * DN
    for ii in range(V):
        i = V - 1 - ii  # position in scan order
        v = V - 1 - i if REVERSE else i
        pv = v + 1 if REVERSE else v - 1
        R_in, R_out = R_base + (ii % 2) * 2 * T * DN, R_base + ((ii + 1) % 2) * 2 * T * DN
        has_next = ((lane * 0 + ii) > 0)[:, None, None]  # a tensor: plain bools do not mask loads
        if HAS_GT:
            g1 = tl.load(gT1_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)  # G1 "at T": the final state's
            gT2 = tl.load(gT2_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)
        else:
            g1, gT2 = zero, zero
        flow1, flow2 = zero, zero
        n_chunks = tl.cdiv(T, CHUNK)
        for cc in range(n_chunks):
            c = n_chunks - 1 - cc
            t = c * CHUNK + lane
            ok = t < T
            cell, pcell = (pb * T + t) * V + v, (pb * T + t) * V + pv
            rows = t[:, None, None] * DN + tile[None]
            full = ok[:, None, None] & m2[None]
            # G1(t+1): reverse scan over the inputs one step later; its last row is the later tile's first G1
            nxt = ok & (t + 1 < T)
            c1_next = (_rows(gy_ptr, cell + V, nxt, d, dmask, D)[:, :, None]
                       * _rows(C1_ptr, cell + V, nxt, n, nmask, N)[:, None, :])
            c1_next += tl.load(R_in + rows + DN, mask=full & nxt[:, None, None] & has_next, other=0.0)
            a1_after = tl.exp(_rows(d1_ptr, cell + 2 * V, ok & (t + 2 < T), d, dmask, D)[:, :, None] * A1[None])
            last = lane[:, None, None] == CHUNK - 1
            _, g1_next = tl.associative_scan((tl.where(last, 0.0, a1_after), tl.where(last, g1[None], c1_next)), 0,
                                             compose_affine, reverse=True)
            d1n = _rows(d1_ptr, cell + V, nxt, d, dmask, D)[:, :, None]
            gy = _rows(gy_ptr, cell, ok, d, dmask, D)
            G1 = gy[:, :, None] * _rows(C1_ptr, cell, ok, n, nmask, N)[:, None, :] + tl.exp(d1n * A1[None]) * g1_next
            G1 += tl.load(R_in + rows, mask=full & has_next, other=0.0)
            G2 = gy[:, :, None] * _rows(C2_ptr, cell, ok, n, nmask, N)[:, None, :]
            G2 += tl.load(R_in + rows + T * DN, mask=full & has_next, other=0.0)
            G2 += tl.where(t[:, None, None] == T - 1, gT2[None], 0.0)
            # this cell's states, its time neighbours p (the initial state at t = 0) and variate neighbours q
            h1, h2 = _states(H1_ptr, cell, ok, tile, m2, DN), _states(H2_ptr, cell, ok, tile, m2, DN)
            p1 = _states(H1_ptr, cell - V, ok & (t > 0), tile, m2, DN)
            if HAS_H0:
                p1 += tl.where(t[:, None, None] == 0,
                               tl.load(h01_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)[None], 0.0)
            has_prev = ok & ((lane * 0 + i) > 0)
            q1 = _states(H1_ptr, pcell, has_prev, tile, m2, DN)
            q2 = _states(H2_ptr, pcell, has_prev, tile, m2, DN)
            x = _rows(x_ptr, cell, ok, d, dmask, D)
            d1 = _rows(d1_ptr, cell, ok, d, dmask, D)
            d2 = _rows(d2_ptr, cell, ok, d, dmask, D)
            a1, a4 = tl.exp(d1[:, :, None] * A1[None]), tl.exp(d2[:, :, None] * A4[None])
            if HAS_A2:  # the G1 term is a2(t+1) G1(t+1), zero past the last step
                G2 += tl.where(nxt[:, None, None], tl.exp(d1n * A2[None]), 0.0) * g1_next
            G1 = tl.where(full, G1, 0.0)
            G2 = tl.where(full, G2, 0.0)
            # e_k: gradient of the exponent delta * A_k of each transition term (zero if dropped)
            e1, e4 = G1 * a1 * p1, G2 * a4 * q2
            e2, e3, to_p2, r3 = zero[None], zero[None], zero[None], zero[None]
            if HAS_A2:
                p2 = _states(H2_ptr, cell - V, ok & (t > 0), tile, m2, DN)
                if HAS_H0:
                    p2 += tl.where(t[:, None, None] == 0,
                                   tl.load(h02_ptr + (pb * V + v) * DN + tile, mask=m2, other=0.0)[None], 0.0)
                to_p2 = G1 * tl.exp(d1[:, :, None] * A2[None])
                e2 = to_p2 * p2
            if HAS_A3:
                r3 = G2 * tl.exp(d2[:, :, None] * A3[None])
                e3 = r3 * q1
            gA1 += tl.sum(e1 * d1[:, :, None], axis=0)
            gA2 += tl.sum(e2 * d1[:, :, None], axis=0)
            gA3 += tl.sum(e3 * d2[:, :, None], axis=0)
            gA4 += tl.sum(e4 * d2[:, :, None], axis=0)
            gb1 = tl.sum(G1 * _rows(B1_ptr, cell, ok, n, nmask, N)[:, None, :], axis=2)
            gb2 = tl.sum(G2 * _rows(B2_ptr, cell, ok, n, nmask, N)[:, None, :], axis=2)
            out, row_ok = cell[:, None] * D + d[None, :], ok[:, None] & dmask[None, :]
            tl.store(gx_ptr + out, d1 * gb1 + d2 * gb2, mask=row_ok)
            tl.store(gd1_ptr + out, x * gb1 + tl.sum(e1 * A1[None] + e2 * A2[None], axis=2), mask=row_ok)
            tl.store(gd2_ptr + out, x * gb2 + tl.sum(e4 * A4[None] + e3 * A3[None], axis=2), mask=row_ok)
            part, part_ok = (cell[:, None] * NBLK + pd) * N + n[None, :], ok[:, None] & nmask[None, :]
            tl.store(gB1_ptr + part, tl.sum(G1 * (d1 * x)[:, :, None], axis=1), mask=part_ok)
            tl.store(gB2_ptr + part, tl.sum(G2 * (d2 * x)[:, :, None], axis=1), mask=part_ok)
            tl.store(gC1_ptr + part, tl.sum(gy[:, :, None] * h1, axis=1), mask=part_ok)
            tl.store(gC2_ptr + part, tl.sum(gy[:, :, None] * h2, axis=1), mask=part_ok)
            # what flows to the previous variate in scan order, read there as its "next" terms
            tl.store(R_out + rows, r3, mask=full)
            tl.store(R_out + rows + T * DN, G2 * a4, mask=full)
            g1 = tile_row(G1, lane, 0)
            flow1, flow2 = tile_row(G1 * a1, lane, 0), tile_row(to_p2 + zero[None], lane, 0)
        if HAS_H0:  # after t = 0: what flows to the initial states
            tl.store(gh01_ptr + (pb * V + v) * DN + tile, flow1, mask=m2)
            tl.store(gh02_ptr + (pb * V + v) * DN + tile, flow2, mask=m2)
        tl.debug_barrier()  # R_out is read as R_in by the next column
    out = pb * DN + tile
    tl.store(gA1_ptr + out, gA1, mask=m2)
    tl.store(gA4_ptr + out, gA4, mask=m2)
    if HAS_A2:
        tl.store(gA2_ptr + out, gA2, mask=m2)
    if HAS_A3:
        tl.store(gA3_ptr + out, gA3, mask=m2)


def _meta(A, init, reverse: bool, T: int, D: int, N: int, dtype: torch.dtype) -> tuple[int, dict]:
    """Number of channel blocks and the kernels' compile-time flags.

    The ``(CHUNK, BLOCK_D, N)`` tile holds at most ``TILE_VALUES`` values (half in float64): each
    kernel keeps about a dozen such tiles live, and at this size both compile without register
    spills for sm_80/sm_90 (tests/kernels/test_triton_compile.py).
    """
    chunk, block_n = min(CHUNK_T, next_power_of_2(T)), next_power_of_2(N)
    budget = TILE_VALUES // (2 if dtype == torch.float64 else 1)
    block_d = max(1, min(BLOCK_D, next_power_of_2(D), budget // (chunk * block_n)))
    flags = dict(HAS_A2=A[1] is not None, HAS_A3=A[2] is not None, HAS_H0=init[0] is not None,
                 REVERSE=reverse, CHUNK=chunk, BLOCK_D=block_d, BLOCK_N=block_n)
    return cdiv(D, block_d), flags


class _Scan2dTritonFn(HandWrittenBackward):
    """x, d1, d2 ``(b,T,V,D)``; A ``(D,N)`` (A2/A3 may be None); B, C ``(b,T,V,N)``; h0 ``(b,V,D,N)``."""

    @staticmethod
    def forward(ctx, x, d1, d2, A1, A2, A3, A4, B1, B2, C1, C2, h01, h02, reverse):  # noqa: D102
        (batch, T, V, D), N = x.shape, A1.shape[1]
        A, init = (A1, A2, A3, A4), (h01, h02)
        y = torch.empty_like(x)
        H1, H2 = x.new_empty(batch, T, V, D, N), x.new_empty(batch, T, V, D, N)
        nblk, flags = _meta(A, init, reverse, T, D, N, x.dtype)
        # absent optional tensors: any valid pointer, never read (their constexpr flag is off)
        with on_device_of(x):
            _fwd_kernel[flat_grid(batch, nblk)](
                x, d1, d2, *[A1 if a is None else a for a in A], B1, B2, C1, C2,
                *[H1 if h is None else h for h in init], y, H1, H2, batch, T, V, D, N, **flags, num_warps=FWD_WARPS,
            )
        ctx.save_for_backward(x, d1, d2, A1, A2, A3, A4, B1, B2, C1, C2, h01, h02, H1, H2)
        ctx.reverse = reverse
        ctx.set_materialize_grads(False)
        return y, H1[:, -1].clone(), H2[:, -1].clone()

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy, gT1, gT2):  # noqa: D102 - autograd protocol
        x, d1, d2, A1, A2, A3, A4, B1, B2, C1, C2, h01, h02, H1, H2 = ctx.saved_tensors
        (batch, T, V, D), N = x.shape, A1.shape[1]
        A, init = (A1, A2, A3, A4), (h01, h02)
        nblk, flags = _meta(A, init, ctx.reverse, T, D, N, x.dtype)
        gy = torch.zeros_like(x) if gy is None else gy.contiguous()
        has_gT = gT1 is not None or gT2 is not None
        gT = [torch.zeros_like(H1[:, 0]) if g is None else g.contiguous() for g in (gT1, gT2)] if has_gT else [x, x]
        gx, gd1, gd2 = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
        gA = [None if a is None else x.new_zeros(batch, D, N) for a in A]
        gBC = [x.new_zeros(batch, T, V, nblk, N) for _ in range(4)]
        scratch = x.new_empty(batch, 2, 2, T, D, N)  # two columns of a3 G2 and a4 G2
        gh0 = [x.new_empty(batch, V, D, N) for _ in range(2)] if h01 is not None else [x, x]
        with on_device_of(x):
            _bwd_kernel[flat_grid(batch, nblk)](
                x, d1, d2, *[A1 if a is None else a for a in A], B1, B2, C1, C2,
                *[H1 if h is None else h for h in init], H1, H2, gy, *gT, scratch,
                gx, gd1, gd2, *[gA[0] if g is None else g for g in gA], *gBC, *gh0, batch, T, V, D, N, nblk,
                HAS_GT=has_gT, **flags, num_warps=BWD_WARPS,
            )
        gA = [None if g is None else g.sum(0) for g in gA]
        dinit = tuple(gh0) if h01 is not None else (None, None)
        return (gx, gd1, gd2, *gA, *(g.sum(3) for g in gBC), *dinit, None)


def scan2d_triton(
    x: torch.Tensor,
    delta1: torch.Tensor,
    delta2: torch.Tensor,
    A: Sequence[torch.Tensor | None],
    BC: Sequence[torch.Tensor],
    init: State | None,
    reverse: bool,
) -> tuple[torch.Tensor, State]:
    """2-D scan with the Triton kernels; arguments as :func:`.naive.scan_naive` takes them.

    Inputs are float32 or float64 (the caller casts) and the kernels compute in that dtype; the
    ``D`` skip is left to the caller, as on the torch path.

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, variates, channels)``.
    final_state : tuple of two torch.Tensor
        ``(h1, h2)`` at the last time step, ``(batch, variates, channels, N)`` each.
    """
    prep = lambda t: None if t is None else t.contiguous()  # noqa: E731
    init = (None, None) if init is None else init
    args = [prep(t) for t in (x, delta1, delta2, *A, *BC, *init)]
    y, h1, h2 = _Scan2dTritonFn.apply(*args, reverse)
    return y, (h1, h2)
