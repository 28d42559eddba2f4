"""scan2d's two torch paths, variate sweep and wavefront, timed on the same inputs.

The torch backend picks the variate sweep up to ``SWEEP_MAX_VARIATES_PER_ROW`` variates per batch
row and the anti-diagonal wavefront beyond; this script measures both across the number of variates
(the sizes of Chimera's forecaster and classifier on the benchmark data) and, for wide panels, the
batch, so that the crossover rests on numbers. One torch thread, fp32, best of ``--repeats`` runs,
forward and forward+backward (the backward of every input). Writes benchmarks/results/scan2d_paths.md.

Example::

    python benchmarks/scan2d_paths.py
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

import torch

from _args import int_in  # benchmarks/_args.py, beside this script
from tsrec._files import atomic_write
from tsrec.kernels.scan2d.variate_sweep import scan_variate_sweep
from tsrec.kernels.scan2d.wavefront import scan_wavefront

RESULTS = Path(__file__).resolve().parent / "results"
# (batch, time, variates): univariate UCR lengths, ETTh1 (7), weather (21), and wide panels
SIZES = [(16, 24, 1), (16, 251, 1), (16, 29, 12), (32, 96, 7), (32, 96, 21), (8, 96, 64), (4, 96, 128), (3, 96, 200),
         (2, 96, 321), (1, 96, 500), (1, 96, 862),
         # wide panels in 1 to 8 rows: where the crossover lies for each batch
         (1, 96, 256), (1, 96, 321), (2, 96, 500), (2, 96, 862), (4, 96, 862), (8, 96, 862)]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "scan2d_paths.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    limit = importlib.import_module("tsrec.kernels.scan2d").SWEEP_MAX_VARIATES_PER_ROW
    lines = [
        "# scan2d: variate sweep against wavefront (torch backend, CPU)", "",
        f"Command: `python benchmarks/scan2d_paths.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, {os.cpu_count()} cores "
        f"shared with other processes. fp32, channels {CHANNELS}, state {STATE}, best of {args.repeats}. "
        f"The backend uses the sweep up to SWEEP_MAX_VARIATES_PER_ROW = {limit} variates per batch row.", "",
        "| batch, time, variates | sweep fwd ms | wavefront fwd ms | sweep fwd+bwd ms | wavefront fwd+bwd ms "
        "| fwd+bwd speed-up of the sweep |",
        "|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        t = measure(size, args.repeats)
        (sf, sb), (wf, wb) = t["sweep"], t["wavefront"]
        lines.append(f"| {size} | {1e3 * sf:.1f} | {1e3 * wf:.1f} | {1e3 * sb:.1f} | {1e3 * wb:.1f} | {wb / sb:.2f}x |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
