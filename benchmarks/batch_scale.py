"""Batch forecasting at scale: time and peak memory of ``forecast_files`` by number of series.

Usage::

    python benchmarks/batch_scale.py --sizes 1000 8000 50000 --out benchmarks/results/batch_scale.md

Each size writes a long CSV (``unique_id, ds, y``) of that many hourly series of ``--rows`` rows
(a daily sine plus noise), then forecasts it with a saved AR-Net (24 lags, horizon 24, fitted on
one series) in a fresh subprocess on one torch thread, timing the CSV read alone and the whole
``forecast_files`` call, and reading the subprocess' peak resident memory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from _args import add_report_out, child_json, command_line, emit_report, int_in  # noqa: E402  (beside this script)

# run in the child: one measurement per process, so peaks do not mix
CHILD = """
import json, resource, sys, time, torch
torch.set_num_threads(1)
from tsrec.batch import forecast_files
from tsrec.batch.io import read_series
model, data, out = sys.argv[1:4]
start = time.perf_counter(); read_series(data); read = time.perf_counter() - start
start = time.perf_counter(); rows = len(forecast_files(model, data, out, fh=24)); total = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"read_s": read, "forecast_files_s": total, "rows_out": rows, "peak_mb": peak}))
"""


def write_series(path: Path, n_series: int, rows: int, seed: int = 0) -> int:
    """A long CSV of ``n_series`` hourly series; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
    phase = rng.uniform(0, 24, size=(n_series, 1))
    values = np.sin(2 * np.pi * (np.arange(rows) + phase) / 24) + 0.1 * rng.standard_normal((n_series, rows))
    frame = pd.DataFrame({
        "unique_id": np.repeat([f"s{i}" for i in range(n_series)], rows),
        "ds": np.tile(stamps.strftime("%Y-%m-%d %H:%M:%S"), n_series),
        "y": values.ravel().round(5),
    })
    frame.to_csv(path, index=False)
    return path.stat().st_size


def fit_model(folder: Path) -> None:
    from tsrec.estimators import ARNetForecaster

    t = np.arange(2000)
    y = pd.Series(np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(1).standard_normal(len(t)),
                  index=pd.date_range("2023-01-01", periods=len(t), freq="h"))
    ARNetForecaster(n_lags=24, horizon=24, max_epochs=2, random_state=0).fit(y, fh=range(1, 25)).save(folder)


def measure(model: Path, data: Path, out: Path) -> dict:
    return child_json(CHILD, model, data, out)


def render(rows: list[dict], series_rows: int, argv: list[str]) -> list[str]:
    lines = [
        "# Batch forecasting by number of series", "",
        f"Command: `{command_line(__file__, argv)}`", "",
        "Written by `benchmarks/batch_scale.py`: hourly series of "
        f"{series_rows} rows in one long CSV, a saved AR-Net (24 lags, horizon 24), one torch thread, "
        "each size in a fresh process.", "",
        "| series | CSV MiB | read_series s | forecast_files s | ms a series | peak RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['series']} | {r['csv_mb']:.1f} | {r['read_s']:.2f} | {r['forecast_files_s']:.2f} | "
            f"{1000 * r['forecast_files_s'] / r['series']:.2f} | {r['peak_mb']:.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_in(1), nargs="+", default=[1000, 8000, 50000],
                        help="series counts to time (default: 1000 8000 50000)")
    parser.add_argument("--rows", type=int_in(24), default=48,
                        help="rows per series, at least the model's 24 lags (default: 48)")
    add_report_out(parser, "batch_scale.md")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fit_model(folder / "model")
        for n in args.sizes:
            data = folder / f"series_{n}.csv"
            size = write_series(data, n, args.rows)
            result = measure(folder / "model", data, folder / f"out_{n}.csv")
            rows.append({"series": n, "csv_mb": size / 2**20, **result})
            print(rows[-1], flush=True)
    emit_report(render(rows, args.rows, argv), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
