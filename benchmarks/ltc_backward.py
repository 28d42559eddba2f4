"""LTC's CPU solver loop differentiated by its hand-written adjoint, or by autograd.

``tsrec.kernels.ltc_scan``'s torch path runs the loop without a graph and differentiates it by
the adjoint of ``tsrec.kernels.recurrent.ltc_adjoint``, which reads the state entering every
solver update and its denominator (kept by the forward unless they would pass
``KEEP_UPDATES_BELOW_BYTES``, else recomputed step by step). Autograd through the same loop
(``ltc_adjoint.solve`` with a graph) keeps two ``batch x units x units`` tensors per update
instead; it is what the torch path ran before while those stayed under 256 MiB (past that it
recomputed them in the backward pass, 32 input steps at a time, not timed here). This script times
one forward and backward pass each way and reads the peak memory (``ru_maxrss``) of each, each way
in a fresh process so that one peak does not hide the other. One torch thread, fp32,
``ode_unfolds=6``; best of ``--repeats`` passes.

Example::

    python benchmarks/ltc_backward.py --out benchmarks/results/ltc_backward.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import torch

from _args import child_json, command_line, emit_report, int_in, report_path  # benchmarks/_args.py, beside this script
from tsrec.kernels import ltc_scan
from tsrec.kernels.recurrent import ltc_adjoint

SIZES = [(16, 256, 32), (16, 1024, 32)]  # (batch, input steps, units)
UNFOLDS = 6
MODES = ("autograd", "adjoint, updates kept", "adjoint, updates recomputed")


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
    ltc_adjoint.KEEP_UPDATES_BELOW_BYTES = 0 if mode.endswith("recomputed") else 2**62
    inputs = leaves(batch, steps, units)
    if mode == "autograd":
        def scan(terms, v0, *params):
            return ltc_adjoint.solve(terms, v0, params, UNFOLDS, 1e-8)
    else:
        def scan(*tensors):
            return ltc_scan(*tensors, ode_unfolds=UNFOLDS, backend="torch")
    best_fwd = best_bwd = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        states = scan(*inputs)
        middle = time.perf_counter()
        states.square().sum().backward()
        best_fwd, best_bwd = min(best_fwd, middle - start), min(best_bwd, time.perf_counter() - middle)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"fwd": best_fwd, "bwd": best_bwd, "peak_mib": peak_mib}


def measure(batch: int, steps: int, units: int, mode: str, repeats: int) -> dict:
    """:func:`measure_here` in a fresh interpreter."""
    code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import ltc_backward as m; "
            f"print(json.dumps(m.measure_here({batch}, {steps}, {units}, {mode!r}, {repeats})))")
    return child_json(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=3)
    parser.add_argument("--out", type=report_path, default=None,
                        help="write the markdown report here (else print only)")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    lines = [
        "# LTC solver loop on a CPU: hand-written adjoint against autograd", "",
        f"Command: `{command}`", "",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, {os.cpu_count()} cores "
        f"shared with other processes. fp32, ode_unfolds={UNFOLDS}, best of {args.repeats}; peak memory is the "
        "process's (torch's import included), each way in its own process. autograd: through the loop "
        "(`ltc_adjoint.solve` with a graph); adjoint: `ltc_scan(backend='torch')`, which keeps the updates' "
        f"entering states and denominators below {ltc_adjoint.KEEP_UPDATES_BELOW_BYTES // 2**20} MiB "
        "(the rows force either way). The ratio is autograd's fwd+bwd time over the row's.",
        "",
        "| batch, steps, units | way | fwd s | bwd s | fwd+bwd s | speed-up | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for batch, steps, units in SIZES:
        baseline = None
        for mode in MODES:
            r = measure(batch, steps, units, mode, args.repeats)
            total = r["fwd"] + r["bwd"]
            baseline = baseline or total
            lines.append(f"| {batch}, {steps}, {units} | {mode} | {r['fwd']:.2f} | {r['bwd']:.2f} | {total:.2f} "
                         f"| {baseline / total:.2f}x | {r['peak_mib']:.0f} |")
            print(lines[-1], flush=True)
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
