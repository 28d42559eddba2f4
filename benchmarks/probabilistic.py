"""Probabilistic forecasting benchmark: LS4's point accuracy and interval calibration on one variate.

Protocol: one column of an LTSF data set (default ETTh1's OT), the papers' split (ETTh 12/4/4
months), standardised with train-split statistics. The forecaster is fitted on the train split
(its own time-ordered validation part for early stopping). On the test split every
``--stride``-th window is forecast (stride = horizon: non-overlapping windows, because
``n_samples`` sample paths per window are costly on a CPU) and scored on the standardised scale:
MSE/MAE of the point forecast (mean of the paths), the repeat-last baseline's MSE, empirical
coverage and mean width of the central 80% interval, and the sample CRPS
``E|X - y| - E|X - X'| / 2``. Results are merged into ``--out``/probabilistic.csv (default
benchmarks/results; pass another folder for a trial run) and rendered to probabilistic.md, both
written atomically.

Example::

    python benchmarks/probabilistic.py --lookback 96 --horizon 24 --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from _args import (  # benchmarks/_args.py, beside this script
    check_estimator_params, check_results_csv, code_label, command_line, int_in, json_params, provenance)
from tsrec import all_estimators
from tsrec._files import atomic_write_all, check_writable
from tsrec.datasets import load_ltsf, ltsf_split
from tsrec.registry import get_estimator

RESULTS = Path(__file__).resolve().parent / "results"
KEY = ["model", "params", "dataset", "column", "lookback", "horizon", "stride", "seed"]
# what each row's commit and date columns (not in KEY) are; rows from before they were recorded have them empty
DATED = ["commit", "date"]
MERGED = ("Rows merged from earlier runs keep the commit and date that measured them (in probabilistic.csv too; "
          "empty for rows from before these were recorded).")
MAX_SEED = 2**32 - 1  # what the estimators' random_state takes
# set by the script's own options: in --params they would label a row with values it did not run
RESERVED = {"horizon", "lookback", "random_state"}


def crps(paths: np.ndarray, truth: np.ndarray) -> float:
    """Sample CRPS averaged over points; ``paths`` (n_samples, ...) and ``truth`` (...)."""
    spread = np.abs(paths - truth).mean(axis=0)
    # E|X - X'| from sorted samples: sum_i (2i - n - 1) x_(i) * 2 / n^2
    n = paths.shape[0]
    ordered = np.sort(paths, axis=0)
    weights = (2 * np.arange(1, n + 1) - n - 1).reshape(-1, *[1] * (paths.ndim - 1))
    pair = 2 * (weights * ordered).sum(axis=0) / n**2
    return float((spread - 0.5 * pair).mean())


def run(args) -> dict:
    df = load_ltsf(args.dataset)[[args.column]]
    train, _, test = ltsf_split(df, args.dataset, args.lookback)
    scaler = StandardScaler().fit(train.to_numpy(float))
    params = {"lookback": args.lookback, "horizon": args.horizon, "random_state": args.seed, **json.loads(args.params)}
    est = get_estimator(args.model)(**params)
    t0 = time.perf_counter()
    est.fit(train)
    fit_s = time.perf_counter() - t0
    # the estimator's scaler was fitted on its own training part; score on the train-split scale
    values = test.to_numpy(float)
    starts = np.arange(0, len(values) - args.lookback - args.horizon + 1, args.stride)
    context = np.stack([est.scaler_.transform(values[s : s + args.lookback]) for s in starts])
    truth = np.stack([values[s + args.lookback : s + args.lookback + args.horizon] for s in starts])
    t0 = time.perf_counter()
    # one "series" per window: the network samples them as a batch and names a window that overflows
    windows = [(f"test window at row {s}", None) for s in starts]
    with torch.no_grad():
        paths = est._scaled_paths(torch.as_tensor(context, dtype=torch.float32), args.horizon, True, windows).numpy()
    sample_s = time.perf_counter() - t0
    paths = scaler.transform((paths * est.scaler_.scale_ + est.scaler_.mean_).reshape(-1, 1)).reshape(paths.shape)
    truth = scaler.transform(truth.reshape(-1, 1)).reshape(truth.shape)
    last = scaler.transform(np.stack([values[s + args.lookback - 1] for s in starts]))[:, None]
    point = paths.mean(axis=0)
    lower, upper = np.quantile(paths, [0.1, 0.9], axis=0)
    return {
        "model": args.model, "params": args.params, "dataset": args.dataset, "column": args.column,
        "lookback": args.lookback, "horizon": args.horizon, "stride": args.stride, "seed": args.seed,
        "windows": len(starts), "n_samples": est.n_samples, "epochs": est.history_["epochs"],
        "mse": float(np.mean((point - truth) ** 2)), "mae": float(np.mean(np.abs(point - truth))),
        "repeat_last_mse": float(np.mean((last - truth) ** 2)),
        "coverage80": float(np.mean((truth >= lower) & (truth <= upper))),
        "width80": float(np.mean(upper - lower)), "crps": crps(paths, truth),
        "fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1),
    }


def render_markdown(table: pd.DataFrame) -> str:
    """probabilistic.md from the merged rows; the command column stays in the CSV only. A commit or date that
    a row does not record shows empty."""
    table = table.drop(columns="command", errors="ignore")
    dated = [name for name in DATED if name in table.columns]
    table[dated] = table[dated].astype(object).where(table[dated].notna(), "")
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for record in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in record) + " |")
    return ("# Probabilistic forecasting (standardised scale, central 80% interval)\n\n"
            "Written by benchmarks/probabilistic.py; see its docstring for the protocol. Each row's command "
            "is in probabilistic.csv.\n\n" + "\n".join(lines) + "\n")


def read_results(path: Path) -> pd.DataFrame | None:
    """The CSV's rows; params, commit and date stay text (a commit of digits is not a number); an older CSV
    without the commit and date has none, and one without the stride ran the default, the horizon."""
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype={"params": str, "commit": str, "date": str})
    if "stride" not in table.columns:
        table.insert(table.columns.get_loc("horizon") + 1, "stride", table["horizon"])
    return table


def merge(old: pd.DataFrame | None, row: dict) -> pd.DataFrame:
    """``old`` without the row of ``row``'s key, with ``row`` appended."""
    table = pd.DataFrame([row])
    if old is None:
        return table
    return pd.concat([old[~old.set_index(KEY).index.isin(table.set_index(KEY).index)], table], ignore_index=True)


def save(table: pd.DataFrame, folder: Path) -> None:
    """Write probabilistic.csv and .md together, atomically: a failed write (a full disk) leaves both
    as they were, where writing in place left the committed rows cut off. The markdown ends with this run's
    provenance."""
    text = render_markdown(table) + "\n" + provenance() + " " + MERGED + "\n"
    atomic_write_all({folder / "probabilistic.csv": lambda tmp: table.to_csv(tmp, index=False),
                      folder / "probabilistic.md": lambda tmp: tmp.write_text(text)})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="LS4Forecaster", help="a forecaster with sample paths")
    parser.add_argument("--params", default="{}", help="JSON object of extra constructor parameters")
    parser.add_argument("--dataset", default="ETTh1")
    parser.add_argument("--column", default="OT")
    parser.add_argument("--lookback", type=int_in(1), default=96)
    parser.add_argument("--horizon", type=int_in(1), default=24)
    parser.add_argument("--stride", type=int_in(1), default=None, help="test window stride (default: the horizon)")
    parser.add_argument("--seed", type=int_in(0, MAX_SEED), default=2024)
    parser.add_argument("--threads", type=int_in(1), default=1,
                        help="torch threads; 1 avoids oversubscription when other work shares the cores")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder of probabilistic.csv and .md (default: benchmarks/results; "
                             "another one for a trial run)")
    return parser


def check_model(parser: argparse.ArgumentParser, args) -> None:
    """A forecaster with sample paths, that takes --params: else it failed only after its fit."""
    probabilistic = [name for name, cls in all_estimators(kind="forecaster") if hasattr(cls, "sample_paths")]
    if args.model not in probabilistic:
        parser.error(f"--model {args.model!r} is not a forecaster with sample paths; pass one of {probabilistic}")
    params = json_params(parser, args.params, RESERVED, "--lookback, --horizon and --seed")
    check_estimator_params(parser, args.model, params)


def check_data(parser: argparse.ArgumentParser, args) -> None:
    """The data set, its column, and at least one test window, before the fit."""
    try:
        df = load_ltsf(args.dataset)
    except (ValueError, OSError) as err:
        parser.error(f"--dataset: {err}")
    if args.column not in df.columns:
        parser.error(f"--column {args.column!r} is not a column of {args.dataset}; pass one of {list(df.columns)}")
    try:
        _, _, test = ltsf_split(df[[args.column]], args.dataset, args.lookback)
    except ValueError as err:
        parser.error(f"--lookback: {err}")
    longest = len(test) - args.lookback
    if args.horizon > longest:
        parser.error(f"--horizon {args.horizon}: {args.dataset}'s test split has {longest} steps after the lookback "
                     f"of {args.lookback}; pass a horizon up to {longest}")


def parse(argv: list[str]) -> argparse.Namespace:
    """The arguments, every one checked before the fit (exit 2 with a message)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_model(parser, args)
    check_data(parser, args)
    try:
        check_writable(args.out, args.out / "probabilistic.csv", "pass another --out folder")
    except OSError as err:
        parser.error(f"--out: {err.strerror or err}")
    check_results_csv(parser, args.out / "probabilistic.csv", KEY)
    args.stride = args.stride or args.horizon
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    torch.set_num_threads(args.threads)
    command = command_line(__file__, argv)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    row = run(args) | {"command": command, "commit": code_label(), "date": when}  # commit and date: not in KEY
    print(json.dumps(row))
    save(merge(read_results(args.out / "probabilistic.csv"), row), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
