"""Peak memory a step of a long point-forecast roll-out holds, for the refusal of oversized ``fh``.

Usage::

    python benchmarks/rollout_memory.py --out benchmarks/results/rollout_memory.md

Before a roll-out, forecasters refuse an ``fh`` whose steps could not fit in memory
(``tsrec.estimators._horizon.check_output_size``), counting ``ROLLOUT_ROW_BYTES`` a step beyond
the values. That figure is measured here: each size runs in a fresh process, which fits an AR-Net
on an hourly series and reads its peak resident memory before and after ``predict(fh=n)``.
The difference over ``n`` is what a step cost at the peak (sktime's absolute horizon holds a
Timestamp object per step, the forecast a stamp and a value).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import add_report_out, child_json, command_line, emit_report, int_in  # noqa: E402

CHILD = """
import json, resource, sys, time
import numpy as np, pandas as pd, torch
torch.set_num_threads(1)
from tsrec.estimators import ARNetForecaster
from tsrec.estimators._horizon import ROLLOUT_ROW_BYTES
steps = int(sys.argv[1])
y = pd.Series(np.sin(np.arange(600.0)), index=pd.date_range("2024-01-01", periods=600, freq="h"))
est = ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, random_state=0).fit(y)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, start = peak(), time.perf_counter()
assert len(est.predict(fh=steps)) == steps
print(json.dumps(dict(steps=steps, bytes=peak() - before, seconds=time.perf_counter() - start,
                      budget=ROLLOUT_ROW_BYTES)))
"""


def measure(steps: int) -> dict:
    """Peak memory of ``predict(fh=steps)`` above the fitted process, in a fresh process."""
    return child_json(CHILD, steps)


def report(rows: list[dict], command: str) -> list[str]:
    lines = [
        "# Roll-out memory per step", "",
        f"Command: `{command}`", "",
        "Peak resident memory of `ARNetForecaster(n_lags=8, horizon=4).predict(fh=n)` on one hourly series "
        "above the fitted process (a fresh process per row). The forecasters refuse an `fh` whose steps "
        f"would exceed the machine's memory at `ROLLOUT_ROW_BYTES` = {rows[0]['budget']} bytes a step "
        "plus 8 a value.", "",
        "| steps | peak above fit (MiB) | bytes a step | seconds |", "|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['steps']:,} | {row['bytes'] / 2**20:.0f} | {row['bytes'] / row['steps']:.0f} "
                     f"| {row['seconds']:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int_in(1000), nargs="+", default=[10**6, 10**7],
                        help="roll-out lengths to measure (default: 10**6 10**7)")
    add_report_out(parser, "rollout_memory.md")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    started = time.perf_counter()
    rows = [measure(steps) for steps in args.steps]
    emit_report(report(rows, command), args.out)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
