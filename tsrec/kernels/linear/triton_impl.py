"""Triton linear scan for GPUs (also runs in the CPU interpreter, ``TRITON_INTERPRET=1``).

One program owns a block of channels of one batch row and walks over time one tile of
``CHUNK`` steps at a time. A whole ``(CHUNK, BLOCK)`` tile of gates and inputs is loaded at
once and scanned in registers with ``tl.associative_scan`` (the pair ``(a, b)`` is the affine
map ``h -> a h + b``, and composing maps is associative); the state carried in from the
previous tile is folded into the tile's first step beforehand. Loading a tile per round trip instead
of one step per round trip keeps enough bytes in flight for the scan to be bandwidth-bound
rather than latency-bound (the step-at-a-time loop waits one memory latency per time step).

The tile's layout decides what the scan costs. With ``BLOCK_C`` = 128 float32 channels on one warp,
Triton gives each thread 4 channels and every step of the tile for them, so ``tl.associative_scan``
compiles to a sequential loop in the thread's registers: no warp shuffles and no barriers. A
narrower block or more warps put the steps of one channel on several lanes or warps, which the scan
then combines through shuffles and shared memory (``benchmarks/linear_scan_layouts.py``).

The time loop is software-pipelined (``tl.range(num_stages=...)``): the tiles of the next steps
are copied into shared memory while the current one is scanned, so a program keeps its memory
requests in flight across tiles instead of waiting for each tile's load before its scan.

The forward also checks its inputs for NaN and inf (``CHECK``): a separate check before the
launch read both inputs once more (a quarter of the op's time on an H200). It looks at each
channel's last state only. Sums and products never turn NaN or inf back into a finite number
(``0 * inf`` and ``0 * nan`` are NaN), so a NaN or inf in ``a``, ``b`` or the initial state at any
step leaves every later state, the last included, NaN or inf; a check of every element read cost
the kernel registers (139 a thread on sm_90 with Triton 3.6 for a 32 x 32 tile on 4 warps, against
128 that kept four of those programs on an SM). A last state that overflowed from finite inputs
raises the flag too: the exact check then reads the inputs, finds nothing, and the op returns as
the torch path does.

Backward runs the same kernel in the other direction over the output gradient, reading each
gate one step ahead (``GATE_SHIFT``) instead of materialising a shifted copy.

A second kernel, ``_chain_kernel`` (``CHAINED``; off until timed on a GPU), splits time as well: a
program per tile, which waits for the previous tile's last state (published per channel as a "link"
in global memory) and publishes its own. The walk above runs ``B*C / BLOCK_C`` programs, 128 at the
bandwidth target's B*C = 16K, one warp on each SM, whose loads in flight are what its pipeline
holds; chained, every tile is a program, so an SM holds as many tiles in flight as its registers
allow, whatever B*C is. It scans each step as the walk does, the carried state folded into a tile's
first step (in the interpreter its float32 states equal the walk's bit for bit), and costs 8 bytes of
links a channel a tile, written twice (zeroed, then published), against the 384 bytes a 32-step tile
reads and writes a channel. Its tile is its own (``CHAIN_BLOCK_C``, ``CHAIN_CHUNK_T``, ``CHAIN_WARPS``):
long, since a row's waits form a chain of a couple of memory round trips a tile. float64 states always
walk (a link holds a float32 state and its status in one word), and so do scans of one tile.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .._autocast import without_autocast
from .._autograd import HandWrittenBackward, first_order_only
from .._checks import compute_dtype, raise_non_finite
from .._launch import cdiv, flat_grid, next_power_of_2, on_device_of
from .._triton_tiles import compose_affine
from .torch_impl import gate_and_state_grads

BLOCK_C = 128  # channels per program: one warp of 32 threads, 4 float32 channels (one 16-byte load) each
CHUNK_T = 16  # time steps per tile: each thread holds all of them for its channels
NUM_STAGES = 4  # tiles per program in the pipeline: the one being scanned and three being copied in
NUM_WARPS = 1  # a warp spans the block's channels, so no time step is on another warp (see the docstring)
# Chosen by compiling, not yet timed on a GPU (benchmarks/kernels_gpu.py sweeps these four settings):
# benchmarks/results/linear_scan_layouts.md has each tile's layout, registers and time-loop SASS on sm_90.
# This tile issues 0.20 warp-instructions an element, against 1.67 for the 32 x 32 tile on 4 warps
# (shuffles, shared memory and barriers to scan across lanes and warps) that was the default before;
# at B*C = 16K its 128 programs of one warp fill an H200's 132 SMs in one wave, each with three tiles
# (48 KiB) in flight; tests/kernels/test_triton_compile.py holds the float32 kernel to that.
CHAINED = False  # split time too: a program per tile, chained by the tiles' last states (_chain_kernel)
# Off until timed on a GPU (benchmarks/kernels_gpu.py sweeps its tiles before the walk's). The walk above
# runs B*C / BLOCK_C programs, each waiting on its own loads; chained, B*C*T / (CHAIN_BLOCK_C*CHAIN_CHUNK_T)
# programs keep an SM's warps and loads busy however few the channels, for 16 / CHAIN_CHUNK_T more bytes an
# element (the links, zeroed and published) and a wait per tile for the previous tile's state. float64
# states and scans of one tile always walk.
# Its tile: a row's waits chain T / CHAIN_CHUNK_T tiles, each about two memory round trips (a publish and a
# poll), against which a tile's scan is short, so tiles are long. At 32 x 32 on a warp Triton gives a thread
# 4 channels (one 16-byte load) and spreads the steps over 4 lanes: the scan crosses lanes (shuffles), in
# 119 registers on sm_90; 64 steps spill where the sizes are not multiples of 16.
CHAIN_BLOCK_C = 32
CHAIN_CHUNK_T = 32
CHAIN_WARPS = 1
SPIN_LIMIT = 1 << 18  # polls of a link before a chained program gives up (~0.1 s: a hang, not a wait)


@triton.jit
def _load_tile(a_ptr, b_ptr, row, cols, col_ok, c, n_steps, n_chans,
               REVERSE: tl.constexpr, GATE_SHIFT: tl.constexpr, ACC: tl.constexpr, CHUNK: tl.constexpr):
    """Tile ``c`` (in scan order) of gates and inputs, its time indices and its in-bounds mask."""
    step = c * CHUNK + tl.arange(0, CHUNK).to(tl.int64)  # position in scan order
    t = n_steps - 1 - step if REVERSE else step
    tg = t + GATE_SHIFT
    step_ok = step < n_steps
    ok = step_ok[:, None] & col_ok[None, :]
    gate_ok = ok & ((tg >= 0) & (tg < n_steps))[:, None]
    a = tl.load(a_ptr + row + tg[:, None] * n_chans + cols[None, :], mask=gate_ok, other=0.0).to(ACC)
    a = tl.where(step_ok[:, None], a, 1.0)  # steps past the end leave the state unchanged
    b = tl.load(b_ptr + row + t[:, None] * n_chans + cols[None, :], mask=ok, other=0.0).to(ACC)
    return a, b, t, ok


@triton.jit
def _scan_tile(a, b, h, CHUNK: tl.constexpr):
    """A loaded tile's states from the state ``h`` carried in, and its last state."""
    lane = tl.arange(0, CHUNK)
    # the carried state enters as the tile's first step, a h + b, instead of as gain * h after the
    # scan: a tile's gate product can overflow (5**56 > float32 max) where h is 0, and inf * 0 = NaN
    b = tl.where(lane[:, None] == 0, b + a * h[None, :], b)
    _, states = tl.associative_scan((a, b), 0, compose_affine)
    # the tile's last row (padding steps repeat the last real state): a masked sum picks it
    return states, tl.sum(tl.where(lane[:, None] == CHUNK - 1, states, 0.0), axis=0)


@triton.jit
def _flag_non_finite(h, bad_ptr, BLOCK: tl.constexpr):
    # the last state is NaN or inf if any input was (see the module docstring); every channel
    # that is writes the same 1 to the flag, which needs no reduction across the program first
    non_finite = (tl.abs(h) == float("inf")) | (h != h)
    tl.store(bad_ptr + tl.zeros([BLOCK], dtype=tl.int32), tl.full([BLOCK], 1, tl.int32), mask=non_finite)


@triton.jit
def _scan_kernel(
    a_ptr, b_ptr, h0_ptr, out_ptr, bad_ptr, n_steps, n_chans,
    HAS_H0: tl.constexpr, REVERSE: tl.constexpr, GATE_SHIFT: tl.constexpr, CHECK: tl.constexpr,
    ACC: tl.constexpr, BLOCK: tl.constexpr, CHUNK: tl.constexpr, STAGES: tl.constexpr,
):
    # one grid axis for (batch row, channel block): axes 1 and 2 stop at 65535 programs (see flat_grid)
    n_blocks = tl.cdiv(n_chans, BLOCK)
    pid = tl.program_id(0).to(tl.int64)
    pid_b = pid // n_blocks
    cols = (pid % n_blocks) * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    col_ok = cols < n_chans
    row = pid_b * n_steps * n_chans  # int64: B*T*C may exceed 2**31
    if HAS_H0:
        h = tl.load(h0_ptr + pid_b * n_chans + cols, mask=col_ok, other=0.0).to(ACC)
    else:
        h = tl.zeros([BLOCK], dtype=ACC)
    for c in tl.range(0, tl.cdiv(n_steps, CHUNK), num_stages=STAGES):
        a, b, t, ok = _load_tile(a_ptr, b_ptr, row, cols, col_ok, c, n_steps, n_chans, REVERSE, GATE_SHIFT, ACC,
                                 CHUNK)
        states, h = _scan_tile(a, b, h, CHUNK)
        tl.store(out_ptr + row + t[:, None] * n_chans + cols[None, :], states.to(out_ptr.dtype.element_ty), mask=ok)
    if CHECK:
        _flag_non_finite(h, bad_ptr, BLOCK)


@triton.jit
def _wait_for_link(link_ptr, col_ok, stuck_ptr, SPIN_LIMIT: tl.constexpr):
    """The state a link holds, once its program has published it (see ``_chain_kernel``); NaN where it
    never was, so that what follows a give-up is NaN, never plausible."""
    ready = 1 << 32  # the status bit of a published link; masked channels read as published
    word = tl.load(link_ptr, mask=col_ok, other=ready, volatile=True)
    published = tl.min((word >> 32).to(tl.int32), axis=0)
    spins = 0
    while (published == 0) & (spins < SPIN_LIMIT):
        word = tl.load(link_ptr, mask=col_ok, other=ready, volatile=True)
        published = tl.min((word >> 32).to(tl.int32), axis=0)
        if spins % 256 == 255:  # a program that gave up ends every other wait of the launch within 256 polls
            published = published | tl.load(stuck_ptr, volatile=True)
        spins += 1
    status = word >> 32
    if tl.min(status.to(tl.int32), axis=0) == 0:  # cannot happen (tickets order the waits): fail loudly
        tl.atomic_or(stuck_ptr, 1, sem="relaxed")
    return tl.where(status != 0, (word & 0xFFFFFFFF).to(tl.int32).to(tl.float32, bitcast=True), float("nan"))


@triton.jit
def _chain_kernel(
    a_ptr, b_ptr, h0_ptr, out_ptr, bad_ptr, stuck_ptr, link_ptr, n_batch, n_steps, n_chans,
    HAS_H0: tl.constexpr, REVERSE: tl.constexpr, GATE_SHIFT: tl.constexpr, CHECK: tl.constexpr,
    BLOCK: tl.constexpr, CHUNK: tl.constexpr, SPIN_LIMIT: tl.constexpr,
):
    # A program per (time tile, batch row, channel block), float32 states only. Tile c waits for the
    # last state of tile c - 1, which that program publishes as a link: one int64 word per channel,
    # the float32 state's bits with a status bit above them, so a reader never sees a status without
    # its value (one atomic word needs no fence between the two). Programs take the work of a ticket
    # (an atomic counter, time tiles slowest), not of their program id: a program only ever waits for
    # a lower ticket, taken by a program already running, so no program waits for one that has not
    # started. Its tile's loads are issued before the wait, which they overlap. The atomics are relaxed:
    # nothing is read through them but their own word (the default acq_rel fences each one, on the chain).
    ticket = tl.atomic_add(link_ptr, 1, sem="relaxed").to(tl.int64)  # link_ptr[0] is the ticket counter
    n_blocks = tl.cdiv(n_chans, BLOCK)
    c = ticket // (n_batch * n_blocks)  # the time tile, in scan order
    rest = ticket % (n_batch * n_blocks)
    pid_b = rest // n_blocks
    cols = (rest % n_blocks) * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
    col_ok = cols < n_chans
    row = pid_b * n_steps * n_chans  # int64: B*T*C may exceed 2**31
    a, b, t, ok = _load_tile(a_ptr, b_ptr, row, cols, col_ok, c, n_steps, n_chans, REVERSE, GATE_SHIFT,
                             tl.float32, CHUNK)
    lanes = pid_b * n_chans + cols  # the (batch row, channel) pairs of this program, as h0 holds them
    links = link_ptr + 1 + lanes  # tile c's links are at links + c * n_batch * n_chans
    h = tl.zeros([BLOCK], dtype=tl.float32)
    if c > 0:
        h = _wait_for_link(links + (c - 1) * n_batch * n_chans, col_ok, stuck_ptr, SPIN_LIMIT)
    elif HAS_H0:
        h = tl.load(h0_ptr + lanes, mask=col_ok, other=0.0).to(tl.float32)
    states, h = _scan_tile(a, b, h, CHUNK)
    # published before the tile is stored: the next tile's program waits for this, not for the stores
    bits = h.to(tl.int32, bitcast=True).to(tl.int64) & 0xFFFFFFFF
    tl.atomic_xchg(links + c * n_batch * n_chans, bits | (1 << 32), mask=col_ok, sem="relaxed")
    tl.store(out_ptr + row + t[:, None] * n_chans + cols[None, :], states.to(out_ptr.dtype.element_ty), mask=ok)
    if CHECK:
        if c == tl.cdiv(n_steps, CHUNK) - 1:
            _flag_non_finite(h, bad_ptr, BLOCK)


def _launch(a, b, h0, reverse: bool, gate_shift: int, out_dtype: torch.dtype | None = None,
            bad: torch.Tensor | None = None) -> torch.Tensor:
    """Scan ``(a, b)`` into a new tensor of ``out_dtype`` (``b``'s when None); with ``bad`` (an int32
    ``(2,)`` tensor of 0), set ``bad[0]`` to 1 if ``a`` or ``b`` holds NaN or inf, and ``bad[1]`` if a
    chained program gave up waiting (see ``_chain_kernel``)."""
    out = torch.empty_like(b, dtype=out_dtype)
    flags = dict(HAS_H0=h0 is not None, REVERSE=reverse, GATE_SHIFT=gate_shift, CHECK=bad is not None)
    h0 = h0 if h0 is not None else b  # a pointer the kernel never reads
    with on_device_of(b):
        if _chains(b):
            _launch_chain(a, b, h0, out, bad, flags)
        else:
            _launch_walk(a, b, h0, out, bad, flags)
    return out


def _tile(b: torch.Tensor, block_c: int, chunk_t: int) -> tuple[int, int]:
    """The tile's channels and steps, narrowed to ``b``'s where it has fewer (powers of two)."""
    return min(block_c, next_power_of_2(b.shape[2])), min(chunk_t, next_power_of_2(b.shape[1]))


def _launch_walk(a, b, h0, out, bad, flags: dict) -> None:
    batch, n_steps, chans = b.shape
    block, chunk = _tile(b, BLOCK_C, CHUNK_T)
    acc = tl.float64 if b.dtype == torch.float64 else tl.float32
    # the kernel splits the grid again, channel block fastest
    _scan_kernel[flat_grid(cdiv(chans, block), batch)](
        a, b, h0, out, bad if bad is not None else b, n_steps, chans, ACC=acc, BLOCK=block, CHUNK=chunk,
        STAGES=NUM_STAGES, num_warps=NUM_WARPS, **flags)


def _chains(b: torch.Tensor) -> bool:
    """Whether ``b`` is scanned by the chained kernel: float32 states (a link holds one), two tiles or more."""
    return CHAINED and b.dtype != torch.float64 and b.shape[1] > CHAIN_CHUNK_T


def _launch_chain(a, b, h0, out, bad, flags: dict) -> None:
    batch, n_steps, chans = b.shape
    block, chunk = _tile(b, CHAIN_BLOCK_C, CHAIN_CHUNK_T)
    n_tiles = cdiv(n_steps, chunk)
    links = _new_links(1 + n_tiles * batch * chans, b.device)
    # without a flag to read (the backward), a give-up shows as NaN states: no launch waits for the device
    stuck = bad[1:] if bad is not None else torch.zeros(1, dtype=torch.int32, device=b.device)
    _chain_kernel[flat_grid(cdiv(chans, block), batch, n_tiles)](
        a, b, h0, out, bad if bad is not None else b, stuck, links, batch, n_steps, chans,
        BLOCK=block, CHUNK=chunk, SPIN_LIMIT=SPIN_LIMIT, num_warps=CHAIN_WARPS, **flags)


def _new_links(n: int, device: torch.device) -> torch.Tensor:
    """The ticket counter and the links of a chained launch, all 0 (unpublished)."""
    return torch.zeros(n, dtype=torch.int64, device=device)


class _LinearScanTritonFn(HandWrittenBackward):
    @staticmethod
    def forward(ctx, a, b, h0, reverse, check_finite):  # noqa: D102 - autograd protocol
        a, b = a.contiguous(), b.contiguous()
        h0 = None if h0 is None else h0.contiguous()
        bad = torch.zeros(2, dtype=torch.int32, device=b.device) if check_finite else None
        h = _launch(a, b, h0, reverse, 0, bad=bad)
        if check_finite:
            non_finite, stuck = bad.tolist()  # one read of both flags: the only wait for the device
            if stuck:
                raise RuntimeError("linear_scan's chained Triton kernel waited too long for a tile's state, which "
                                   "its ticket order rules out, so its result is wrong: please report it; set "
                                   "tsrec.kernels.linear.triton_impl.CHAINED = False, or use backend='torch'")
            if non_finite:
                raise_non_finite({"a": a, "b": b, "initial_state": h0})
        ctx.save_for_backward(a, h, h0)
        ctx.reverse = reverse
        return h

    @staticmethod
    @without_autocast
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
        return da, g.to(h.dtype), dh0, None, None


def linear_scan_triton(
    a: torch.Tensor, b: torch.Tensor, initial_state: torch.Tensor | None = None, reverse: bool = False,
    check_finite: bool = False,
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
    check_finite : bool
        Refuse NaN or inf in ``a``, ``b`` or ``initial_state`` (``ValueError`` naming the first),
        checked by the kernel as it reads them.

    Returns
    -------
    torch.Tensor
        All states, dtype of ``b``.
    """
    return _LinearScanTritonFn.apply(a, b, initial_state, reverse, check_finite)
