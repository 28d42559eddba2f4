"""Chimera's two modes timed on the same windows: selective 2-D scans against global 2-D convolutions.

``selective=True`` (the default) computes ``B``, ``C`` and the steps from every cell and runs
the 2-D scan over each batch's grid; ``selective=False`` learns them as constants and convolves
the grid with the scan's impulse response by FFT (:mod:`tsrec.nn.chimera_lti`), which the paper
uses to train fast. This script times the whole forecaster network (the estimator's defaults:
d_model 16, d_state 8, one layer, lookback and horizon 96), forward and forward+backward, at the
sizes of ETTh1 (7 variates), weather (21) and ECL (321). One torch thread, fp32; the two modes
alternate within each repeat so that both see the same load, and the best of ``--repeats`` is kept.

Example::

    python benchmarks/chimera_modes.py --out benchmarks/results/chimera_modes.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from _args import command_line, emit_report, int_in, report_path  # benchmarks/_args.py, beside this script
from tsrec.nn.chimera import Chimera

# (batch, variates): the estimator's batch of 32 where it fits in a few seconds a pass
SIZES = [(32, 7), (32, 21), (4, 321)]
WINDOW = 96
MODES = {"selective": True, "input-independent": False}


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(batch: int, variates: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Best seconds (forward, forward+backward) of each mode's network on one batch of windows."""
    torch.manual_seed(0)
    nets = {mode: Chimera(WINDOW, WINDOW, selective=flag) for mode, flag in MODES.items()}
    x = torch.randn(batch, WINDOW, variates)
    best = {mode: [float("inf"), float("inf")] for mode in MODES}
    for _ in range(repeats):
        for mode, net in nets.items():
            def forward(net=net):
                with torch.no_grad():
                    net(x)

            best[mode][0] = min(best[mode][0], seconds(forward))
            best[mode][1] = min(best[mode][1], seconds(lambda net=net: net(x).square().mean().backward()))
    return {mode: tuple(times) for mode, times in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=3)
    parser.add_argument("--out", type=report_path, default=None,
                        help="write the markdown report here (else print only)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    command = command_line(__file__, argv)
    lines = [
        "# Chimera: selective 2-D scans against input-independent global convolutions (CPU)", "",
        f"Command: `{command}`", "",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, {os.cpu_count()} cores "
        f"shared with other processes. fp32, the whole `Chimera` network with the estimator's defaults "
        f"(d_model 16, d_state 8, one layer, linear head), lookback = horizon = {WINDOW}, best of {args.repeats}.",
        "",
        "| batch, variates | selective fwd ms | input-independent fwd ms | selective fwd+bwd ms "
        "| input-independent fwd+bwd ms | fwd+bwd speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for batch, variates in SIZES:
        t = measure(batch, variates, args.repeats)
        (sf, sb), (cf, cb) = t["selective"], t["input-independent"]
        lines.append(f"| {batch}, {variates} | {1e3 * sf:.0f} | {1e3 * cf:.0f} | {1e3 * sb:.0f} | {1e3 * cb:.0f} "
                     f"| {sb / cb:.2f}x |")
        print(lines[-1], flush=True)
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
