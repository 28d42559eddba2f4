"""Triton selective scan: forward and backward kernels (GPU; CPU interpreter for tests).

Grid ``(batch, G, ceil((D/G) / BLOCK_D))``: one program owns a block of channels of one group,
so ``B_t``/``C_t`` are one ``[N]`` vector per step and the sums over channels that the
gradients of ``B``/``C`` need stay inside the program (partial sums per block are added up in
torch: no atomics, deterministic). The ``[BLOCK_D, N]`` state lives in registers for the whole
time loop. Forward writes only the states at chunk starts; backward recomputes one chunk of
states into a small scratch buffer and walks it backwards (see ``torch_impl`` for the adjoint
equations). ``tl.exp`` and plain loads/stores only, so ``TRITON_INTERPRET=1`` runs it.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .common import finish_output, grouped, widen_inputs

BLOCK_D = 32


@triton.jit
def _fwd_kernel(
    u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, h0_ptr, y_ptr, hT_ptr, st_ptr,
    T, D, G, Dg, N,
    HAS_H0: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb = tl.program_id(0).to(tl.int64)
    pg = tl.program_id(1).to(tl.int64)
    dl = tl.program_id(2).to(tl.int64) * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    d = pg * Dg + dl
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    dmask, nmask = dl < Dg, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]
    A = tl.load(A_ptr + tile, mask=m2, other=0.0)
    if HAS_H0:
        h = tl.load(h0_ptr + pb * D * N + tile, mask=m2, other=0.0)
    else:
        h = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    n_chunks = tl.cdiv(T, CHUNK)
    for t in range(T):
        if t % CHUNK == 0:  # checkpoint: state entering this chunk
            tl.store(st_ptr + (pb * n_chunks + t // CHUNK) * D * N + tile, h, mask=m2)
        off = (pb * T + t) * D + d
        dt = tl.load(dt_ptr + off, mask=dmask, other=0.0)
        u = tl.load(u_ptr + off, mask=dmask, other=0.0)
        bc = ((pb * T + t) * G + pg) * N + n
        Bt = tl.load(B_ptr + bc, mask=nmask, other=0.0)
        Ct = tl.load(C_ptr + bc, mask=nmask, other=0.0)
        h = tl.exp(dt[:, None] * A) * h + (dt * u)[:, None] * Bt[None, :]
        tl.store(y_ptr + off, tl.sum(h * Ct[None, :], axis=1), mask=dmask)
    tl.store(hT_ptr + pb * D * N + tile, h, mask=m2)


@triton.jit
def _bwd_kernel(
    u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, st_ptr, gy_ptr, ghT_ptr, scr_ptr,
    gu_ptr, gdt_ptr, gA_ptr, gB_ptr, gC_ptr, gh0_ptr,
    T, D, G, Dg, N, NBLK,
    HAS_GHT: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb = tl.program_id(0).to(tl.int64)
    pg = tl.program_id(1).to(tl.int64)
    pd = tl.program_id(2).to(tl.int64)
    dl = pd * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    d = pg * Dg + dl
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    dmask, nmask = dl < Dg, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]
    scr = scr_ptr + ((pb * D + d[:, None]) * (CHUNK + 1)) * N + n[None, :]
    A = tl.load(A_ptr + tile, mask=m2, other=0.0)
    if HAS_GHT:
        g = tl.load(ghT_ptr + pb * D * N + tile, mask=m2, other=0.0)
    else:
        g = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    gA = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    n_chunks = tl.cdiv(T, CHUNK)
    for ci in range(n_chunks):
        c = n_chunks - 1 - ci
        h = tl.load(st_ptr + (pb * n_chunks + c) * D * N + tile, mask=m2, other=0.0)
        tl.store(scr, h, mask=m2)
        for k in range(CHUNK):  # recompute the chunk's states; steps past T leave h unchanged
            t = c * CHUNK + k
            vd, vn = dmask & (dl * 0 + t < T), nmask & (n * 0 + t < T)
            off = (pb * T + t) * D + d
            dt = tl.load(dt_ptr + off, mask=vd, other=0.0)
            u = tl.load(u_ptr + off, mask=vd, other=0.0)
            Bt = tl.load(B_ptr + ((pb * T + t) * G + pg) * N + n, mask=vn, other=0.0)
            h = tl.exp(dt[:, None] * A) * h + (dt * u)[:, None] * Bt[None, :]
            tl.store(scr + (k + 1) * N, h, mask=m2)
        tl.debug_barrier()
        for kk in range(CHUNK):
            k = CHUNK - 1 - kk
            t = c * CHUNK + k
            vd, vn = dmask & (dl * 0 + t < T), nmask & (n * 0 + t < T)
            off = (pb * T + t) * D + d
            dt = tl.load(dt_ptr + off, mask=vd, other=0.0)
            u = tl.load(u_ptr + off, mask=vd, other=0.0)
            gy = tl.load(gy_ptr + off, mask=vd, other=0.0)
            bc = ((pb * T + t) * G + pg) * N + n
            Bt = tl.load(B_ptr + bc, mask=vn, other=0.0)
            Ct = tl.load(C_ptr + bc, mask=vn, other=0.0)
            h_prev = tl.load(scr + k * N, mask=m2, other=0.0)
            h_t = tl.load(scr + (k + 1) * N, mask=m2, other=0.0)
            decay = tl.exp(dt[:, None] * A)
            g = g + gy[:, None] * Ct[None, :]  # adjoint of h_t
            part = (((pb * T + t) * G + pg) * NBLK + pd) * N + n
            tl.store(gC_ptr + part, tl.sum(gy[:, None] * h_t, axis=0), mask=vn)
            tl.store(gB_ptr + part, tl.sum(g * (dt * u)[:, None], axis=0), mask=vn)
            gdu = tl.sum(g * Bt[None, :], axis=1)
            s = g * h_prev * decay  # gradient of delta_t * A
            tl.store(gdt_ptr + off, tl.sum(s * A, axis=1) + gdu * u, mask=vd)
            tl.store(gu_ptr + off, gdu * dt, mask=vd)
            gA += s * dt[:, None]
            g = g * decay
        tl.debug_barrier()  # the next chunk overwrites the scratch rows read above
    tl.store(gh0_ptr + pb * D * N + tile, g, mask=m2)
    tl.store(gA_ptr + pb * D * N + tile, gA, mask=m2)


def _config(T: int, N: int, Dg: int) -> tuple[int, int, int, int]:
    chunk = min(32, triton.next_power_of_2(T))
    block_d = min(BLOCK_D, triton.next_power_of_2(Dg))
    return chunk, block_d, triton.next_power_of_2(N), triton.cdiv(Dg, block_d)


class _SelectiveScanTritonFn(torch.autograd.Function):
    """u, delta ``(b,T,D)``; A ``(D,N)``; B, C ``(b,T,G,N)``; h0 ``(b,D,N)``; one dtype, contiguous."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, h0):  # noqa: D102 - autograd protocol
        (batch, T, D), G, N = u.shape, B.shape[2], A.shape[1]
        chunk, block_d, block_n, nblk = _config(T, N, D // G)
        y = torch.empty_like(u)
        hT = u.new_empty(batch, D, N)
        starts = u.new_empty(batch, triton.cdiv(T, chunk), D, N)
        _fwd_kernel[(batch, G, nblk)](
            u, delta, A, B, C, h0 if h0 is not None else hT, y, hT, starts, T, D, G, D // G, N,
            HAS_H0=h0 is not None, CHUNK=chunk, BLOCK_D=block_d, BLOCK_N=block_n,
        )
        ctx.save_for_backward(u, delta, A, B, C, starts)
        return y, hT

    @staticmethod
    def backward(ctx, gy, ghT):  # noqa: D102 - autograd protocol
        u, delta, A, B, C, starts = ctx.saved_tensors
        (batch, T, D), G, N = u.shape, B.shape[2], A.shape[1]
        chunk, block_d, block_n, nblk = _config(T, N, D // G)
        gy = torch.zeros_like(u) if gy is None else gy.contiguous()
        gu, gdelta = torch.empty_like(u), torch.empty_like(u)
        gA, gh0 = u.new_empty(batch, D, N), u.new_empty(batch, D, N)
        gB, gC = u.new_zeros(batch, T, G, nblk, N), u.new_zeros(batch, T, G, nblk, N)
        scratch = u.new_empty(batch, D, chunk + 1, N)
        _bwd_kernel[(batch, G, nblk)](
            u, delta, A, B, C, starts, gy, ghT.contiguous() if ghT is not None else gy, scratch,
            gu, gdelta, gA, gB, gC, gh0, T, D, G, D // G, N, nblk,
            HAS_GHT=ghT is not None, CHUNK=chunk, BLOCK_D=block_d, BLOCK_N=block_n,
        )
        return gu, gdelta, gA.sum(0), gB.sum(3), gC.sum(3), gh0 if ctx.needs_input_grad[5] else None


def selective_scan_triton(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, initial_state=None):
    """Selective scan with the Triton kernels; arguments as in :func:`tsrec.kernels.selective_scan`.

    The kernels run in float32 (float64 for float64 inputs); the cheap ``(batch, time, D)``
    pre- and post-processing runs in torch.

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
    parts = [x.contiguous() for x in (u_w, delta_w, A_w, grouped(B_w), grouped(C_w))]
    y, hT = _SelectiveScanTritonFn.apply(*parts, None if h0 is None else h0.contiguous())
    return finish_output(y, u_w, D_w, z_w).to(u.dtype), hT
