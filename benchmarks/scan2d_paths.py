"""scan2d's two torch paths, variate sweep and wavefront, timed on the same inputs.

The torch backend picks the variate sweep up to ``sweep_limit(T)`` variates per batch row (256 at
T = 96) and the anti-diagonal wavefront beyond; this script measures both across the number of variates
(the sizes of Chimera's forecaster and classifier on the benchmark data) and, for wide panels, the
batch, so that the crossover rests on numbers. One torch thread, fp32, best of ``--repeats`` runs,
forward and forward+backward (the backward of every input). Writes benchmarks/results/scan2d_paths.md.
``--time`` reruns the sizes at the LTSF look-back (96 steps) at other lengths, one table per length, since
the wavefront's step count grows with time plus variates while the sweep's grows with variates only.
``--sizes`` times other (batch, time, variates) sizes instead, written ``BxTxV``, to find the crossover.

Example::

    python benchmarks/scan2d_paths.py --time 96 720
    python benchmarks/scan2d_paths.py --sizes 1x336x600 1x336x900 --out /tmp/crossover.md
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import time

import torch

from _args import add_report_out, command_line, emit_report, int_in  # benchmarks/_args.py, beside this script
from tsrec.kernels.scan2d.variate_sweep import scan_variate_sweep
from tsrec.kernels.scan2d.wavefront import scan_wavefront

# (batch, time, variates): univariate UCR lengths, ETTh1 (7), weather (21), and wide panels
SIZES = [(16, 24, 1), (16, 251, 1), (16, 29, 12), (32, 96, 7), (32, 96, 21), (8, 96, 64), (4, 96, 128), (3, 96, 200),
         (2, 96, 321), (1, 96, 500), (1, 96, 862),
         # wide panels in 1 to 8 rows: where the crossover lies for each batch
         (1, 96, 256), (1, 96, 321), (2, 96, 500), (2, 96, 862), (4, 96, 862), (8, 96, 862)]
LOOKBACK = 96  # the time of the LTSF sizes above, which --time replaces
CHANNELS, STATE = 16, 8
PATHS = {"sweep": scan_variate_sweep, "wavefront": scan_wavefront}


def inputs(batch: int, steps: int, nvar: int) -> tuple:
    """Chimera-like inputs: steps in (0.05, 0.55), decaying A's, random B/C; finite at every size."""
    g = torch.Generator().manual_seed(0)
    grid = (batch, steps, nvar, CHANNELS)
    x = torch.randn(*grid, generator=g)
    d1, d2 = (0.05 + 0.5 * torch.rand(*grid, generator=g) for _ in range(2))
    A = [-0.2 - torch.rand(CHANNELS, STATE, generator=g) for _ in range(4)]
    # Chimera's start for A2 (exp(delta1 A2) <= e^-5): with all four near 1 the states grow
    # along the variates and overflow at a hundred variates
    A[1] = -(5.0 + torch.rand(CHANNELS, STATE, generator=g)) / 0.05
    BC = [torch.randn(batch, steps, nvar, STATE, generator=g) for _ in range(4)]
    return x, d1, d2, A, BC


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(size: tuple[int, int, int], repeats: int) -> dict[str, tuple[float, float]]:
    """Seconds (forward, forward+backward) of each path."""
    x, d1, d2, A, BC = inputs(*size)
    leaves = [t.requires_grad_() for t in (x, d1, d2, *A, *BC)]
    out = {}
    for name, path in PATHS.items():
        def forward():
            with torch.no_grad():
                path(x, d1, d2, A, BC, None)

        def both():
            y, _ = path(x, d1, d2, A, BC, None)
            torch.autograd.grad(y.sum(), leaves, allow_unused=True)  # A3 is unused with one variate

        out[name] = (best_time(forward, repeats), best_time(both, repeats))
    return out


def grid_size(text: str) -> tuple[int, int, int]:
    """An argparse ``type``: ``BxTxV``, three positive integers."""
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"must be batch x time x variates, such as 1x336x600, got {text!r}")
    return tuple(int(p) for p in parts)


def sizes_at(steps: int, first: bool) -> list[tuple[int, int, int]]:
    """The sizes of length 96 at ``steps``; the first table also keeps the sizes of their own length."""
    return [(b, steps, v) for b, t, v in SIZES if t == LOOKBACK] if not first else \
        [(b, steps if t == LOOKBACK else t, v) for b, t, v in SIZES]


def table(sizes: list[tuple[int, int, int]], repeats: int) -> list[str]:
    """One markdown table of both paths at each size, printed row by row as measured."""
    lines = ["", "| batch, time, variates | sweep fwd ms | wavefront fwd ms | sweep fwd+bwd ms | wavefront fwd+bwd ms "
             "| fwd+bwd speed-up of the sweep |", "|---|---|---|---|---|---|"]
    for size in sizes:
        t = measure(size, repeats)
        (sf, sb), (wf, wb) = t["sweep"], t["wavefront"]
        lines.append(f"| {size} | {1e3 * sf:.1f} | {1e3 * wf:.1f} | {1e3 * sb:.1f} | {1e3 * wb:.1f} | {wb / sb:.2f}x |")
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=3)
    parser.add_argument("--time", type=int_in(2), nargs="+", default=None,
                        help=f"lengths at which to time the sizes of length {LOOKBACK} (the others keep their own; "
                             f"default: {LOOKBACK})")
    parser.add_argument("--sizes", type=grid_size, nargs="+",
                        help="time these BxTxV sizes instead of the built-in ones (then --time is not allowed)")
    add_report_out(parser, "scan2d_paths.md")
    args = parser.parse_args(argv)
    if args.sizes and args.time is not None:  # "--time 96" too: it would be silently ignored
        parser.error("--sizes and --time both choose the sizes: give one of them")
    args.time = args.time or [LOOKBACK]
    torch.set_num_threads(1)
    rule = importlib.import_module("tsrec.kernels.scan2d")
    limit = (f"sweep_limit(T) = {rule.SWEEP_MAX_VARIATES_PER_ROW} x (T / {rule.SWEEP_REFERENCE_TIME}) ** "
             f"{rule.SWEEP_TIME_EXPONENT}")
    lines = [
        "# scan2d: variate sweep against wavefront (torch backend, CPU)", "",
        f"Command: `{command_line(__file__, argv)}`", "",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, {os.cpu_count()} cores "
        f"shared with other processes. fp32, channels {CHANNELS}, state {STATE}, best of {args.repeats}. "
        f"The backend uses the sweep up to {limit} variates per batch row.",
    ]
    if args.sizes:
        lines += table(args.sizes, args.repeats)
    for steps in [] if args.sizes else args.time:
        lines += table(sizes_at(steps, first=steps == args.time[0]), args.repeats)
    emit_report(lines, args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
