"""The series, fitted model and series files of test_forecast.py and test_forecast_refusals.py (not a test module)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsrec.datasets.synthetic import make_seasonal
from tsrec.estimators import CycleNetForecaster

IDS = ["s0", "s1", "s2", "s3", "s4"]


def series(i: int, n: int = 120) -> pd.DataFrame:
    y, _ = make_seasonal(n_samples=n, period=24, random_state=i)
    return y.rename(columns={"y0": "y"}).rename_axis("ds")


def write_files(folder: Path) -> dict:
    """A fitted CycleNet, its saved folder in ``folder``, and the same five series as long/wide CSV and Parquet."""
    train = pd.concat([series(i, 200) for i in range(10, 14)], keys=list("abcd"), names=["unique_id", "ds"])
    model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=2, random_state=0).fit(train)
    model.save(folder / "model")
    frames = {k: series(i) for i, k in enumerate(IDS)}
    long = pd.concat(frames, names=["unique_id", "ds"]).reset_index()
    long.sample(frac=1.0, random_state=1).to_csv(folder / "long.csv", index=False)  # unsorted on purpose
    long.to_parquet(folder / "long.parquet", index=False)
    wide = pd.DataFrame({k: f["y"] for k, f in frames.items()}).rename_axis("ds").reset_index()
    wide.to_csv(folder / "wide.csv", index=False)
    return {"model": model, "dir": folder, "frames": frames}
