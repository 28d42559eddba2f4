"""LS4 panel forecasts: seconds and peak memory of ``predict`` by number of series, at the default network.

Usage::

    nice python benchmarks/ls4_panel.py --out benchmarks/results/ls4_panel.md
    python benchmarks/ls4_panel.py --sizes 2 3 --d-model 8 --d-state 8 --n-layers 1 --n-samples 4 --out x.md

For each size ``N``, one fresh process fits an ``LS4Forecaster`` with its default network
(``d_model``, ``d_state``, ``n_layers``, ``n_samples``, ``lookback`` and ``horizon`` as the
constructor has them unless an option sets them) for one epoch, without a validation split, on a
panel of ``N`` hourly series of ``lookback + horizon + 8`` rows (nine training windows a series)
and saves it. A second fresh process loads it on one torch thread and times ``predict`` of the
first ``--steps`` steps of the whole panel, reading its peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) before and after: the fit's own peak never
reaches the row, and the next size starts from a fresh process. A forecast samples
``PATHS_PER_PASS // n_samples`` series a pass (``tsrec.estimators._sample_paths``), each with its
``n_samples`` paths through the S4 stacks over the lookback and then step by step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import add_report_out, child_json, code_label, command_line, cpu_name, emit_report, int_in  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: network options: None keeps the constructor's default
NETWORK_OPTIONS = ("d_model", "d_state", "n_layers", "n_samples", "lookback", "horizon")

# run in a fresh process: fit on a panel of n series and save the forecaster to a folder
FIT_CHILD = """
import json, sys, time, warnings
import numpy as np, pandas as pd, torch
warnings.simplefilter("ignore")
torch.set_num_threads(1)
from tsrec.estimators import LS4Forecaster
n, params, path = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
est = LS4Forecaster(max_epochs=1, val_size=0, patience=None, random_state=0, **params)
rows = est.lookback + est.horizon + 8
t = np.arange(rows)
noise = np.random.default_rng(0).standard_normal((n, rows))
values = (np.sin(2 * np.pi * (t + np.arange(n)[:, None]) / 24) + 0.1 * noise).ravel()
stamps = pd.date_range("2024-01-01", periods=rows, freq="h")
index = pd.MultiIndex.from_product([[f"s{i}" for i in range(n)], stamps], names=["id", "ds"])
start = time.perf_counter()
est.fit(pd.DataFrame({"y": values}, index=index))
fit_seconds = time.perf_counter() - start
est.save(path)
keys = ("lookback", "horizon", "z_dim", "d_model", "d_state", "n_layers", "n_samples", "s4_mode", "batch_size")
print(json.dumps(dict(rows=rows, fit_seconds=fit_seconds, params={k: est.get_params()[k] for k in keys})))
"""

# run in a fresh process: load the forecaster and time predict on its panel, with its peak memory
PREDICT_CHILD = """
import json, resource, sys, time, warnings
import torch
warnings.simplefilter("ignore")
torch.set_num_threads(1)
import tsrec
path, steps = sys.argv[1], int(sys.argv[2])
est = tsrec.load(path)
n = len(est._y.index.get_level_values(0).unique())
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, start = peak(), time.perf_counter()
forecast = est.predict(fh=range(1, steps + 1))
seconds, after = time.perf_counter() - start, peak()
assert forecast.shape[0] == n * steps and forecast.notna().all().all()
print(json.dumps(dict(series=n, seconds=seconds, peak_before=before, peak_after=after,
                      paths_per_pass=min(n, est._series_per_pass()) * est.n_samples, threads=torch.get_num_threads())))
"""


def run_child(code: str, args: list[str], cwd: str) -> dict:
    """Run ``code`` in a fresh interpreter on this checkout's tsrec; the JSON of its last line."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return child_json(code, *args, env=env, cwd=cwd)


def measure(n_series: int, params: dict, steps: int) -> dict:
    """Fit and save in one fresh process, load and time ``predict`` in another."""
    with tempfile.TemporaryDirectory() as tmp:  # not the checkout's folder: the children import tsrec by PYTHONPATH
        fit = run_child(FIT_CHILD, [str(n_series), json.dumps(params), f"{tmp}/model"], tmp)
        return {**fit, **run_child(PREDICT_CHILD, [f"{tmp}/model", str(steps)], tmp)}


def table_row(r: dict) -> str:
    mib = 2**20
    return (f"| {r['series']} | {r['paths_per_pass']} | {r['seconds']:.2f} | {r['seconds'] / r['series']:.3f} "
            f"| {r['peak_after'] / mib:.0f} | {(r['peak_after'] - r['peak_before']) / mib:.0f} |")


def report(rows: list[dict], command: str, steps: int, context: dict) -> list[str]:
    """The markdown report: what was measured, where, and a row per size."""
    p, torch_version = rows[0]["params"], context["torch"]
    return [
        "# LS4 panel forecasts: seconds and peak memory by number of series", "",
        f"Command: `{command}`", "",
        f"Written by `benchmarks/ls4_panel.py`. `LS4Forecaster(max_epochs=1, val_size=0, patience=None, "
        f"random_state=0)` with lookback {p['lookback']}, horizon {p['horizon']}, z_dim {p['z_dim']}, "
        f"d_model {p['d_model']}, d_state {p['d_state']}, n_layers {p['n_layers']}, s4_mode {p['s4_mode']!r}, "
        f"n_samples {p['n_samples']}, fitted in one fresh process on a panel of hourly series of {rows[0]['rows']} "
        "rows (a daily sine plus noise) and saved; a second fresh process loads it (`tsrec.load`) and times "
        f"`predict(fh=range(1, {steps + 1}))` of the whole panel. Peak RSS is that process's `ru_maxrss` after "
        "`predict` (its imports of torch and tsrec and the load included); the increase is `ru_maxrss` after "
        "`predict` less before. Paths per pass: series sampled together times `n_samples`.", "",
        f"Code: {context['commit']}. Date: {context['date']} (UTC). CPU: {context['cpu']}, {os.cpu_count()} cores "
        f"shared with other processes (load average {context['load_start']:.1f} at the start, "
        f"{context['load_end']:.1f} at the end); torch {torch_version}, {rows[0]['threads']} torch thread, "
        f"Python {platform.python_version()}. Fit seconds (not part of the table): "
        + ", ".join(f"{r['fit_seconds']:.1f}" for r in rows) + ".", "",
        "| series | paths per pass | seconds | seconds per series | peak RSS (MiB) | RSS increase (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
        *(table_row(r) for r in rows),
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_in(1), nargs="+", default=[10, 20, 40, 80],
                        help="series in the panel, each size in fresh processes (default: 10 20 40 80)")
    parser.add_argument("--steps", type=int_in(1), default=24, help="forecast steps, fh=1..steps (default: 24)")
    for name in NETWORK_OPTIONS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int_in(1), default=None,
                            help=f"LS4Forecaster's {name} (default: the constructor's)")
    add_report_out(parser, "ls4_panel.md")
    return parser.parse_args(argv)


def torch_version() -> str:
    """The children's torch version, read without importing torch here."""
    from importlib.metadata import version

    return version("torch")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    params = {name: getattr(args, name) for name in NETWORK_OPTIONS if getattr(args, name) is not None}
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    rows = []
    for n in args.sizes:
        rows.append(measure(n, params, args.steps))
        print(table_row(rows[-1]), flush=True)
    context = dict(commit=code_label(), date=datetime.now(timezone.utc).strftime("%Y-%m-%d"), cpu=cpu_name(),
                   load_start=load_start, load_end=os.getloadavg()[0], torch=torch_version())
    emit_report(report(rows, command_line(__file__, argv), args.steps, context), args.out)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
