"""GPU kernel benchmark: the torch path and the Triton kernels on CUDA, and the GPU speed targets.

Usage (on a machine with a CUDA GPU; ``benchmarks/gpu_check.sh`` runs it with the correctness
checks)::

    python benchmarks/kernels_gpu.py --out benchmarks/results/kernels_gpu.md
    python benchmarks/kernels_gpu.py --ops linear_scan   # one op's sizes and tile sweep only

For each size the op runs once per backend on the GPU (no naive loop and no CPU runs: those are
``benchmarks/kernels.py``'s), forward and forward+backward, median of repeats. Before timing,
the Triton forward is compared with the torch forward on the same inputs, so every timed kernel
is also a checked one. The forward's achieved bandwidth (minimal bytes read and written / time)
is set against the card's peak and against a plain device-to-device copy measured in the same
run. The report starts with the two GPU targets:

- triton ``linear_scan`` at batch*channels >= 16K, time 4096: at least 50% of peak bandwidth;
- ``selective_scan`` (16, 720, 128, 16): triton forward+backward at least 20x the torch path.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _args import command_line, provenance, report_path  # noqa: E402  (benchmarks/_args.py)
import kernel_cases as kc  # noqa: E402  (benchmarks/kernel_cases.py: the cases and their inputs)
import kernels as bench  # noqa: E402  (benchmarks/kernels.py: the timers)
from gpu_cases import GPU_ONLY_CASES  # noqa: E402  (benchmarks/gpu_cases.py: LTC, CfC and scan2d by variates)
from tsrec._files import atomic_write  # noqa: E402

# (batch, time, channels, state); the first three linear sizes are the bandwidth target's
LINEAR_GPU = [(16, 4096, 1024, 1), (64, 4096, 256, 1), (64, 4096, 1024, 1), (16, 720, 1024, 1), (4, 4096, 64, 1)]
SELECTIVE_GPU = [(16, 720, 128, 16), (16, 96, 128, 16), (32, 336, 512, 16), (8, 2048, 768, 16),
                 (32, 321, 1024, 2)]  # the last: S-Mamba (state 2) over 321 variate tokens (Electricity)
RNN_GPU = [(64, 96, 64, 1), (64, 720, 64, 1), (256, 720, 128, 1)]
LTC_GPU = [(32, 96, 32, 6), (128, 96, 32, 6), (16, 720, 16, 6)]  # state = solver updates per step
CFC_GPU = [(32, 96, 32, 128), (128, 96, 32, 128), (16, 720, 32, 128)]  # state = backbone width
SCAN2D_GPU = [(32, 96, 16, 8), (8, 336, 16, 8)]
GPU_SIZES = {"linear_scan": LINEAR_GPU, "selective_scan": SELECTIVE_GPU, "rnn_scan (tanh)": RNN_GPU,
             "ltc_scan (C = units, N = unfolds)": LTC_GPU, "cfc_scan (C = units, N = backbone)": CFC_GPU,
             "scan2d (V = 7 variates)": SCAN2D_GPU, "scan2d (V = 321 variates)": SCAN2D_GPU[:1]}
DEVICE = torch.device("cuda")
TARGET_BANDWIDTH = 0.5  # of peak, at batch*channels >= BANDWIDTH_MIN_ROWS and time == BANDWIDTH_TIME
BANDWIDTH_MIN_ROWS, BANDWIDTH_TIME = 16384, 4096
COPY_BYTES = 2 * 2**30  # the reference copy: as large as the biggest scan's inputs
TARGET_SELECTIVE = 20.0
SELECTIVE_TARGET_SIZE = (16, 720, 128, 16)
SWEEP_SIZE = (16, 4096, 1024, 1)
KERNEL_REPS = 20  # back-to-back launches timed for the bandwidth target's kernel-alone figure
SWEEP_TOLERANCE = 1e-5  # of a swept forward from the default's, relative to its largest entry (float32's)
# linear_scan (BLOCK_C, CHUNK_T, NUM_STAGES, NUM_WARPS): tile and software-pipeline depth (1 = no pipelining).
# Two layouts. With 128 float32 channels a warp (4 a thread, one 16-byte load each), Triton keeps each
# channel's CHUNK_T steps in one thread and the scan runs in registers: no shuffles, no barriers (sm_90
# SASS, Triton 3.6: 246 instructions a 8 x 128 tile against 427 a 32 x 32 tile for 4 warps). Narrower
# blocks spread time over a warp's lanes (shuffles) and, with several warps, over warps (shared memory
# and barriers); they run more programs, and more warps an SM, at B*C = 16K (512 for BLOCK_C 32).
# Each compiles for sm_90 within an H200's shared memory (benchmarks/results/linear_scan_layouts.md, Triton 3.6);
# only BLOCK_C 32, CHUNK_T 64, 3 stages, 4 warps spills (16 bytes of stack).
SWEEP_TILES = ([(128, chunk, stages, 1) for chunk in (8, 16, 32) for stages in (2, 3, 4, 6)]
               + [(256, chunk, stages, 2) for chunk in (8, 16) for stages in (2, 3, 4, 6)]
               + [(block, chunk, stages, 1) for block in (32, 64) for chunk in (8, 16, 32) for stages in (2, 4)]
               + [(block, chunk, stages, 4) for block in (32, 64) for chunk in (16, 32, 64) for stages in (1, 2, 3, 4)])
# the chained linear_scan kernel (CHAINED = True; CHAIN_BLOCK_C, CHAIN_CHUNK_T, CHAIN_WARPS): a program per
# tile, so the tile sizes the registers and the programs an SM holds, and T / CHAIN_CHUNK_T the chain of
# waits a row, not a pipeline (it has none). Registers a thread on sm_90 (Triton 3.9), none spilling: 63, 119
# and 223 at 32 channels by 16, 32 and 64 steps; 115 and 216 at 64 by 16 and 32; 106 and 198 at 128 by 8
# and 16 (256 by 16 on 2 warps and 512 on 4 alike), at these 16-divisible sizes. 32 by 128, 64 by 64 and
# 128 by 32 spill, and so does 32 by 64 where the sizes are not multiples of 16: the default is 32 by 32.
# At 128 channels a warp each thread holds all of a tile's steps; narrower blocks spread them over lanes.
CHAIN_SWEEP_TILES = [(32, 16, 1), (32, 32, 1), (32, 64, 1), (64, 16, 1), (64, 32, 1), (128, 8, 1), (128, 16, 1),
                     (256, 16, 2), (512, 8, 4), (512, 16, 4)]
# selective_scan (BLOCK_D, CHUNK_T, FWD_WARPS, BWD_WARPS), timed at SELECTIVE_TARGET_SIZE
SELECTIVE_SWEEP_TILES = [(block, chunk, 4, bwd) for block in (8, 16, 32) for chunk in (8, 16, 32) for bwd in (4, 8)]


def copy_bandwidth(n_bytes: int, budget: float) -> float:
    """GB/s of a device-to-device copy of ``n_bytes`` (counting the read and the write)."""
    src = torch.empty(n_bytes // 8, dtype=torch.float32, device=DEVICE).normal_()
    dst = torch.empty_like(src)
    ms = bench.time_call(lambda: dst.copy_(src), DEVICE, budget)
    return 2 * src.numel() * 4 / ms / 1e6


def forward_error(case: kc.Case, size: dict) -> float:
    """Max-abs difference of the Triton forward from the torch forward, relative to its largest entry."""
    inputs = case.make(size, DEVICE)
    with torch.no_grad():
        ref = case.call(inputs, "torch").double()
        got = case.call(inputs, "triton").double()
    return float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def run_op(case: kc.Case, grid: list, budget: float, peak: float | None) -> tuple[list[str], list[dict]]:
    """Time one op on every GPU size; return table lines and one result row per (size, backend)."""
    lines = [f"### {case.op}", "", "| size | backend | fwd ms | fwd+bwd ms | triton vs torch (fwd+bwd) "
             "| GB/s (fwd) | % of peak | fwd rel. err vs torch |", "|---|---|---|---|---|---|---|---|"]
    rows = []
    for g in grid:
        size = dict(zip(("batch", "time", "chans", "state"), g), quick=True)
        err = forward_error(case, size)
        timed = {be: bench._measure(case, size, be, DEVICE, budget) for be in ("torch", "triton")}
        for be, (f, fb) in timed.items():
            gbps = case.nbytes(size) / f / 1e6
            pct = f"{100 * gbps / peak:.0f}%" if peak else "n/a"
            speed = f"{timed['torch'][1] / fb:.1f}x" if be == "triton" else ""
            lines.append(f"| {bench._label(size)} | {be} | {f:.3f} | {fb:.3f} | {speed} | {gbps:.0f} | {pct} "
                         f"| {f'{err:.1e}' if be == 'triton' else ''} |")
            print(lines[-1], flush=True)
            rows.append(dict(op=case.op, backend=be, fwd=f, both=fb, gbps=gbps, err=err, nbytes=case.nbytes(size),
                             **size))
        if DEVICE.type == "cuda":
            torch.cuda.empty_cache()
    return lines + [""], rows


def sweep_tiles(case: kc.Case, module, tiles: list[dict], at: tuple, budget: float, peak: float | None,
                backward: bool, fixed: dict | None = None, kernel=None, progress=None, name: str = "tile sweep",
                reference: str | None = None) -> tuple[list[str], dict | None]:
    """Triton timings of one op at size ``at`` for other settings of its kernel module: the table, and
    the fastest settings by the kernel alone (None without ``kernel``, or when no row ran).

    ``tiles``: the module settings to try, one dict each (every dict names the same settings);
    ``fixed``: settings held for the whole sweep, not shown; ``kernel``: given the op's inputs, a
    call that launches the kernel alone, timed by :func:`device_ms` in its own column (the public
    op's wall time includes the host's work, the same for every tile); ``progress``: called with
    the table so far after each row, so that a run cut short keeps it; ``name``: the table's, after
    the op's; ``reference``: what the module's own settings (before ``fixed``) run, named in a column
    comparing each row's forward with theirs; then no row off by more than ``SWEEP_TOLERANCE`` can be
    the fastest, and the sweep stops at the first row that fails other than by its resources or
    compiler (a new kernel that failed once may have left the GPU unusable). The defaults were chosen
    without a GPU; these tables are what to tune them from. The module's settings are restored.
    """
    names = list(tiles[0])
    default = {k: getattr(module, k) for k in names}
    size = dict(zip(("batch", "time", "chans", "state"), at), quick=True)
    inputs = case.make(size, DEVICE)
    launch = kernel(inputs) if kernel else None
    with torch.no_grad():
        expected = case.call(inputs, "triton").double() if reference else None
    extra = (" kernel ms | kernel % of peak |" if kernel else "") + (" fwd+bwd ms |" if backward else "")
    extra += f" rel. err vs {reference} |" if reference else ""
    width = len(names) + 3 + 2 * bool(kernel) + backward + bool(reference)
    lines = [f"### {case.op} {name} (triton, {bench._label(size)})", "",
             "| " + " | ".join(names) + " | fwd ms | GB/s | % of peak |" + extra, "|" + "---|" * width]
    best = None  # (kernel ms, settings) of the fastest tile by the kernel alone
    with mock.patch.multiple(module, **default, **(fixed or {})):  # restored after the sweep, rows' settings too
        for tile in tiles:
            for k, v in tile.items():
                setattr(module, k, v)
            cells = [str(v) for v in tile.values()]
            cells[0] += " (default)" if tile == default else ""
            try:
                row, alone, err = _sweep_row(case, inputs, size, launch, budget, peak, backward, expected)
            except Exception as err:  # noqa: BLE001 - a tile the GPU refuses (e.g. OutOfResources) is a row too
                empty = " |" * (width - 1 - len(cells))
                lines.append("| " + " | ".join(cells) + f" | failed: {type(err).__name__} |" + empty)
                print(lines[-1], flush=True)
                if reference and type(err).__name__ not in ("OutOfResources", "CompilationError"):
                    lines += ["", f"Stopped after that row's failure: {err}"]
                    break
                continue
            if alone is not None and (err is None or err <= SWEEP_TOLERANCE):
                best = min(best or (alone, tile), (alone, tile), key=lambda timed: timed[0])
            lines.append("| " + " | ".join(cells + row) + " |")
            print(lines[-1], flush=True)
            if progress:
                progress(lines)
    if best:
        gbps = case.nbytes(size) / best[0] / 1e6
        frac, verdict = _share(gbps, peak)
        which = ", ".join(f"{k}={v}" for k, v in best[1].items()) + (" (the default)" if best[1] == default else "")
        lines += ["", f"Fastest tile by the kernel alone: {which}: {best[0]:.3f} ms, {gbps:.0f} GB/s = "
                  f"{100 * frac:.0f}% of peak, against the target's {100 * TARGET_BANDWIDTH:.0f}%: {verdict}."]
    return lines + [""], best and best[1]


def _sweep_row(case, inputs, size, launch, budget, peak, backward, expected) -> tuple[list[str], float | None,
                                                                                   float | None]:
    """One sweep row's cells after the settings, the kernel's time alone and the forward's error (None: not
    compared) against ``expected``."""
    with torch.no_grad():
        ms = bench.time_call(lambda: case.call(inputs, "triton"), DEVICE, budget)
        alone = device_ms(launch, KERNEL_REPS) if launch else None
        got = case.call(inputs, "triton").double() if expected is not None else None
    row = [f"{ms:.3f}", *_bandwidth_cells(case.nbytes(size) / ms / 1e6, peak)]
    if alone is not None:
        row += [f"{alone:.3f}", _bandwidth_cells(case.nbytes(size) / alone / 1e6, peak)[1]]
    if backward:
        row.append(f"{bench.time_call(lambda: case.call(inputs, 'triton').sum().backward(), DEVICE, budget):.3f}")
    err = None
    if got is not None:
        err = ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-30)).item()
        row.append(f"{err:.1e}" + ("" if err <= SWEEP_TOLERANCE else " WRONG"))
    return row, alone, err


def _bandwidth_cells(gbps: float, peak: float | None) -> list[str]:
    return [f"{gbps:.0f}", f"{100 * gbps / peak:.0f}%" if peak else "n/a"]


def _linear_kernel(inputs: dict):
    """A call of the linear_scan forward kernel alone on ``inputs``, launched as the op launches it
    (NaN/inf flag and the chained kernel's give-up flag included, not read)."""
    from tsrec.kernels.linear import triton_impl as impl  # noqa: PLC0415 - triton loads here only

    a, b = inputs["a"].detach(), inputs["b"].detach()
    flag = torch.zeros(2, dtype=torch.int32, device=a.device)
    return lambda: impl._launch(a, b, None, False, 0, bad=flag)


def sweeps(op: str, case: kc.Case, budget: float, peak: float | None, progress=None) -> list[str]:
    """The tile sweep of ``op``'s Triton kernel, or nothing for ops without one."""
    if op == "linear_scan":
        from tsrec.kernels.linear import triton_impl as impl  # noqa: PLC0415 - triton loads here only

        # the chained kernel first: its few tiles are what the walk's many have not yet been timed against
        chained = [dict(CHAIN_BLOCK_C=b, CHAIN_CHUNK_T=c, CHAIN_WARPS=w) for b, c, w in CHAIN_SWEEP_TILES]
        lines, best = sweep_tiles(case, impl, chained, SWEEP_SIZE, budget, peak, backward=False,
                                  fixed={"CHAINED": True}, kernel=_linear_kernel, progress=progress,
                                  name="chained tile sweep", reference="the walk")
        lines += chained_at_targets(case, impl, best, peak) if best else []
        tiles = [dict(BLOCK_C=b, CHUNK_T=c, NUM_STAGES=st, NUM_WARPS=w) for b, c, st, w in SWEEP_TILES]
        walk, _ = sweep_tiles(case, impl, tiles, SWEEP_SIZE, budget, peak, backward=False, kernel=_linear_kernel,
                              progress=lambda rows: progress and progress(lines + rows))
        return lines + walk
    if op == "selective_scan":
        from tsrec.kernels.selective import triton_impl as impl  # noqa: PLC0415

        tiles = [dict(BLOCK_D=b, CHUNK_T=c, FWD_WARPS=fw, BWD_WARPS=bw) for b, c, fw, bw in SELECTIVE_SWEEP_TILES]
        # lift the spill guard's cap on the tile, so that each row runs the tile it names
        return sweep_tiles(case, impl, tiles, SELECTIVE_TARGET_SIZE, budget, peak, backward=True,
                           fixed={"TILE_VALUES": 2**30}, progress=progress)[0]
    return []


def chained_at_targets(case: kc.Case, module, tile: dict, peak: float | None) -> list[str]:
    """The chained kernel at ``tile`` (the sweep's fastest) at each bandwidth-target size, kernel alone,
    with its forward against the walk's: whether switching to it meets the target, read from this run."""
    settings = ", ".join(f"{k}={v}" for k, v in tile.items())
    lines = [f"The fastest chained tile ({settings}) at the bandwidth target's sizes, kernel alone:", ""]
    for at in GPU_SIZES["linear_scan"]:
        size = dict(zip(("batch", "time", "chans", "state"), at), op="linear_scan", backend="triton")
        if not is_bandwidth_target(size):
            continue
        inputs = case.make(size, DEVICE)
        with torch.no_grad():
            walk = case.call(inputs, "triton").double()  # the module's own settings: the walk
            with mock.patch.multiple(module, CHAINED=True, **tile):
                ms = device_ms(_linear_kernel(inputs), KERNEL_REPS)
                err = ((case.call(inputs, "triton").double() - walk).abs().max() / walk.abs().max()).item()
        gbps = case.nbytes(size) / ms / 1e6
        frac, verdict = _share(gbps, peak)
        lines.append(f"- {bench._label(size)}: {ms:.3f} ms, {gbps:.0f} GB/s = {100 * frac:.0f}% of peak: {verdict} "
                     f"(rel. err vs the walk {err:.1e}{'' if err <= SWEEP_TOLERANCE else ' WRONG'}).")
    return lines + [""]


def device_ms(fn, reps: int) -> float:
    """Device time per call of ``fn`` in ms, ``reps`` calls launched back to back after a warm-up.

    CUDA events around the whole run: while the GPU works through one launch the host issues the
    next, so the host's per-call work (checks, launch, allocation) is hidden, unlike in
    ``bench.time_call``'s wall time per call. On a CPU (the dry run) the wall time.
    """
    fn()
    bench._sync(DEVICE)
    if DEVICE.type != "cuda":
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        return 1e3 * (time.perf_counter() - start) / reps
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / reps


def is_bandwidth_target(row: dict) -> bool:
    """Whether a result row is one of the linear_scan bandwidth target's (triton, B*C >= 16K, T = 4096)."""
    return (row["op"] == "linear_scan" and row["backend"] == "triton"
            and row["batch"] * row["chans"] >= BANDWIDTH_MIN_ROWS and row["time"] == BANDWIDTH_TIME)


def add_kernel_times(case: kc.Case, rows: list[dict]) -> None:
    """Time the linear_scan kernel alone at the bandwidth target's sizes: ``kernel_ms`` in each row.

    The public op's time per call includes the host's work and the wait for the NaN/inf flag; here
    the kernel runs as the op launches it (flag included, not read), back to back (:func:`device_ms`).
    """
    for row in filter(is_bandwidth_target, rows):
        row["kernel_ms"] = device_ms(_linear_kernel(case.make(row, DEVICE)), KERNEL_REPS)


def _share(gbps: float, peak: float | None) -> tuple[float, str]:
    frac = gbps / peak if peak else float("nan")
    return frac, "met" if frac >= TARGET_BANDWIDTH else "MISSED"


def target_lines(rows: list[dict], peak: float | None, copy_gbps: float) -> list[str]:
    """The two GPU speed targets (the module docstring), met or missed, from the timings taken."""
    out = ["## GPU targets", ""]
    for r in filter(is_bandwidth_target, rows):
        frac, verdict = _share(r["gbps"], peak)
        line = (f"- triton linear_scan {bench._label(r)}: public op {r['gbps']:.0f} GB/s = {100 * frac:.0f}% of peak "
                f"({100 * r['gbps'] / copy_gbps:.0f}% of the measured copy), target >= "
                f"{100 * TARGET_BANDWIDTH:.0f}%: {verdict}")
        if "kernel_ms" in r:
            gbps = r["nbytes"] / r["kernel_ms"] / 1e6
            frac, verdict = _share(gbps, peak)
            line += (f"; the kernel alone (device time, {KERNEL_REPS} launches back to back) {r['kernel_ms']:.3f} ms, "
                     f"{gbps:.0f} GB/s = {100 * frac:.0f}% of peak: {verdict}")
        out.append(line + ".")
    key = lambda r: (r["batch"], r["time"], r["chans"], r["state"])  # noqa: E731
    sel = {r["backend"]: r for r in rows if r["op"] == "selective_scan" and key(r) == SELECTIVE_TARGET_SIZE}
    if len(sel) == 2:
        ratio = sel["torch"]["both"] / sel["triton"]["both"]
        verdict = "met" if ratio >= TARGET_SELECTIVE else "MISSED"
        out.append(f"- selective_scan fwd+bwd {SELECTIVE_TARGET_SIZE}: triton {sel['triton']['both']:.2f} ms, "
                   f"torch {sel['torch']['both']:.2f} ms: {ratio:.1f}x, target >= {TARGET_SELECTIVE:.0f}x: {verdict}.")
    worst = max(rows, key=lambda r: r["err"])
    out.append(f"- largest forward difference triton vs torch over all sizes: {worst['err']:.1e} (relative to the "
               f"largest output entry; {worst['op']}, {bench._label(worst)}).")
    return out + [""]


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, time every op on the GPU, write the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")
    parser.add_argument("--budget", type=float, default=0.5,
                        help="seconds of repeats per measurement, up to 7 after a warm-up (0: one)")
    ops = sorted({op.split()[0] for op in GPU_SIZES})
    parser.add_argument("--ops", nargs="+", choices=ops, default=ops, metavar="OP",
                        help=f"time only these ops, and sweep their tiles (default: all of {', '.join(ops)})")
    args = parser.parse_args(argv)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA GPU: torch.cuda.is_available() is False; run benchmarks/kernels.py on CPU instead")
    torch.manual_seed(0)
    name, peak = bench._gpu_peak()
    copy_gbps = copy_bandwidth(COPY_BYTES, args.budget)
    import triton  # noqa: PLC0415 - only to name its version in the report

    header = [
        "# Kernel benchmarks on a GPU", "",
        f"Command: `{command_line(__file__, argv)}`", "",
        f"Device: {name} (peak memory bandwidth {peak or 'unknown'} GB/s; a 2 GiB device-to-device copy "
        f"measured {copy_gbps:.0f} GB/s in this run). torch {torch.__version__}, triton {triton.__version__}, "
        "CUDA " + str(torch.version.cuda) + ". fp32 inputs; median wall time after one warm-up (which compiles).",
        "", "GB/s = minimal forward bytes (inputs read once, outputs written once) / forward time.", "",
    ]
    shared = [case for case in kc.CASES if case.op not in {c.op for c in GPU_ONLY_CASES}]
    cases = [case for case in shared + GPU_ONLY_CASES if case.op in GPU_SIZES and case.op.split()[0] in args.ops]
    lines, rows = [], []
    stamp = provenance()  # the run's code, start and machine, under every (partial) report

    def report(final: bool, body: list[str] | None = None) -> str:
        # rewritten after every op and sweep row, so that a run cut short by the device's time limit keeps
        # what it measured
        partial = [] if final else ["**Partial report**: the run has not (yet) reached its end.", ""]
        text = "\n".join(header + partial + target_lines(rows, peak, copy_gbps) + (body or lines) + ["", stamp]) + "\n"
        if args.out:
            atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report
        return text

    for case in cases:  # the two target ops come first
        print(f"== {case.op}", flush=True)
        table, got = run_op(case, GPU_SIZES[case.op], args.budget, peak)
        if case.op == "linear_scan":
            add_kernel_times(case, got)
        lines, rows = lines + table, rows + got
        report(final=False)
    for case in cases:
        done = lines
        lines = done + sweeps(case.op, case, args.budget, peak,
                              progress=lambda table, done=done: report(False, done + table))
        report(final=False)
    text = report(final=True)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
