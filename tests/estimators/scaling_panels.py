"""The three-series panel and AR-Net of test_series_scaling.py and test_series_scaling_saved.py (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators import ARNetForecaster

HOURS = pd.date_range("2024-01-01", periods=424, freq="h")
NOISE = np.random.default_rng(0).normal(size=(3, 424))
WAVE = np.sin(2 * np.pi * np.arange(424) / 24)


def panel(rows: int = 400, small: tuple[float, float] = (0.1, 1.0)) -> pd.DataFrame:
    """Three series: one of spread ~7e5, and two of spread ~0.07 (``small`` = (a, b): a * wave + b)."""
    a, b = small
    frames = {
        "big": 5e5 * WAVE + 1e4 * NOISE[0],
        "small": a * (WAVE + 0.05 * NOISE[1]) + b,
        "other": 0.1 * np.cos(2 * np.pi * np.arange(424) / 24) + 0.005 * NOISE[2] - 3.0,
    }
    return pd.concat({k: pd.DataFrame({"v": v[:rows]}, index=HOURS[:rows]) for k, v in frames.items()},
                     names=["id", "time"])


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 24, "horizon": 6, "max_epochs": 3, "random_state": 0, **params})
