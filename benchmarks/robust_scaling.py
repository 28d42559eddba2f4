"""Outliers in the training rows: ``scaler="standard"`` against ``scaler="robust"``.

Usage::

    python benchmarks/robust_scaling.py --seeds 0 1 2 --out benchmarks/results/robust_scaling.md
    python benchmarks/robust_scaling.py --datasets illness --models ARNetForecaster --epochs 2 --seeds 0

Each variate of a benchmark set is one series of a panel (as in ``panel_scaling.py``: the papers'
70/10/20 split, one forecaster per panel, each series standardised on its own). Two versions of
the training rows are fitted: as they are ("clean"), and with ``--rate`` of each series' training
rows replaced by outliers ("outliers": the series' training median plus or minus ``--size`` of its
training standard deviations, sign at random; a sensor's faulty readings). The validation rows
(early-stopping targets) and the test rows stay clean. Score: the test MSE of every window in each
series' clean training standard deviations, mean over the series; the mean and standard deviation
of that over the seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from _args import command_line, emit_report, int_in, positive_float, report_path  # noqa: E402  (beside this script)
from panel_scaling import MODELS, WINDOWS, as_panel, model_params, standardised_errors  # noqa: E402
from tsrec.datasets.ltsf import load_ltsf, ltsf_borders  # noqa: E402
from tsrec.registry import get_estimator  # noqa: E402

SCALERS = ("standard", "robust")
CONDITIONS = ("clean", "outliers")


def with_outliers(train: pd.DataFrame, rate: float, size: float, rng: np.random.Generator) -> pd.DataFrame:
    """``train`` with ``rate`` of each column's rows (at least one) set to its median plus or minus
    ``size`` of its standard deviations."""
    out = train.astype(float)  # integer counts (ILI's) take the outliers' fractions
    count = max(1, round(rate * len(train)))
    for column in train.columns:
        values = train[column].to_numpy(float)
        rows = rng.choice(len(values), size=count, replace=False)
        signs = rng.choice([-1.0, 1.0], size=count)
        out.iloc[rows, out.columns.get_loc(column)] = np.median(values) + signs * size * values.std()
    return out


def score(name: str, model: str, params: dict, condition: str, args: argparse.Namespace, seed: int) -> tuple:
    """(test MSE in clean training standard deviations, mean over the series; fit seconds) of ``model``
    with ``params`` besides the benchmark's (``{"scaler": "robust"}``, ``{"loss": "mae"}``, ...)."""
    df = load_ltsf(name)
    lookback, horizon = WINDOWS[name]
    train_end, val_end, test_end = ltsf_borders(name, len(df))
    train = df.iloc[:train_end]
    if condition == "outliers":
        train = with_outliers(train, args.rate, args.size, np.random.default_rng(seed))
    fit_rows = as_panel(pd.concat([train, df.iloc[train_end:val_end]]))
    test = as_panel(df.iloc[val_end - lookback:test_end])
    train_std = df.iloc[:train_end].std(ddof=0).set_axis([str(c) for c in df.columns])
    est = get_estimator(model)(**model_params(model, lookback, horizon, args.epochs, seed), **params,
                               val_size=val_end - train_end)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fit on outliers may be told its loss is far above the baseline's
        est.fit(fit_rows)
    seconds = time.perf_counter() - start
    return float(standardised_errors(est, test, train_std).mean()), seconds


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    for name in args.datasets:
        for model in args.models:
            for condition in CONDITIONS:
                for scaler in SCALERS:
                    runs = [score(name, model, {"scaler": scaler}, condition, args, seed) for seed in args.seeds]
                    errors = np.array([e for e, _ in runs])
                    rows.append({"dataset": name, "model": model, "condition": condition, "scaler": scaler,
                                 "mean": errors.mean(), "sd": errors.std(), "seconds": np.mean([s for _, s in runs])})
                    print(rows[-1], flush=True)
    return rows


def render(rows: list[dict], args: argparse.Namespace, command: str) -> list[str]:
    lines = [
        "# Outliers in the training rows: standard against robust scaling", "",
        f"Command: `{command}`.", "",
        f"Each variate of a set is one series of a panel, each standardised on its own. `outliers`: "
        f"{args.rate:g} of each series' training rows (at least one) set to its training median plus or minus "
        f"{args.size:g} training standard deviations; validation and test rows clean. Test MSE of every window "
        f"in each series' clean training standard deviations, mean over the series; mean ± standard deviation over "
        f"seeds {' '.join(map(str, args.seeds))}; {args.epochs} epochs at most (early stopping on the validation "
        "rows).", "",
        "| dataset | model | condition | standard | robust | robust / standard | fit s (standard, robust) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in range(0, len(rows), 2):
        std, rob = rows[i], rows[i + 1]
        lines.append(f"| {std['dataset']} | {std['model']} | {std['condition']} | {std['mean']:.4f} ± {std['sd']:.4f} "
                     f"| {rob['mean']:.4f} ± {rob['sd']:.4f} | {rob['mean'] / std['mean']:.3g} | "
                     f"{std['seconds']:.1f}, {rob['seconds']:.1f} |")
    return lines


def parse(argv: list[str] | None, description: str = __doc__.splitlines()[0]) -> argparse.Namespace:
    """The command line; ``description`` is the calling script's (robust_loss.py shares these flags)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--datasets", nargs="+", choices=sorted(WINDOWS), default=["exchange_rate", "illness"])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int_in(0, 2**32 - 1), nargs="+", default=[0])
    parser.add_argument("--rate", type=positive_float, default=0.01, help="share of training rows made outliers")
    parser.add_argument("--size", type=positive_float, default=30.0, help="outliers' distance in standard deviations")
    parser.add_argument("--out", type=report_path, default=None)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.rate >= 1:
        parser.error(f"--rate must be a share of the rows below 1, got {args.rate:g}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rows = run(args)
    command = command_line(__file__, argv)
    emit_report(render(rows, args, command.strip()), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
