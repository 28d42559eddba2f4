"""Peak memory of one ChimeraForecaster training batch against the number of variates, scans kept or recomputed.

Usage::

    python benchmarks/chimera_memory.py --out benchmarks/results/chimera_memory.md

Each row runs in a fresh process on one thread: a default ``ChimeraForecaster`` (lookback 96,
batch 32, ``d_model=16``, ``d_state=8``, one layer) fits one training batch of a random series with
``n`` variates (``val_size=0``, ``limit_train_batches=1``), and the process's peak resident memory is
read before and after; once keeping each 2-D SSM's state grids for backward
(``gradient_checkpointing=False``) and once recomputing them (``True``). The fit refuses, before
training, batches whose lower bound (``tsrec.estimators._scan_memory.training_bytes``: 4.6
state-sized grids for each of the four 2-D SSMs of a layer, or for one when recomputed) exceeds the
machine's memory; the table compares that bound with the measured peak.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import child_json, command_line, emit_report, int_in, report_path  # noqa: E402

CHILD = """
import json, sys
import numpy as np, pandas as pd, torch
torch.set_num_threads(1)
from tsrec.estimators import ChimeraForecaster
from tsrec.estimators._scan_memory import training_bytes
from tsrec.estimators._training import TrainingConfig
n, recompute = int(sys.argv[1]), sys.argv[2] == "True"
y = pd.DataFrame(np.random.default_rng(0).normal(size=(600, n)),
                 index=pd.date_range("2024-01-01", periods=600, freq="h"))
est = ChimeraForecaster(max_epochs=1, val_size=0, random_state=0, accelerator="cpu",
                        trainer_kwargs={"limit_train_batches": 1}, gradient_checkpointing=recompute)
def peak():
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
est.fit(y.iloc[:200, :2])  # imports and first-fit set-up, outside the measured fit
open("/proc/self/clear_refs", "w").write("5")  # the peak from here on
before = peak()
est.fit(y)
bound = training_bytes(est, TrainingConfig(batch_size=est.batch_size), n, est.lookback, est.batch_size, recompute)
print(json.dumps(dict(variates=n, bytes=peak() - before, bound=bound)))
"""


TIMING = """
import json, statistics, sys, time
import torch
torch.set_num_threads(1)
from tsrec.nn.chimera import Chimera, recompute_scans
torch.manual_seed(0)
n = int(sys.argv[1])
net, x = Chimera(lookback=96, horizon=96, d_model=16, d_state=8, d_ff=32, e_layers=1), torch.randn(32, 96, n)
seconds = {False: [], True: []}
for _ in range(4):  # interleaved, the first round a warm-up: a ratio of one run on a noisy machine
    for recompute in (False, True):
        recompute_scans(net, recompute)
        start = time.perf_counter()
        net(x).square().mean().backward()
        seconds[recompute].append(time.perf_counter() - start)
print(json.dumps({str(k): statistics.median(v[1:]) for k, v in seconds.items()}))
"""


def time_both(variates: int) -> dict:
    """Median seconds of one forward+backward pass of a batch, scans kept ("False") and recomputed ("True")."""
    return child_json(TIMING, variates)


def measure(variates: int, recompute: bool) -> dict:
    """Peak memory of one training batch above the process after its imports, in a fresh process."""
    return child_json(CHILD, variates, recompute)


def report(rows: list[tuple[dict, dict, dict]], command: str) -> list[str]:
    mib = 2**20
    lines = [
        "# Chimera training memory per batch", "",
        f"Command: `{command}`", "",
        "Peak resident memory of one training batch of a default `ChimeraForecaster` (lookback 96, batch 32, "
        "`d_model=16`, `d_state=8`, one layer; a fresh process per measurement, one thread) above the process "
        "after its imports, against the lower bound the fit checks before training; with each 2-D SSM's state "
        "grids kept for backward (`gradient_checkpointing=False`) and recomputed (`True`). Seconds: the median "
        "of three forward+backward passes of the network on one batch, the two ways interleaved in one process.",
        "",
        "| variates | kept: peak (MiB) | MiB a variate | bound (MiB) | peak / bound | seconds "
        "| recomputed: peak (MiB) | bound (MiB) | peak / bound | seconds | memory kept / recomputed "
        "| time recomputed / kept |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kept, redo, seconds in rows:
        fast, slow = seconds["False"], seconds["True"]
        lines.append(
            f"| {kept['variates']} | {kept['bytes'] / mib:.0f} | {kept['bytes'] / mib / kept['variates']:.1f} "
            f"| {kept['bound'] / mib:.0f} | {kept['bytes'] / kept['bound']:.2f} | {fast:.2f} "
            f"| {redo['bytes'] / mib:.0f} | {redo['bound'] / mib:.0f} | {redo['bytes'] / redo['bound']:.2f} "
            f"| {slow:.2f} | {kept['bytes'] / redo['bytes']:.2f} | {slow / fast:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variates", type=int_in(1), nargs="+", default=[7, 21, 50, 100],
                        help="numbers of variates to measure (default: 7 21 50 100)")
    parser.add_argument("--out", type=report_path, default=None, help="markdown report (default: print it)")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    started = time.perf_counter()
    rows = [(measure(n, False), measure(n, True), time_both(n)) for n in args.variates]
    emit_report(report(rows, command), args.out)
    print(f"done ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
