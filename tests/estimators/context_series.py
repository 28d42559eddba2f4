"""Series, panels and a tiny CycleNet for test_update_and_contexts.py and test_new_contexts.py (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators import CycleNetForecaster

TINY = dict(lookback=8, horizon=4, max_epochs=1, batch_size=8, val_size=0.0, random_state=0)
HOURS = pd.date_range("2024-01-01", periods=200, freq="h")


def series(n: int = 60, index: pd.Index | None = None, scale: float = 1.0) -> pd.Series:
    index = HOURS[:n] if index is None else index
    return pd.Series((np.sin(np.arange(len(index)) / 3.0) + 2) * scale, index=index)


def cyclenet(y, **extra):
    return CycleNetForecaster(cycle_length=4, **TINY, **extra).fit(y, fh=[1, 2])


def panel(parts: dict) -> pd.DataFrame:
    return pd.concat({key: s.to_frame("v") for key, s in parts.items()}, names=["id", "time"])
