"""Outliers in the training rows: the point losses ``loss="mse"``, ``"mae"`` and ``"huber"``.

Usage::

    python benchmarks/robust_loss.py --seeds 0 1 2 --out benchmarks/results/robust_loss.md
    python benchmarks/robust_loss.py --datasets illness --models ARNetForecaster --epochs 2 --seeds 0

The data and the outliers are those of ``robust_scaling.py`` (each variate of a set one series of a
panel, each standardised on its own; ``--rate`` of each series' training rows moved ``--size`` of
its training standard deviations from its median; validation and test rows clean), fitted with the
default ``scaler="standard"`` under each loss: the mean squared error, the mean absolute error, and
Huber's with its default threshold (1 standardised unit) and with 0.1. The early-stopping
validation loss is each fit's own loss. Score: the test MSE of every window in each series' clean
training standard deviations, mean over the series; mean and standard deviation over the seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

import robust_scaling  # noqa: E402  (benchmarks/robust_scaling.py, beside this script)
from _args import command_line, emit_report  # noqa: E402

#: (column heading, the forecaster parameters of that loss)
LOSSES = (
    ("mse", {"loss": "mse"}),
    ("mae", {"loss": "mae"}),
    ("huber", {"loss": "huber"}),
    ("huber, delta 0.1", {"loss": "huber", "huber_delta": 0.1}),
)


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    for name in args.datasets:
        for model in args.models:
            for condition in robust_scaling.CONDITIONS:
                row = {"dataset": name, "model": model, "condition": condition}
                for heading, params in LOSSES:
                    runs = [robust_scaling.score(name, model, params, condition, args, seed) for seed in args.seeds]
                    errors = np.array([error for error, _ in runs])
                    row[heading] = (errors.mean(), errors.std())
                print(row, flush=True)
                rows.append(row)
    return rows


def render(rows: list[dict], args: argparse.Namespace, command: str) -> list[str]:
    headings = [heading for heading, _ in LOSSES]
    lines = [
        "# Outliers in the training rows: the point losses", "",
        f"Command: `{command}`.", "",
        f"Each variate of a set is one series of a panel, each standardised on its own (`scaler=\"standard\"`). "
        f"`outliers`: {args.rate:g} of each series' training rows (at least one) set to its training median plus "
        f"or minus {args.size:g} training standard deviations; validation and test rows clean. Each column is a "
        "fit's `loss` (Huber's threshold in standardised units), on which it trains and early-stops. Test MSE of "
        "every window in each series' clean training standard deviations (a metric that favours the MSE fit on "
        f"clean data), mean over the series; mean ± standard deviation over seeds {' '.join(map(str, args.seeds))}; "
        f"{args.epochs} epochs at most.", "",
        "| dataset | model | condition | " + " | ".join(headings) + " | best / mse |",
        "|---|---|---|" + "---|" * len(headings) + "---|",
    ]
    for row in rows:
        cells = [f"{row[h][0]:.4f} ± {row[h][1]:.4f}" for h in headings]
        best = min(row[h][0] for h in headings)
        lines.append(f"| {row['dataset']} | {row['model']} | {row['condition']} | " + " | ".join(cells)
                     + f" | {best / row['mse'][0]:.3g} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = robust_scaling.parse(argv, __doc__.splitlines()[0])
    rows = run(args)
    command = command_line(__file__, argv)
    emit_report(render(rows, args, command.strip()), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
