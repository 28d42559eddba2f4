"""Loading keeps each series' time step and name, also from the folders earlier format versions wrote."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

import tsrec
from tsrec.estimators import ARNetForecaster
from tsrec.estimators import _folder
from tsrec.estimators.errors import LoadError

from saved_configs import edit_config  # tests/estimators/saved_configs.py


@pytest.fixture(scope="module")
def forecaster():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))


# ---- the time step of each series -----------------------------------------------------------------


def as_read_from_a_file(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The stamps without their freq, as read from a CSV file."""
    return pd.DatetimeIndex(index.to_numpy())


def sine(index: pd.Index) -> pd.Series:
    return pd.Series(np.sin(np.arange(len(index)) / 3.0), index=index, name="y")


STEPS = {  # data whose last few rows tell another step (or none), and the model's lookback
    "business days, 3 rows (read as daily)": (as_read_from_a_file(pd.bdate_range("2024-01-01", periods=60)), 3),
    "integers 10 apart, 1 row": (pd.Index(np.arange(0, 400, 10)), 1),
    "month starts, 2 rows (read as 31 days)": (
        as_read_from_a_file(pd.date_range("2020-01-01", periods=40, freq="MS")), 2),
    "daily, 1 row (no step at all)": (as_read_from_a_file(pd.date_range("2020-01-01", periods=40, freq="D")), 1),
    "custom business days with a holiday": (
        pd.date_range("2024-01-01", periods=40, freq=pd.offsets.CustomBusinessDay(holidays=["2024-01-15"])), 3),
}


@pytest.mark.parametrize("case", list(STEPS))
def test_a_loaded_forecaster_keeps_each_series_time_step(tmp_path, case):
    index, lookback = STEPS[case]
    est = ARNetForecaster(n_lags=lookback, horizon=2, max_epochs=1, random_state=0).fit(sine(index))
    loaded = tsrec.load(est.save(tmp_path / "m"))
    expected = est.predict(fh=[1, 2, 5])
    pd.testing.assert_series_equal(loaded.predict(fh=[1, 2, 5]), expected)
    # absolute stamps count the fitted steps too, and the folder saves again as it loaded
    pd.testing.assert_series_equal(loaded.predict(fh=ForecastingHorizon(expected.index, is_relative=False)), expected)
    again = tsrec.load(loaded.save(tmp_path / "again"))
    pd.testing.assert_series_equal(again.predict(fh=[1, 2, 5]), expected)


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_a_loaded_panel_keeps_each_series_own_step(tmp_path):
    hourly = pd.date_range("2024-01-01", periods=40, freq="h")
    panel = pd.concat({"h": sine(as_read_from_a_file(hourly)).to_frame(),
                       "b": sine(as_read_from_a_file(pd.bdate_range("2024-01-01", periods=40))).to_frame()})
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel)
    loaded = tsrec.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.predict(fh=[1, 2]), est.predict(fh=[1, 2]))


def test_a_loaded_forecaster_continues_its_series_at_the_saved_step(tmp_path):
    y = sine(as_read_from_a_file(pd.bdate_range("2024-01-01", periods=60)))
    est = ARNetForecaster(n_lags=1, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:50])
    loaded = tsrec.load(est.save(tmp_path / "m"))
    for model in (est, loaded):
        model.update(y.iloc[50:], update_params=False)  # Monday rows after a Friday: one step
    pd.testing.assert_series_equal(loaded.predict(fh=[1, 2]), est.predict(fh=[1, 2]))


def saved_by_version_3(config: dict) -> None:
    """As tsrec wrote it before format version 4: tuples as plain lists, no scaler row count."""
    config["params"] = json.loads(json.dumps(config["params"]).replace('{"__tuple__": ', "").replace("]}", "]"))
    if config["fitted"]["scaler"] is not None:  # None with per-series scaling
        config["fitted"]["scaler"].pop("n_samples_seen")
    config["fitted"].pop("id_dtypes")
    config["fitted"].pop("columns_index")
    config["format_version"] = 3


def saved_before_steps_were_stored(config: dict) -> None:
    saved_by_version_3(config)
    for spec in config["fitted"]["series"]:
        spec.pop("step")
    config["format_version"] = 2


def test_folders_saved_before_steps_were_stored_still_load(tmp_path, forecaster):
    folder = forecaster.save(tmp_path / "f")
    assert json.loads((folder / "config.json").read_text())["format_version"] == _folder.FORMAT_VERSION == 4
    edit_config(folder, saved_before_steps_were_stored)
    np.testing.assert_array_equal(tsrec.load(folder).predict(fh=[1, 2]), forecaster.predict(fh=[1, 2]))


def test_version_3_folders_load_with_their_lists_and_a_version_4_one_lowered_to_3_is_refused(tmp_path):
    est = ARNetForecaster(n_lags=4, horizon=2, hidden_layers=(3,), max_epochs=1, random_state=0)
    est.fit(np.sin(np.arange(40.0)))
    folder = est.save(tmp_path / "f")
    assert json.loads((folder / "config.json").read_text())["params"]["hidden_layers"] == {"__tuple__": [3]}
    edit_config(folder, lambda c: c.update(format_version=3))  # tuple marks that version 3 never wrote
    with pytest.raises(LoadError, match="says format_version 3, but holds what only later versions write"):
        tsrec.load(folder)
    edit_config(folder, saved_by_version_3)
    loaded = tsrec.load(folder)
    assert loaded.hidden_layers == [3]  # as version 3 loaded it
    np.testing.assert_array_equal(loaded.predict(fh=[1, 2]), est.predict(fh=[1, 2]))


def test_a_version_3_folder_lowered_to_2_is_refused_by_its_steps(tmp_path, forecaster):
    folder = forecaster.save(tmp_path / "f")
    edit_config(folder, lambda c: (saved_by_version_3(c), c.update(format_version=2)))  # steps: version 3 on
    with pytest.raises(LoadError, match="says format_version 2, but holds what only later versions write"):
        tsrec.load(folder)


def test_an_old_folder_whose_context_cannot_tell_the_step_says_so(tmp_path):
    daily = sine(as_read_from_a_file(pd.date_range("2020-01-01", periods=40, freq="D")))
    folder = ARNetForecaster(n_lags=1, horizon=2, max_epochs=1).fit(daily).save(tmp_path / "f")
    edit_config(folder, saved_before_steps_were_stored)
    with pytest.raises(LoadError, match=r"saved by an earlier tsrec version, which did not store the series' time "
                                        r"step, and its saved context \(1 row per series\) is too short") as info:
        tsrec.load(folder)
    assert "damaged" not in str(info.value)


@pytest.mark.parametrize("name", [None, 0, 1, "y", ("a", "b")])
def test_a_loaded_forecaster_names_its_series_as_fit_did(tmp_path, name):
    y = pd.Series(np.sin(np.arange(30) / 3.0), name=name)
    fitted = ARNetForecaster(n_lags=2, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    loaded = tsrec.load(fitted.save(tmp_path / "f")).predict()
    assert loaded.name == fitted.predict().name == name
    assert type(loaded.name) is type(name)


def test_folders_saved_before_series_names_were_stored_read_column_0_as_unnamed(tmp_path):
    y = pd.Series(np.sin(np.arange(30) / 3.0), name=None)
    folder = ARNetForecaster(n_lags=2, horizon=2, max_epochs=1).fit(y, fh=[1, 2]).save(tmp_path / "f")
    edit_config(folder, lambda config: config["fitted"].pop("series_unnamed"))
    assert tsrec.load(folder).predict().name is None
