"""One global model over series of very different scales: ``scaling="global"`` against ``"series"``.

Usage::

    python benchmarks/panel_scaling.py --out benchmarks/results/panel_scaling.md
    python benchmarks/panel_scaling.py --datasets illness --models ARNetForecaster --epochs 2 --out /tmp/x.md

Each variate of a benchmark set (exchange rates, ILI counts and percentages, weather readings)
becomes one series of a panel, and one forecaster is fitted over the whole panel, as a global
model over many series is (the papers' channel-independent setting, with one shared scaler or
a scaler per series). Splits follow the papers' protocol (70/10/20; the validation rows are the
early-stopping targets, the scalers see the training rows only), and every test window of every
series is forecast. Errors are in each series' own training standard deviations, so that a
series of spread 0.001 weighs as much as one of spread 1000: the mean and median over series of
the test MSE, and the worst series. Both scalings train with the same seed, epochs and rates.
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

from _args import add_report_out, command_line, emit_report, int_in  # noqa: E402  (beside this script)
from tsrec.datasets.ltsf import load_ltsf, ltsf_borders  # noqa: E402
from tsrec.registry import get_estimator  # noqa: E402

#: lookback and horizon per set: the papers' (36/24 for ILI), 96/96 elsewhere
WINDOWS = {"exchange_rate": (96, 96), "illness": (36, 24), "weather": (96, 96)}
MODELS = ("ARNetForecaster", "CycleNetForecaster")


def as_panel(df: pd.DataFrame) -> pd.DataFrame:
    """Each column of a wide frame as one series of a (series, time) panel with one value column."""
    return pd.concat({str(c): df[[c]].set_axis(["y"], axis=1) for c in df.columns}, names=["series", "time"])


def model_params(model: str, lookback: int, horizon: int, epochs: int, seed: int) -> dict:
    window = {"n_lags": lookback} if model == "ARNetForecaster" else {"lookback": lookback}
    return {**window, "horizon": horizon, "max_epochs": epochs, "random_state": seed}


def standardised_errors(est, test: pd.DataFrame, train_std: pd.Series) -> pd.Series:
    """Test MSE of each series over all its windows, in that series' training standard deviations."""
    forecasts, targets = est.forecast_windows(test), est.window_targets(test)
    counts = test.groupby(level=0, sort=False).size() - est._lookback_length() - est._horizon_length() + 1
    bounds = np.cumsum(counts.to_numpy())[:-1]
    errors = [np.mean(((f - t) / train_std[key]) ** 2)
              for key, f, t in zip(counts.index, np.split(forecasts, bounds), np.split(targets, bounds))]
    return pd.Series(errors, index=counts.index)


def run_one(name: str, model: str, scaling: str, epochs: int, seed: int) -> dict:
    df = load_ltsf(name)
    lookback, horizon = WINDOWS[name]
    train_end, val_end, test_end = ltsf_borders(name, len(df))
    fit_rows = as_panel(df.iloc[:val_end])  # the last val_end - train_end rows: early-stopping targets
    test = as_panel(df.iloc[val_end - lookback:test_end])
    train_std = df.iloc[:train_end].std(ddof=0).set_axis([str(c) for c in df.columns])
    cls = get_estimator(model)
    est = cls(**model_params(model, lookback, horizon, epochs, seed), scaling=scaling, val_size=val_end - train_end)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(fit_rows)
    seconds = time.perf_counter() - start
    errors = standardised_errors(est, test, train_std)
    worst = errors.idxmax()
    spread_warning = any("spread" in str(w.message) for w in caught)
    # how many times narrower than all the panel's training rows together each series is
    narrower = float(np.std(df.iloc[:train_end].to_numpy())) / train_std
    return {"dataset": name, "model": model, "scaling": scaling, "series": len(errors), "errors": errors,
            "narrower": narrower,
            "mean": errors.mean(), "median": errors.median(), "worst": f"{worst} ({errors[worst]:.3g})",
            "epochs": est.history_["epochs"], "seconds": seconds, "warned": spread_warning}


def per_series(rows: list[dict]) -> list[str]:
    """A table per data set and model: each series' test MSE under either scaling, by how much
    narrower than the panel it is."""
    lines = []
    for (name, model) in dict.fromkeys((r["dataset"], r["model"]) for r in rows):
        by = {r["scaling"]: r for r in rows if (r["dataset"], r["model"]) == (name, model)}
        if set(by) != {"global", "series"}:
            continue
        narrower = by["global"]["narrower"].sort_values()
        lines += ["", f"### {name}, {model}", "", "| series | times narrower than the panel | MSE global | "
                  "MSE series | global / series |", "|---|---|---|---|---|"]
        for key, ratio in narrower.items():
            glob, own = by["global"]["errors"][key], by["series"]["errors"][key]
            lines.append(f"| {key} | {ratio:.1f} | {glob:.4g} | {own:.4g} | {glob / own:.3g} |")
    return lines


def render(rows: list[dict], command: str) -> list[str]:
    lines = [
        "# One global model over series of different scales", "",
        f"Written by `{command}`. Each variate of a set is one series of a panel; one forecaster "
        "per panel; test MSE of every window in each series' own training standard deviations, "
        "mean and median over the series, and the worst series. `warned`: fit gave the global "
        "scaler's spread warning.", "",
        "| dataset | model | scaling | series | mean MSE | median MSE | worst series (MSE) | epochs | fit s | warned |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['model']} | {r['scaling']} | {r['series']} | {r['mean']:.4f} | "
                     f"{r['median']:.4f} | {r['worst']} | {r['epochs']} | {r['seconds']:.1f} | "
                     f"{'yes' if r['warned'] else 'no'} |")
    lines += per_series(rows)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(WINDOWS), default=["exchange_rate", "illness"])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0)
    add_report_out(parser, "panel_scaling.md")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    rows = []
    for name in args.datasets:
        for model in args.models:
            for scaling in ("global", "series"):
                rows.append(run_one(name, model, scaling, args.epochs, args.seed))
                print({k: v for k, v in rows[-1].items() if k not in ("errors", "narrower")}, flush=True)
    command = command_line(__file__, argv)
    emit_report(render(rows, command.strip()), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
