"""Panels for the tests of predict's one-pass path (tests/estimators/test_onepass_*.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def panel_of(stamps: dict, variates: int = 1, seed: int = 0) -> pd.DataFrame:
    """A long panel with one series per key: noisy sines of their own level and spread."""
    rng = np.random.default_rng(seed)
    frames = {}
    for i, (key, t) in enumerate(stamps.items()):
        noise = 0.1 * rng.standard_normal((len(t), variates))
        wave = np.sin(np.arange(len(t))[:, None] / 3.0 + np.arange(variates)) + noise
        frames[key] = pd.DataFrame((1 + i) * 10.0 * wave + 5 * i, index=pd.Index(t),
                                   columns=[f"v{j}" for j in range(variates)])
    return pd.concat(frames, names=["unique_id", "ds"])


def hours(start: str, n: int, freq: str = "h", unit: str = "ns") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=freq, unit=unit)
