"""AR-Net's training defaults against least squares: its coefficients, and its forecasts on held-out rows.

Usage::

    python benchmarks/arnet_defaults.py --out benchmarks/results/arnet_defaults.md

AR-Net's learning rate falls by x0.9 after every epoch (the paper's ``StepLR``), so all epochs
together move the weights about as far as ten epochs at the first rate, whatever ``max_epochs``.
On a short series, whose epoch is a few batches, the rate is spent before the coefficients
arrive. Each row fits ``ARNetForecaster`` with one setting (all else at the defaults) to the
first 80% of a series, and the least-squares AR fit (with an intercept) to the same rows,
standardised by their mean and spread:

- simulated AR(3) series (``make_ar``: coefficients 0.2, 0.3, -0.5, noise 1) of ``--sizes`` steps,
  3 lags;
- the first year of ETTh1's oil temperature (8640 hours), 3 lags and 24: nearly a unit root, so
  its lags are close to collinear and the held-out error tells more than the coefficients.

Columns: the largest difference from the least-squares coefficients; the one-step mean squared
error over the last 20% of the series (each forecast from the rows before it) over least
squares' error there; the fit's seconds on one torch thread, after one untimed fit.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import emit_report, int_in, report_path  # noqa: E402

SETTINGS = {
    "defaults": {},
    "before (lr 0.003, batch 128)": {"lr": 0.003, "batch_size": 128},
    "AR-Net's example (lr 2e-4, batch 128, 10 epochs)": {"lr": 2e-4, "batch_size": 128, "max_epochs": 10},
}
TRAIN_SHARE = 0.8


def lag_matrix(z, n_lags: int):
    """Rows ``[z[t-1], ..., z[t-n_lags], 1]`` for every ``t >= n_lags``, and the targets ``z[t]``."""
    import numpy as np

    lags = [z[n_lags - k - 1:len(z) - k - 1] for k in range(n_lags)]
    return np.stack(lags + [np.ones(len(z) - n_lags)], axis=1), z[n_lags:]


def least_squares(y, n_lags: int, split: int):
    """AR(n_lags) coefficients (lag 1 first) fitted to ``y[:split]`` standardised, and the one-step
    MSE of its forecasts of ``y[split:]`` (each from the rows before it) in ``y``'s units."""
    import numpy as np

    mean, std = y[:split].mean(), y[:split].std()
    design, target = lag_matrix((y - mean) / std, n_lags)
    coef, *_ = np.linalg.lstsq(design[:split - n_lags], target[:split - n_lags], rcond=None)
    errors = (design[split - n_lags:] @ coef - target[split - n_lags:]) * std
    return coef[:n_lags], float(np.mean(errors ** 2))


def series(sizes: list[int]) -> list[tuple[str, object, int]]:
    import numpy as np

    from tsrec.datasets import load_ett, make_ar

    found = [(f"AR(3), {n} steps", np.asarray(make_ar(n_samples=n), dtype=float), 3) for n in sizes]
    oil = load_ett("ETTh1")["OT"].iloc[:8640].to_numpy(dtype=float)
    return found + [("ETTh1 OT, 8640 hours", oil, 3), ("ETTh1 OT, 8640 hours", oil, 24)]


def fitted(y, n_lags: int, split: int, params: dict):
    from tsrec.estimators import ARNetForecaster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ARNetForecaster(n_lags=n_lags, random_state=0, **params).fit(y[:split], fh=[1])


def row(name: str, y, n_lags: int, setting: str, params: dict) -> str:
    import numpy as np

    split = int(len(y) * TRAIN_SHARE)
    coef, mse = least_squares(y, n_lags, split)
    start = time.perf_counter()
    est = fitted(y, n_lags, split, params)
    seconds = time.perf_counter() - start
    held_out = y[split - n_lags:]  # the rows before the first target, then the targets
    errors = est.forecast_windows(held_out) - est.window_targets(held_out)
    gap = float(np.abs(est.coef_ - coef).max())
    return f"| {name} | {n_lags} | {setting} | {gap:.3f} | {float(np.mean(errors ** 2)) / mse:.3f} | {seconds:.1f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int_in(100), default=[500, 2000, 20000, 125000],
                        help="lengths of the simulated AR(3) series")
    parser.add_argument("--out", type=report_path, default=None, help="markdown file to write (default: print)")
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    from tsrec.estimators import ARNetForecaster

    torch.set_num_threads(1)
    fitted(np.sin(np.arange(200) / 5.0), 3, 160, {"max_epochs": 1})  # imports and first-call costs, untimed
    defaults = ARNetForecaster().get_params()
    lines = ["# AR-Net's training defaults against least squares", "",
             f"Command: `python benchmarks/arnet_defaults.py --sizes {' '.join(map(str, args.sizes))}`", "",
             __doc__.split("\n\n", 3)[3].strip(), "",
             f"Defaults: lr {defaults['lr']}, batch {defaults['batch_size']}, {defaults['max_epochs']} epochs.", "",
             "| series | lags | setting | max abs coefficient difference | held-out MSE / least squares' | fit s |",
             "|---|---:|---|---:|---:|---:|"]
    for name, y, n_lags in series(args.sizes):
        lines += [row(name, y, n_lags, setting, params) for setting, params in SETTINGS.items()]
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
