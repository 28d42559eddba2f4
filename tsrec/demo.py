"""The main job: CycleNet on bundled ETTh1 under the papers' protocol, beside two baselines."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from tsrec._files import atomic_write_all, check_writable, nearest_existing, refuse_folder
from tsrec.datasets import load_ett, ltsf_split
from tsrec.estimators import CycleNetForecaster
from tsrec.estimators._folder import saved_folder_holding
from tsrec.estimators.errors import InputError

LOOKBACK, HORIZON, PERIOD = 96, 96, 24
OUTPUT_FILES = ("forecasts.csv", "forecast.png")


def repeat_last(windows: np.ndarray, horizon: int) -> np.ndarray:
    """Forecast each window's last value for every step; windows (n, lookback, channels)."""
    return np.repeat(windows[:, -1:, :], horizon, axis=1)


def seasonal_naive(windows: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """Repeat each window's last full cycle of ``period`` steps."""
    last_cycle = windows[:, -period:, :]
    reps = -(-horizon // period)
    return np.tile(last_cycle, (1, reps, 1))[:, :horizon, :]


def metrics(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """MSE and MAE over every value of every window."""
    err = pred - true
    return float(np.mean(err**2)), float(np.mean(np.abs(err)))


def run_demo(out: str | os.PathLike = "demo_output", max_epochs: int = 30, random_state: int = 2024) -> pd.DataFrame:
    """Fit, evaluate every test window, print the table, write forecasts CSV and a plot PNG.

    ``out`` is a folder, created when missing; an ``out`` that cannot be one (a file, or a path
    through a file) raises InputError, and one that cannot be written an OSError, before the fit.
    Both files are written before either replaces the previous run's, so that a failed write
    leaves the previous run's pair (a file name that is a folder is refused before the fit);
    only a rename failing after the other succeeded, as when the disk goes away, mixes two runs.
    """
    out = check_out_folder(out)
    df = load_ett("ETTh1")
    train, val, test = ltsf_split(df, "ETTh1", LOOKBACK)
    scaler = StandardScaler().fit(train.to_numpy())
    scale = lambda frame: pd.DataFrame(scaler.transform(frame.to_numpy()), index=frame.index, columns=frame.columns)
    fit_rows = scale(df.iloc[: len(train) + len(val) - LOOKBACK])
    start = time.perf_counter()
    est = CycleNetForecaster(
        lookback=LOOKBACK, horizon=HORIZON, max_epochs=max_epochs, val_size=len(val) - LOOKBACK,
        random_state=random_state,
    ).fit(fit_rows)
    seconds = time.perf_counter() - start
    test_std = scale(test)
    pred = est.forecast_windows(test_std)
    true = est.window_targets(test_std)
    contexts = test_std.to_numpy()[: len(test_std) - HORIZON]
    windows = np.lib.stride_tricks.sliding_window_view(contexts, LOOKBACK, axis=0).transpose(0, 2, 1)
    table = pd.DataFrame(
        [
            ("CycleNet/Linear (tsrec)", *metrics(pred, true)),
            ("seasonal naive (24 h)", *metrics(seasonal_naive(windows, HORIZON, PERIOD), true)),
            ("repeat last", *metrics(repeat_last(windows, HORIZON), true)),
        ],
        columns=["model", "MSE", "MAE"],
    )
    epochs = est.history_["epochs"]
    print(f"ETTh1, lookback {LOOKBACK}, horizon {HORIZON}, {len(pred)} test windows, "
          f"trained {epochs} epoch{'s' * (epochs != 1)} in {seconds:.1f}s (standardised scale)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    _write_outputs(out, pred, test, scaler, windows)
    print(f"wrote {out / OUTPUT_FILES[0]} and {out / OUTPUT_FILES[1]}")
    return table


def check_out_folder(out: str | os.PathLike) -> Path:
    """``out`` as a Path; an InputError when it or a folder above it is an existing file, an OSError
    when no file can be made there."""
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out):  # Path("") would be the working folder
        raise InputError(f"--out/out must name a folder, got {out!r}; e.g. --out demo_output")
    out = Path(out)
    # the nearest existing path decides: a folder can be made below a folder only
    existing = nearest_existing(out)
    if not existing.is_dir():
        raise InputError(f"{existing} is a file, not a folder; give --out/out a folder (new or existing)")
    check_writable(out, out, "give --out/out a folder you can write to")
    model = saved_folder_holding(out)
    if model is not None:
        where = "is the" if model == Path(os.path.realpath(out)) else "is inside the"
        raise InputError(f"{out} {where} saved model folder {model}; give --out/out a folder elsewhere, "
                         "so that the folder stays a saved model that a later save can replace")
    for name in OUTPUT_FILES:
        refuse_folder(out / name, out / name)
    return out


def _write_outputs(
    out: Path, pred: np.ndarray, test: pd.DataFrame, scaler: StandardScaler, windows: np.ndarray
) -> None:
    """Write forecasts.csv and forecast.png to ``out``; a failure leaves both files of the last run."""
    frame = _forecast_frame(pred, test, scaler)
    png = _plot_png(test, pred, scaler, windows)  # rendered before either file is replaced
    csv, plot = OUTPUT_FILES
    atomic_write_all({
        out / csv: lambda p: frame.to_csv(p, index=False, float_format="%.5f"),
        out / plot: lambda p: p.write_bytes(png),
    })


def _forecast_frame(pred: np.ndarray, test: pd.DataFrame, scaler: StandardScaler) -> pd.DataFrame:
    n, horizon, channels = pred.shape
    values = scaler.inverse_transform(pred.reshape(-1, channels))
    origin = np.repeat(test.index[LOOKBACK - 1 : LOOKBACK - 1 + n], horizon)
    target = test.index.to_numpy()[LOOKBACK + np.add.outer(np.arange(n), np.arange(horizon)).ravel()]
    frame = pd.DataFrame(values, columns=test.columns)
    frame.insert(0, "date", target)
    frame.insert(0, "step", np.tile(np.arange(1, horizon + 1), n))
    frame.insert(0, "origin", origin)
    return frame


def _plot_png(test: pd.DataFrame, pred: np.ndarray, scaler: StandardScaler, windows: np.ndarray) -> bytes:
    """The last test window's OT forecasts as a PNG image, rendered in memory."""
    # a Figure of its own, not pyplot's: pyplot would need a backend switch (matplotlib.use) that
    # stays switched in the caller's process, a notebook's inline plots included
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    _draw(fig.subplots(), test, pred, scaler, windows)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=100)
    return image.getvalue()


def _draw(ax, test: pd.DataFrame, pred: np.ndarray, scaler: StandardScaler, windows: np.ndarray) -> None:
    i, col = len(pred) - 1, test.columns.get_loc("OT")
    unscale = lambda a: a * scaler.scale_[col] + scaler.mean_[col]
    hist = test.index[i : i + LOOKBACK]
    fut = test.index[i + LOOKBACK : i + LOOKBACK + HORIZON]
    ax.plot(hist, test["OT"].iloc[i : i + LOOKBACK], color="black", label="context")
    ax.plot(fut, test["OT"].iloc[i + LOOKBACK : i + LOOKBACK + HORIZON], color="gray", label="actual")
    ax.plot(fut, unscale(pred[i, :, col]), color="tab:blue", label="CycleNet")
    ax.plot(fut, unscale(seasonal_naive(windows[i : i + 1], HORIZON, PERIOD)[0, :, col]), "--", color="tab:orange",
            label="seasonal naive")
    ax.set_title("ETTh1 OT, last test window")
    ax.legend()
