"""forecast_files: how the inputs and the model's variates are given (iterators, numbered variates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files
from tsrec.estimators import ARNetForecaster, InputError


def hourly_panel(n_series: int = 3, n: int = 20) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    frames = {f"s{k}": pd.DataFrame({"y": np.sin(np.arange(n) / (2 + k)) + k}, index=t) for k in range(n_series)}
    return pd.concat(frames, names=["unique_id", "ds"])


@pytest.fixture(scope="module")
def arnet():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(hourly_panel())


def test_inputs_may_be_an_iterator_such_as_path_glob(arnet, tmp_path):
    panel = hourly_panel()
    panel.loc[["s0"]].reset_index().to_csv(tmp_path / "jan.csv", index=False)
    panel.loc[["s1", "s2"]].reset_index().to_csv(tmp_path / "feb.csv", index=False)
    expected = forecast_files(arnet, sorted(tmp_path.glob("*.csv")), tmp_path / "list.parquet")
    got = forecast_files(arnet, tmp_path.glob("*.csv"), tmp_path / "glob.parquet")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["unique_id"].unique().tolist() == ["s0", "s1", "s2"]
    with pytest.raises(InputError, match="no input files were given"):
        forecast_files(arnet, tmp_path.glob("*.none"), tmp_path / "empty.csv")
    assert not (tmp_path / "empty.csv").exists()
