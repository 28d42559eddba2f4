"""Seconds to import tsrec and to forecast with a saved model, which Lightning no longer slows.

Usage::

    python benchmarks/import_time.py --out benchmarks/results/import_time.md

Lightning (and through it ``torch._dynamo``) is imported by the first ``fit`` only
(``tsrec/estimators/_training.py``). Each row is the median over ``--repeats`` fresh interpreters,
the rows' runs interleaved so that a busy machine slows them alike:

- ``import tsrec.estimators``, then the same with ``import lightning.pytorch`` after it, which is
  what importing the estimators cost while it brought Lightning in;
- loading a saved ARNetForecaster and forecasting one CSV series with ``tsrec forecast`` (the
  batch command line, one fresh process a run), and the same with Lightning imported first.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import add_report_out, command_line, emit_report, int_in  # noqa: E402

SAVE = """
import sys, numpy as np, pandas as pd
from tsrec.estimators import ARNetForecaster
y = pd.DataFrame({"load": np.sin(np.arange(500) / 6.0)}, index=pd.date_range("2024-01-01", periods=500, freq="h"))
ARNetForecaster(max_epochs=1, random_state=0).fit(y).save(sys.argv[1] + "/model")
y.to_csv(sys.argv[1] + "/series.csv", index_label="ds")
"""
#: the command line run as ``python -m tsrec``, with Lightning imported first or not
CLI = "import sys, runpy{extra}; sys.argv = ['tsrec', *sys.argv[1:]]; runpy.run_module('tsrec', run_name='__main__')"


def cases(folder: str) -> dict[str, list[str]]:
    """Each row's command line."""
    forecast = ["forecast", "--model", f"{folder}/model", "--input", f"{folder}/series.csv", "--layout", "wide",
                "--output", f"{folder}/forecasts.csv"]
    return {
        "import tsrec.estimators": ["-c", "import tsrec.estimators"],
        "import tsrec.estimators, then lightning.pytorch": ["-c", "import tsrec.estimators, lightning.pytorch"],
        "tsrec forecast (load, predict, write)": ["-c", CLI.format(extra=""), *forecast],
        "tsrec forecast, lightning.pytorch imported first": ["-c", CLI.format(extra=", lightning.pytorch"), *forecast],
    }


def seconds(argv: list[str]) -> float:
    """Wall seconds of one fresh interpreter running ``argv``."""
    start = time.perf_counter()
    run_quietly(argv)
    return time.perf_counter() - start


def run_quietly(argv: list[str]) -> None:
    """Run ``python argv`` with its output captured; a failure ends the benchmark with the child's error, which a
    bare ``CalledProcessError`` (exit status 1) hid."""
    child = subprocess.run([sys.executable, *argv], capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(f"python {' '.join(argv)[:200]} failed (exit status {child.returncode}):\n"
                         f"{child.stderr.strip()[-3000:]}")


def report(times: dict[str, list[float]], command: str) -> list[str]:
    base = statistics.median(times["import tsrec.estimators"])
    lines = [
        "# Import and command-line start-up", "",
        f"Command: `{command}`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; median and "
        f"range over {len(next(iter(times.values())))} fresh interpreters a row, the rows interleaved. Lightning is "
        "imported by the first fit only; the rows with it show what it added before.", "",
        "| run | median s | min s | max s |", "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} |" for name, ts in times.items()]
    with_lightning = statistics.median(times["import tsrec.estimators, then lightning.pytorch"])
    lines += ["", f"Importing the estimators takes {base:.2f} s; with Lightning it took {with_lightning:.2f} s "
              f"({with_lightning / base:.2f}x)."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in(1), default=7, help="fresh interpreters a row (default: 7)")
    add_report_out(parser, "import_time.md")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    with tempfile.TemporaryDirectory() as folder:
        run_quietly(["-c", SAVE, folder])
        rows = cases(folder)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, run in rows.items():
                times[name].append(seconds(run))
    emit_report(report(times, command), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
