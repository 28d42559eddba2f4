"""forecast_files stamps a series the same whether its file holds the whole history or only the
last ``lookback`` rows the model reads, with a fitted model or its saved folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files
from tsrec.estimators import ARNetForecaster, CycleNetForecaster

BUSINESS_DAYS = pd.bdate_range("2024-01-01", periods=60)  # ends on a Friday
MONTH_STARTS = pd.date_range("2020-01-01", periods=40, freq="MS")


def long_frame(stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Two series on the same stamps, as a long file holds them (stamps as text)."""
    return pd.concat([
        pd.DataFrame({"unique_id": key, "ds": stamps.strftime("%Y-%m-%d"), "y": np.sin(np.arange(len(stamps)) / s)})
        for key, s in (("AAPL", 3.0), ("MSFT", 5.0))
    ])


def fitted(kind: str, stamps: pd.DatetimeIndex, lookback: int):
    y = pd.Series(np.sin(np.arange(len(stamps)) / 3.0), index=pd.DatetimeIndex(stamps.to_numpy()), name="y")
    if kind == "CycleNet":  # reads the stamps: a cycle phase at the wrong step was refused
        return CycleNetForecaster(lookback=lookback, horizon=2, cycle_length=5, max_epochs=1, random_state=0).fit(y)
    return ARNetForecaster(n_lags=lookback, horizon=2, max_epochs=1, random_state=0).fit(y)


CASES = {
    "ARNet, business days, last 5 rows": ("ARNet", BUSINESS_DAYS, 5),
    "ARNet, month starts, last 2 rows": ("ARNet", MONTH_STARTS, 2),
    "CycleNet, business days, last 4 rows": ("CycleNet", BUSINESS_DAYS, 4),
}


@pytest.mark.parametrize("saved", [False, True], ids=["model object", "saved folder"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_file_of_the_last_rows_gets_the_stamps_of_the_whole_history(tmp_path, case, saved):
    kind, stamps, lookback = CASES[case]
    est = fitted(kind, stamps, lookback)
    model = est.save(tmp_path / "model") if saved else est
    frame = long_frame(stamps)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    frame.groupby("unique_id").tail(lookback).to_csv(tmp_path / "last.csv", index=False)
    whole = forecast_files(model, tmp_path / "whole.csv", tmp_path / "whole_out.csv", fh=3)
    last = forecast_files(model, tmp_path / "last.csv", tmp_path / "last_out.csv", fh=3)
    pd.testing.assert_frame_equal(last, whole)
    expected = est.predict(fh=[1, 2, 3]).index  # the fitted model's own stamps after the same end
    assert pd.DatetimeIndex(last.loc[last.unique_id == "AAPL", "ds"]).equals(pd.DatetimeIndex(expected.to_numpy()))
