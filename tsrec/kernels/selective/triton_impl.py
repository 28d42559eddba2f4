"""Triton selective scan: forward and backward kernels (GPU; CPU interpreter for tests).

Grid ``batch * G * ceil((D/G) / BLOCK_D)`` programs on one axis, batch fastest (CUDA's axes 1 and
2 end at 65535, which the channel blocks reach at ``D/G = 65536`` when a block is one channel:
float32 with ``N > 64``, float64 with ``N > 32``). One program owns a block of channels of one
group, so each step's ``B_t``/``C_t`` is one ``[N]`` vector and the sums over channels that the
gradients of ``B``/``C`` need stay inside the program (partial sums per block are added up in
torch: no atomics, deterministic). The ``[BLOCK_D, N]`` state is carried in registers. The partial
sums take ``N`` values a block and step; where blocks are narrow (large ``N``) the backward runs in
launches of at most :data:`PARTIAL_SIZE` ``x D/G`` values a step each, so they stay 8 times the
size of ``u`` instead of up to ``N`` times (at ``(16, 720, 1024, 128)`` float32, 0.75 GB for
the two instead of 12 GB).

Time is walked one tile of ``CHUNK_T`` steps at a time, like the Mamba CUDA kernel: a whole
``(CHUNK_T, BLOCK_D, N)`` tile of decays ``exp(delta_t A)`` and inputs ``delta_t u_t B_t`` is
built from one load of ``(CHUNK_T, BLOCK_D)`` and ``(CHUNK_T, N)`` rows and scanned in
registers with ``tl.associative_scan`` (the affine maps ``h -> a h + b`` compose
associatively); the carried state enters with one multiply-add by ``exp(A * sum of delta)``
(``tile_gain``: the scan's own product of rounded decays drifted). A step-at-a-time loop instead
waits one memory latency per time step. Forward writes the state entering each tile; backward
rebuilds a tile's states from it with the same scan (inputs shifted one step, so the scan
yields ``h_{t-1}`` directly), runs the adjoint recurrence (see ``torch_impl``) as a reverse
scan, and forms every gradient of the tile at once. Scans, ``tl.exp``/``tl.exp2`` and plain
loads/stores only, so ``TRITON_INTERPRET=1`` runs it.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only
from .._launch import cdiv, flat_grid, next_power_of_2, on_device_of
from .._triton_tiles import carried, compose_affine, tile_gain, tile_row
from .common import finish_output, grouped, widen_inputs

BLOCK_D = 16  # channels per program, at most
CHUNK_T = 16  # time steps per tile
# (time, channel, state) values per tile, float32 and N <= 32 (see _config for the others). At 4096
# a backward program at 8 warps holds 16 per thread and tensor and compiles without register
# spills on sm_80/sm_90 (tests/kernels/test_triton_compile.py); a larger N narrows the channel block.
TILE_VALUES = 4096
FWD_WARPS, BWD_WARPS = 4, 8  # benchmarks/kernels_gpu.py sweeps the tile and warps on a GPU
# From 64 states the reductions over N need more registers: a program then takes two channels
# forward and one backward, whatever the dtype, which compiles without spills on sm_90 at N = 64
# with Triton 3.6 (the H200's version) and 3.9; the budgets before (halved at N >= 64, a quarter
# in float64) spilled there under Triton 3.6: the float32 backward and the float64 forward
WIDE_STATE_TILE_VALUES = {False: 2048, True: 1024}  # forward, backward
PARTIAL_SIZE = 8  # partial sums of gB and gC of one backward launch, in channels per group, a step


@triton.jit
def _program(batch, G):
    """This program's batch row, group and channel block, from the flat grid (batch fastest)."""
    pid = tl.program_id(0).to(tl.int64)
    rest = pid // batch
    return pid % batch, rest % G, rest // G


@triton.jit
def _step_terms(dt_ptr, u_ptr, B_ptr, A, pb, pg, t, ok, d, dmask, n, nmask, T, D, G, N):
    """Decays ``exp(delta_t A)`` and inputs ``delta_t u_t B_t`` of the steps ``t`` (``[CHUNK]``).

    Steps where ``ok`` is false load zeros: decay 1 and input 0, the identity map. Returns
    ``a, b`` ``[CHUNK, BLOCK_D, N]``, ``delta, u`` ``[CHUNK, BLOCK_D]`` and ``B`` ``[CHUNK, N]``.
    """
    off = (pb * T + t[:, None]) * D + d[None, :]
    m = ok[:, None] & dmask[None, :]
    dt = tl.load(dt_ptr + off, mask=m, other=0.0)
    u = tl.load(u_ptr + off, mask=m, other=0.0)
    Bt = tl.load(B_ptr + ((pb * T + t[:, None]) * G + pg) * N + n[None, :], mask=ok[:, None] & nmask[None, :],
                 other=0.0)
    a = tl.exp(dt[:, :, None] * A[None, :, :])
    b = (dt * u)[:, :, None] * Bt[:, None, :]
    return a, b, dt, u, Bt


@triton.jit
def _fwd_kernel(
    u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, h0_ptr, y_ptr, hT_ptr, st_ptr,
    batch, T, D, G, Dg, N,
    HAS_H0: tl.constexpr, SAVE: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb, pg, pd = _program(batch, G)
    dl = pd * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    d = pg * Dg + dl
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    lane = tl.arange(0, CHUNK).to(tl.int64)
    dmask, nmask = dl < Dg, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]
    A = tl.load(A_ptr + tile, mask=m2, other=0.0)
    if HAS_H0:
        h = tl.load(h0_ptr + pb * D * N + tile, mask=m2, other=0.0)
    else:
        h = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    n_chunks = tl.cdiv(T, CHUNK)
    for c in range(n_chunks):
        if SAVE:  # checkpoint for backward
            tl.store(st_ptr + (pb * n_chunks + c) * D * N + tile, h, mask=m2)
        t = c * CHUNK + lane
        ok = t < T
        a, b, dt, _, _ = _step_terms(dt_ptr, u_ptr, B_ptr, A, pb, pg, t, ok, d, dmask, n, nmask, T, D, G, N)
        _, local = tl.associative_scan((a, b), 0, compose_affine)
        hs = local + carried(tile_gain(dt[:, :, None], A, False), h[None, :, :])
        Ct = tl.load(C_ptr + ((pb * T + t[:, None]) * G + pg) * N + n[None, :], mask=ok[:, None] & nmask[None, :],
                     other=0.0)
        off = (pb * T + t[:, None]) * D + d[None, :]
        tl.store(y_ptr + off, tl.sum(hs * Ct[:, None, :], axis=2), mask=ok[:, None] & dmask[None, :])
        h = tile_row(hs, lane, CHUNK - 1)  # padding steps repeat the last state: the one leaving the tile
    tl.store(hT_ptr + pb * D * N + tile, h, mask=m2)


@triton.jit
def _bwd_kernel(
    u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, st_ptr, gy_ptr, ghT_ptr,
    gu_ptr, gdt_ptr, gA_ptr, gB_ptr, gC_ptr, gh0_ptr,
    batch, T, D, G, Dg, N, NBLK, BLK0,
    HAS_GHT: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pb, pg, part_d = _program(batch, G)  # this launch runs the channel blocks BLK0 .. BLK0 + NBLK - 1
    pd = BLK0 + part_d
    dl = pd * BLOCK_D + tl.arange(0, BLOCK_D).to(tl.int64)
    d = pg * Dg + dl
    n = tl.arange(0, BLOCK_N).to(tl.int64)
    lane = tl.arange(0, CHUNK).to(tl.int64)
    dmask, nmask = dl < Dg, n < N
    m2 = dmask[:, None] & nmask[None, :]
    tile = d[:, None] * N + n[None, :]
    A = tl.load(A_ptr + tile, mask=m2, other=0.0)
    if HAS_GHT:
        g = tl.load(ghT_ptr + pb * D * N + tile, mask=m2, other=0.0)
    else:
        g = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    gA = tl.zeros([BLOCK_D, BLOCK_N], dtype=A.dtype)
    n_chunks = tl.cdiv(T, CHUNK)
    for ci in range(n_chunks):
        c = n_chunks - 1 - ci
        t = c * CHUNK + lane
        ok = t < T
        off = (pb * T + t[:, None]) * D + d[None, :]
        row_ok = ok[:, None] & dmask[None, :]
        # states h_{t-1}: the forward scan over the tile's inputs shifted one step later
        h_in = tl.load(st_ptr + (pb * n_chunks + c) * D * N + tile, mask=m2, other=0.0)
        ap, bp, dtp, _, _ = _step_terms(dt_ptr, u_ptr, B_ptr, A, pb, pg, t - 1, ok & (lane > 0), d, dmask, n, nmask,
                                        T, D, G, N)
        _, local = tl.associative_scan((ap, bp), 0, compose_affine)
        h_prev = local + carried(tile_gain(dtp[:, :, None], A, False), h_in[None, :, :])
        a, b, dt, u, Bt = _step_terms(dt_ptr, u_ptr, B_ptr, A, pb, pg, t, ok, d, dmask, n, nmask, T, D, G, N)
        # adjoint G_t = gy_t C_t + exp(delta_{t+1} A) G_{t+1}; the tile's last row takes the carry g
        nxt = ok & (lane < CHUNK - 1) & (t + 1 < T)
        dt_next = tl.load(dt_ptr + off + D, mask=nxt[:, None] & dmask[None, :], other=0.0)
        gy = tl.load(gy_ptr + off, mask=row_ok, other=0.0)
        bc = ((pb * T + t[:, None]) * G + pg) * N + n[None, :]
        Ct = tl.load(C_ptr + bc, mask=ok[:, None] & nmask[None, :], other=0.0)
        r = tl.exp(dt_next[:, :, None] * A[None, :, :])
        _, local = tl.associative_scan((r, gy[:, :, None] * Ct[:, None, :]), 0, compose_affine, reverse=True)
        adj = local + carried(tile_gain(dt_next[:, :, None], A, True), g[None, :, :])
        part = (((pb * T + t[:, None]) * G + pg) * NBLK + part_d) * N + n[None, :]
        bc_ok = ok[:, None] & nmask[None, :]
        tl.store(gC_ptr + part, tl.sum(gy[:, :, None] * (a * h_prev + b), axis=1), mask=bc_ok)
        tl.store(gB_ptr + part, tl.sum(adj * (dt * u)[:, :, None], axis=1), mask=bc_ok)
        gdu = tl.sum(adj * Bt[:, None, :], axis=2)
        s = adj * h_prev * a  # gradient of delta_t * A
        tl.store(gdt_ptr + off, tl.sum(s * A[None, :, :], axis=2) + gdu * u, mask=row_ok)
        tl.store(gu_ptr + off, gdu * dt, mask=row_ok)
        gA += tl.sum(s * dt[:, :, None], axis=0)
        g = tile_row(a * adj, lane, 0)  # adjoint passed to h_{t0-1}
    tl.store(gh0_ptr + pb * D * N + tile, g, mask=m2)
    tl.store(gA_ptr + pb * D * N + tile, gA, mask=m2)


def _config(T: int, N: int, Dg: int, dtype: torch.dtype, backward: bool = False) -> tuple[int, int, int, int]:
    """Tile ``(chunk, block_d, block_n)`` and the number of channel blocks per group."""
    chunk, block_n = min(CHUNK_T, next_power_of_2(T)), next_power_of_2(N)
    if block_n >= 64:
        budget = WIDE_STATE_TILE_VALUES[backward]
    else:  # float64 takes twice the registers
        budget = TILE_VALUES // (4 if dtype == torch.float64 else 1)
    block_d = max(1, min(BLOCK_D, next_power_of_2(Dg), budget // (chunk * block_n)))
    return chunk, block_d, block_n, cdiv(Dg, block_d)


class _SelectiveScanTritonFn(HandWrittenBackward):
    """u, delta ``(b,T,D)``; A ``(D,N)``; B, C ``(b,T,G,N)``; h0 ``(b,D,N)``; one dtype, contiguous."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, h0, save):  # noqa: D102 - autograd protocol
        (batch, T, D), G, N = u.shape, B.shape[2], A.shape[1]
        chunk, block_d, block_n, nblk = _config(T, N, D // G, u.dtype)
        y = torch.empty_like(u)
        hT = u.new_empty(batch, D, N)
        # the states entering each tile, for backward only: about as many values as u itself at N = 16
        starts = u.new_empty(batch, cdiv(T, chunk), D, N) if save else hT
        with on_device_of(u):
            _fwd_kernel[flat_grid(batch, G, nblk)](
                u, delta, A, B, C, h0 if h0 is not None else hT, y, hT, starts, batch, T, D, G, D // G, N,
                HAS_H0=h0 is not None, SAVE=save, CHUNK=chunk, BLOCK_D=block_d, BLOCK_N=block_n, num_warps=FWD_WARPS,
            )
        if save:
            ctx.save_for_backward(u, delta, A, B, C, starts)
        return y, hT

    @staticmethod
    @without_autocast
    @first_order_only
    def backward(ctx, gy, ghT):  # noqa: D102 - autograd protocol
        u, delta, A, B, C, starts = ctx.saved_tensors
        (batch, T, D), G, N = u.shape, B.shape[2], A.shape[1]
        chunk, block_d, block_n, nblk = _config(T, N, D // G, u.dtype, backward=True)
        gy = torch.zeros_like(u) if gy is None else gy.contiguous()
        gu, gdelta = torch.empty_like(u), torch.empty_like(u)
        gA, gh0 = u.new_empty(batch, D, N), u.new_empty(batch, D, N)
        gB, gC = B.new_zeros(B.shape), C.new_zeros(C.shape)
        run = max(1, min(nblk, PARTIAL_SIZE * (D // G) // N))  # channel blocks a launch
        buffers = u.new_empty(2, batch * T * G * run * N)  # every value is written before it is read
        for first in range(0, nblk, run):  # in order: the sums are the same every run
            n_run = min(run, nblk - first)
            # the last launch may run fewer blocks: a contiguous (.., n_run, N) array at the buffers' start
            pB, pC = (part[:batch * T * G * n_run * N].view(batch, T, G, n_run, N) for part in buffers)
            with on_device_of(u):
                _bwd_kernel[flat_grid(batch, G, n_run)](
                    u, delta, A, B, C, starts, gy, ghT.contiguous() if ghT is not None else gy,
                    gu, gdelta, gA, pB, pC, gh0, batch, T, D, G, D // G, N, n_run, first,
                    HAS_GHT=ghT is not None, CHUNK=chunk, BLOCK_D=block_d, BLOCK_N=block_n, num_warps=BWD_WARPS,
                )
            gB += pB.sum(3)
            gC += pC.sum(3)
        return gu, gdelta, gA.sum(0), gB, gC, gh0 if ctx.needs_input_grad[5] else None, None


def selective_scan_triton(
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
    h0 = None if h0 is None else h0.contiguous()
    save = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (*parts, h0))
    y, hT = _SelectiveScanTritonFn.apply(*parts, h0, save)
    return finish_output(y, u_w, D_w, z_w).to(u.dtype), hT
