"""AR-Net's training defaults: how close the learned AR coefficients come to least squares, by series length.

Usage::

    python benchmarks/arnet_defaults.py --out benchmarks/results/arnet_defaults.md

AR-Net's learning rate falls by x0.9 after every epoch (the paper's ``StepLR``), so a fit moves its
weights by about ten epochs' worth of steps, whatever ``max_epochs``: on a short series, whose
epoch is a few batches, the rate is spent before the coefficients arrive. Each row fits
``ARNetForecaster(n_lags=3)`` with one setting (all else at the defaults) to a series and
compares its ``coef_`` with the least-squares AR(3) fit of the same standardised series (with an
intercept):

- simulated AR(3) series (``make_ar``: coefficients 0.2, 0.3, -0.5, noise 1) of ``--sizes`` steps;
- the first year of ETTh1's oil temperature (8640 hours), nearly a unit root: its lags are close
  to collinear, so the training loss against least squares' tells more than the coefficients.

Columns: the largest coefficient difference, the last epoch's training loss (mean squared error in
standard deviations) over least squares', and the fit's seconds on one torch thread.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import emit_report, int_in  # noqa: E402

SETTINGS = {
    "defaults": {},
    "before (lr 0.003, batch 128)": {"lr": 0.003, "batch_size": 128},
    "AR-Net's example (lr 2e-4, batch 128, 10 epochs)": {"lr": 2e-4, "batch_size": 128, "max_epochs": 10},
}
N_LAGS = 3


def least_squares(y, n_lags: int):
    """AR(n_lags) coefficients (lag 1 first) and in-sample MSE of the standardised series."""
    import numpy as np

    z = (y - y.mean()) / y.std()
    lags = np.stack([z[n_lags - k - 1:len(z) - k - 1] for k in range(n_lags)] + [np.ones(len(z) - n_lags)], axis=1)
    coef, *_ = np.linalg.lstsq(lags, z[n_lags:], rcond=None)
    return coef[:n_lags], float(np.mean((lags @ coef - z[n_lags:]) ** 2))


def series(sizes: list[int]) -> dict:
    import numpy as np

    from tsrec.datasets import load_ett, make_ar

    found = {f"AR(3), {n} steps": np.asarray(make_ar(n_samples=n), dtype=float) for n in sizes}
    found["ETTh1 OT, 8640 hours"] = load_ett("ETTh1")["OT"].iloc[:8640].to_numpy(dtype=float)
    return found


def row(name: str, y, setting: str, params: dict) -> str:
    import numpy as np

    from tsrec.estimators import ARNetForecaster

    coef, mse = least_squares(y, N_LAGS)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ARNetForecaster(n_lags=N_LAGS, random_state=0, **params).fit(y, fh=[1])
    seconds = time.perf_counter() - start
    gap = float(np.abs(est.coef_ - coef).max())
    return f"| {name} | {setting} | {gap:.3f} | {est.history_['train_loss'][-1] / mse:.3f} | {seconds:.1f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int_in(N_LAGS + 20), default=[500, 2000, 20000, 125000],
                        help="lengths of the simulated AR(3) series")
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write (default: print)")
    args = parser.parse_args(argv)
    import torch

    from tsrec.estimators import ARNetForecaster

    torch.set_num_threads(1)
    defaults = ARNetForecaster().get_params()
    lines = ["# AR-Net's training defaults against least squares", "",
             f"Command: `python benchmarks/arnet_defaults.py --sizes {' '.join(map(str, args.sizes))}`", "",
             __doc__.split("\n\n", 3)[3].strip(), "",
             f"Defaults: lr {defaults['lr']}, batch {defaults['batch_size']}, {defaults['max_epochs']} epochs.", "",
             "| series | setting | max abs coefficient difference | training MSE / least squares' | fit s |",
             "|---|---|---:|---:|---:|"]
    for name, y in series(args.sizes).items():
        lines += [row(name, y, setting, params) for setting, params in SETTINGS.items()]
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
