"""Batch forecasting with quantiles: the time of ``forecast_panel`` without them, and with two levels.

Usage::

    python benchmarks/batch_quantiles.py --out benchmarks/results/batch_quantiles.md

A default ``LS4Forecaster`` (fitted on one minibatch of one series: the weights do not change
the time) forecasts ``--series`` hourly series ``--fh`` steps ahead on one torch thread, three ways in
turn, ``--repeats`` rounds:

- without quantiles (the mean of the sample paths' decoder means);
- with ``quantiles=[0.1, 0.9]``, the point and quantile forecasts of a chunk sharing one walk of the
  sample paths (tsrec's way since 6b7c147);
- the same, each walking the paths itself (as before 6b7c147: the shared walk switched off).

The report gives each way's fastest and slowest round; the rounds alternate so that the machine's
load falls on all three alike.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import add_report_out, command_line, emit_report, int_in  # noqa: E402

WAYS = ["without quantiles", "two levels, one shared walk", "two levels, two walks (before 6b7c147)"]
LEVELS = [0.1, 0.9]


def panel(n_series: int):
    """``n_series`` hourly series of 400 noisy sines, in sktime's (series, time) layout."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    t = pd.date_range("2024-01-01", periods=400, freq="h")
    frames = {f"s{k}": pd.DataFrame({"y": np.sin(np.arange(400.0) / (3 + k % 7)) + rng.normal(0, 0.1, 400)}, index=t)
              for k in range(n_series)}
    return pd.concat(frames, names=["unique_id", "ds"])


def time_ways(n_series: int, fh: int, repeats: int) -> dict[str, list[float]]:
    """Seconds of each way's rounds."""
    import torch

    import tsrec.batch._chunks as chunks
    from tsrec.batch import forecast_panel
    from tsrec.estimators import LS4Forecaster

    torch.set_num_threads(1)
    data = panel(n_series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a one-epoch fit's warnings say nothing about the time
        # one minibatch of training and of validation: the weights do not change the time
        one_batch = {"limit_train_batches": 1, "limit_val_batches": 1}
        est = LS4Forecaster(max_epochs=1, random_state=0, trainer_kwargs=one_batch).fit(data.loc[["s0"]])
    shared = chunks.shared_walks
    ways = {WAYS[0]: (None, shared), WAYS[1]: (LEVELS, shared),
            WAYS[2]: (LEVELS, lambda *args: contextlib.nullcontext())}
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        for _ in range(repeats):
            for way, (levels, sharing) in ways.items():
                chunks.shared_walks = sharing
                start = time.perf_counter()
                forecast_panel(est, data, fh=fh, quantiles=levels)
                seconds[way].append(time.perf_counter() - start)
                print(f"{way}: {seconds[way][-1]:.1f} s", flush=True)
    finally:
        chunks.shared_walks = shared
    return seconds


def report(seconds: dict[str, list[float]], args: argparse.Namespace, command: str) -> list[str]:
    fastest = min(seconds[WAYS[0]])
    lines = [
        "# Batch forecasting with quantiles", "",
        f"Command: `{command}`", "",
        f"A default `LS4Forecaster` (100 sample paths) forecasts {args.series} hourly series {args.fh} steps ahead "
        f"with `forecast_panel`, one torch thread, {args.repeats} alternating rounds.", "",
        "| forecast | fastest s | slowest s | fastest / fastest without quantiles |", "|---|---:|---:|---:|",
    ]
    for way in WAYS:
        lines.append(f"| {way} | {min(seconds[way]):.1f} | {max(seconds[way]):.1f} | "
                     f"{min(seconds[way]) / fastest:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int_in(1), default=40, help="hourly series to forecast (default: 40)")
    parser.add_argument("--fh", type=int_in(1), default=8, help="steps ahead (default: 8)")
    parser.add_argument("--repeats", type=int_in(1), default=3, help="rounds of the three ways (default: 3)")
    add_report_out(parser, "batch_quantiles.md")
    args = parser.parse_args(argv)
    command = command_line(__file__, argv)
    emit_report(report(time_ways(args.series, args.fh, args.repeats), args, command), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
