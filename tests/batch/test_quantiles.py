"""Quantile forecasts in batch output (``quantiles=``, CLI ``--quantiles``): each variate's ``_hat``
column followed by one ``_q<level>`` column per level, equal to ``predict_quantiles``; refused before
any reading for a point forecaster or a bad level."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files, forecast_panel
from tsrec.cli import main
from tsrec.errors import InputError, ParameterError
from tsrec.estimators import ARNetForecaster, LS4Forecaster


def _panel(columns=("y",)) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=60, freq="h")
    frames = {key: pd.DataFrame({c: np.sin(np.arange(60.0) / (scale + i)) + i for i, c in enumerate(columns)}, index=t)
              for key, scale in [("a", 3), ("b", 5), ("c", 7)]}
    return pd.concat(frames, names=["unique_id", "ds"])


@pytest.fixture(scope="module")
def two_variates():
    panel = _panel(("load", "temp"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LS4Forecaster(lookback=12, horizon=4, max_epochs=1, d_model=8, n_layers=1, n_samples=40,
                            random_state=0).fit(panel)
    return est, panel


def test_quantile_columns_follow_each_variates_forecast_and_equal_predict_quantiles(two_variates):
    est, panel = two_variates
    out = forecast_panel(est, panel, fh=3, quantiles=[0.9, 0.1])  # sorted in the output
    assert list(out.columns) == ["unique_id", "ds", "load_hat", "load_q0.1", "load_q0.9",
                                 "temp_hat", "temp_q0.1", "temp_q0.9"]
    levels = est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.1, 0.9])
    point = est.predict(fh=[1, 2, 3], y=panel)
    for variate in ("load", "temp"):
        np.testing.assert_array_equal(out[f"{variate}_hat"], point[variate])
        for level in (0.1, 0.9):
            np.testing.assert_array_equal(out[f"{variate}_q{level}"], levels[(variate, level)])
    assert (out["load_q0.1"] <= out["load_q0.9"]).all() and (out["temp_q0.1"] <= out["temp_q0.9"]).all()


@pytest.mark.parametrize("fh", [3, [2, 5]])
def test_point_and_quantile_forecasts_share_one_walk_of_the_paths(two_variates, monkeypatch, fh):
    # each walked every path before (about twice the time); the numbers stay predict's and predict_quantiles'
    est, panel = two_variates
    walks, walk = [], type(est.network_)._walk
    monkeypatch.setattr(type(est.network_), "_walk", lambda *args: walks.append(1) or walk(*args))
    out = forecast_panel(est, panel, fh=fh, quantiles=[0.1, 0.9])
    assert len(walks) == 1  # the three series go through in one pass
    steps = [1, 2, 3] if fh == 3 else fh
    levels, point = est.predict_quantiles(fh=steps, y=panel, alpha=[0.1, 0.9]), est.predict(fh=steps, y=panel)
    assert len(walks) == 3
    for variate in ("load", "temp"):
        np.testing.assert_array_equal(out[f"{variate}_hat"], point[variate])
        for level in (0.1, 0.9):
            np.testing.assert_array_equal(out[f"{variate}_q{level}"], levels[(variate, level)])
    est.predict_quantiles(fh=steps, y=panel, alpha=[0.5])  # nothing is left over for later calls
    assert len(walks) == 4


def test_dask_gives_the_local_quantiles_bit_for_bit(two_variates):
    pytest.importorskip("distributed", reason="engine='dask' needs tsrec[dask]")
    est, panel = two_variates
    local = forecast_panel(est, panel, fh=2, quantiles=0.5, chunk_size=1)
    assert list(local.columns)[2:] == ["load_hat", "load_q0.5", "temp_hat", "temp_q0.5"]
    pd.testing.assert_frame_equal(
        forecast_panel(est, panel, fh=2, quantiles=0.5, chunk_size=1, engine="dask", scheduler="threads"), local)


@pytest.mark.parametrize("levels, match", [
    ([0.0, 0.5], r"quantiles \(CLI: --quantiles\) must be a number strictly between 0 and 1"),
    (1.5, r"quantiles \(CLI: --quantiles\) must be a number strictly between 0 and 1"),
    ([float("nan")], r"quantiles \(CLI: --quantiles\) must be a number strictly between 0 and 1"),
    (["0.1"], r"quantiles \(CLI: --quantiles\) must be a number strictly between 0 and 1"),
    ([True], r"quantiles \(CLI: --quantiles\) must be a number strictly between 0 and 1"),
    ([], r"quantiles \(CLI: --quantiles\) is empty"),
    ([0.1, 0.9, 0.1], r"quantiles \(CLI: --quantiles\) repeats \[0\.1\]; give each level once"),
])
def test_bad_levels_are_refused(two_variates, levels, match):
    est, panel = two_variates
    with pytest.raises(ParameterError, match=match):
        forecast_panel(est, panel, fh=2, quantiles=levels)


def test_a_point_forecaster_is_refused_before_the_files_are_read(tmp_path):
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(_panel())
    (tmp_path / "in.csv").write_text("not,a\nseries,file\n")  # never read
    with pytest.raises(ParameterError, match=r"quantiles need a forecaster that samples forecast paths "
                                             r"\(LS4Forecaster\); the model, ARNetForecaster, makes point "
                                             r"forecasts only"):
        forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv", quantiles=[0.1, 0.9])
    assert not (tmp_path / "out.csv").exists()


def test_an_id_column_named_as_a_quantile_column_is_refused(two_variates):
    est, panel = two_variates
    clash = panel.rename_axis(["load_q0.1", "ds"])
    with pytest.raises(InputError, match=r"the id column 'load_q0\.1' has the name the output gives the forecasts "
                                         r"of 'load'"):
        forecast_panel(est, clash, fh=2, quantiles=[0.1])
    forecast_panel(est, clash, fh=2)  # without quantiles the name is free


def test_cli_writes_the_quantile_columns(two_variates, tmp_path, capsys):
    est, panel = two_variates
    est.save(tmp_path / "model")
    panel.reset_index().to_csv(tmp_path / "in.csv", index=False)
    argv = ["forecast", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.csv"),
            "--columns", "load", "temp", "--fh", "2", "--output", str(tmp_path / "out.csv")]
    assert main([*argv, "--quantiles", "0.25", "0.75"]) == 0
    written = pd.read_csv(tmp_path / "out.csv")
    assert list(written.columns)[2:] == ["load_hat", "load_q0.25", "load_q0.75", "temp_hat", "temp_q0.25",
                                         "temp_q0.75"]
    assert main([*argv, "--quantiles", "1.5"]) == 2
    assert "quantiles (CLI: --quantiles) must be a number strictly between 0 and 1" in capsys.readouterr().err


def test_quantile_columns_name_each_level_in_full():
    """A level's column carries the level as given: rounded, two close levels would share one column name."""
    t = pd.date_range("2024-01-01", periods=40, freq="h")
    panel = pd.concat({key: pd.DataFrame({"y": np.sin(np.arange(40.0) / scale)}, index=t)
                       for key, scale in [("a", 3), ("b", 5)]}, names=["unique_id", "ds"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LS4Forecaster(lookback=8, horizon=2, max_epochs=1, d_model=8, n_layers=1, n_samples=10,
                            random_state=0).fit(panel)
    out = forecast_panel(est, panel, fh=1, quantiles=[0.1234567, 0.1234568])
    assert list(out.columns)[2:] == ["y_hat", "y_q0.1234567", "y_q0.1234568"]
