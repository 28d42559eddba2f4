"""LTC's CPU solver loop trained with its synapse activations kept, or recomputed in the backward pass.

``tsrec.kernels.ltc_scan``'s torch path keeps what autograd saves of every solver update (two
``batch x units x units`` tensors each, ``ode_unfolds`` updates an input step) unless that
would pass ``RECOMPUTE_ABOVE_BYTES``; then it runs ``SEGMENT_STEPS`` input steps at a time
without a graph and recomputes each segment in the backward pass. This script times one forward
and backward pass of the loop both ways (the threshold moved out of the way or down to 0) and
reads the peak memory (``ru_maxrss``) of each, each way in a fresh process so that one peak does
not hide the other. One torch thread, fp32, ``ode_unfolds=6``; best of ``--repeats`` passes.

Example::

    python benchmarks/ltc_recompute.py --out benchmarks/results/ltc_recompute.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

from _args import emit_report, int_in  # benchmarks/_args.py, beside this script
from tsrec.kernels import ltc_scan
from tsrec.kernels.recurrent import ltc

SIZES = [(16, 256, 32), (16, 1024, 32)]  # (batch, input steps, units)
UNFOLDS = 6
MODES = {"kept": 2**62, "recomputed": 0}  # RECOMPUTE_ABOVE_BYTES for each way


def leaves(batch: int, steps: int, units: int) -> list[torch.Tensor]:
    """Inputs and parameters in the solver's ranges (positive weights, slopes and capacitances)."""
    g = torch.Generator().manual_seed(0)
    pos = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    cm = 3 * pos(units) + 0.5
    tensors = [0.5 * pos(batch, steps, 2 * units), torch.zeros(batch, units), cm, 0.2 * pos(units), cm + pos(units),
               pos(units, units), torch.randn(units, units, generator=g), 5 * pos(units, units) + 3, pos(units, units)]
    return [x.requires_grad_(i != 1) for i, x in enumerate(tensors)]


def measure_here(batch: int, steps: int, units: int, mode: str, repeats: int) -> dict:
    """Best forward and backward seconds, and this process's peak memory, for one way."""
    torch.set_num_threads(1)
    ltc.RECOMPUTE_ABOVE_BYTES = MODES[mode]
    inputs = leaves(batch, steps, units)
    best_fwd = best_bwd = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        states = ltc_scan(*inputs, ode_unfolds=UNFOLDS, backend="torch")
        middle = time.perf_counter()
        states.square().sum().backward()
        best_fwd, best_bwd = min(best_fwd, middle - start), min(best_bwd, time.perf_counter() - middle)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"fwd": best_fwd, "bwd": best_bwd, "peak_mib": peak_mib}


def measure(batch: int, steps: int, units: int, mode: str, repeats: int) -> dict:
    """:func:`measure_here` in a fresh interpreter."""
    code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import ltc_recompute as m; "
            f"print(json.dumps(m.measure_here({batch}, {steps}, {units}, {mode!r}, {repeats})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=3)
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here (else print only)")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/ltc_recompute.py", *(sys.argv[1:] if argv is None else argv)])
    lines = [
        "# LTC solver loop on a CPU: activations kept against recomputed in the backward pass", "",
        f"Command: `{command}`", "",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, {os.cpu_count()} cores "
        f"shared with other processes. fp32, `ltc_scan(backend='torch')` with ode_unfolds={UNFOLDS}, segments of "
        f"{ltc.SEGMENT_STEPS} steps, best of {args.repeats}; peak memory is the process's (torch's import "
        "included), each way in its own process. The estimate is `saved_gate_bytes`, which the loop compares with "
        f"{ltc.RECOMPUTE_ABOVE_BYTES // 2**20} MiB.",
        "",
        "| batch, steps, units | estimate MiB | way | fwd s | bwd s | fwd+bwd s | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for batch, steps, units in SIZES:
        estimate = ltc.saved_gate_bytes(torch.empty(batch, steps, 2 * units), units, UNFOLDS) / 2**20
        for mode in MODES:
            r = measure(batch, steps, units, mode, args.repeats)
            lines.append(f"| {batch}, {steps}, {units} | {estimate:.0f} | {mode} | {r['fwd']:.2f} | {r['bwd']:.2f} "
                         f"| {r['fwd'] + r['bwd']:.2f} | {r['peak_mib']:.0f} |")
            print(lines[-1], flush=True)
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
