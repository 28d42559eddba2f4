"""``scaling="series"`` in saved folders, pickles and batch files: each series keeps its statistics, by its id."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.batch import forecast_files
from tsrec.estimators._folder import _config_sha256
from tsrec.estimators.errors import LoadError

from scaling_panels import arnet, panel  # tests/estimators/scaling_panels.py


def test_batch_files_of_new_series_are_standardised_each_on_its_own(tmp_path):
    est = arnet().fit(panel())
    new = panel().loc[["small", "big"]].rename(index={"small": "s1", "big": "s2"})
    moved = pd.concat([new.loc[["s1"]] * 1e30, new.loc[["s2"]]])
    moved.reset_index().rename(columns={"id": "unique_id", "time": "ds", "v": "y"}).to_csv(
        tmp_path / "in.csv", index=False)
    forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv", fh=2)
    out = pd.read_csv(tmp_path / "out.csv").set_index(["unique_id", "ds"])["y_hat"]
    expected = est.predict(fh=[1, 2], y=new)["v"]
    np.testing.assert_allclose(out.loc["s1"].to_numpy(), expected.loc["s1"].to_numpy() * 1e30, rtol=1e-6)
    np.testing.assert_allclose(out.loc["s2"].to_numpy(), expected.loc["s2"].to_numpy(), rtol=1e-12)


def test_batch_files_read_ids_as_text_and_match_the_fitted_series_by_them(tmp_path):
    y = panel().rename(index={"big": 10, "small": 7, "other": 3}, level="id")
    est = arnet().fit(y)
    tail = y.groupby(level="id").tail(24)  # a file of the last rows only: too few for its own statistics
    tail.reset_index().rename(columns={"id": "unique_id", "time": "ds", "v": "y"}).to_csv(
        tmp_path / "in.csv", index=False)
    forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv", fh=2)
    out = pd.read_csv(tmp_path / "out.csv").set_index(["unique_id", "ds"])["y_hat"]
    expected = est.predict(fh=[1, 2])["v"]
    for key in (10, 7, 3):  # ids 10, 7 and 3 read as "10", "7" and "3": the fitted series' statistics
        np.testing.assert_allclose(out.loc[key].to_numpy(), expected.loc[key].to_numpy(), rtol=1e-12)


def test_save_and_load_keep_each_series_statistics(tmp_path):
    est = arnet().fit(panel())
    back = tsrec.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(back.series_scales_, est.series_scales_)
    np.testing.assert_array_equal(back.predict(fh=[1, 2, 7]), est.predict(fh=[1, 2, 7]))


def resealed(folder, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    config["config_sha256"] = _config_sha256(config)
    (folder / "config.json").write_text(json.dumps(config))


def test_a_folder_claiming_series_scaling_without_its_statistics_is_refused(tmp_path):
    with pytest.warns(RuntimeWarning, match="scaling='series'"):
        folder = arnet(scaling="global").fit(panel()).save(tmp_path / "m")  # no per-series statistics saved
    resealed(folder, lambda config: config["fitted"].update(scaling="series"))
    with pytest.raises(LoadError, match=r"scaling='series' needs the statistics of each of its 3 series"):
        tsrec.load(folder)


def test_a_folder_without_any_statistics_is_refused(tmp_path):
    folder = arnet().fit(panel()).save(tmp_path / "m")
    resealed(folder, lambda config: config["fitted"].update(scaling="global"))  # and its scaler is None
    with pytest.raises(LoadError, match="no scaler statistics"):
        tsrec.load(folder)


def test_save_keeps_what_was_fitted_whatever_the_parameter_says_now(tmp_path):
    est = arnet().fit(panel())
    expected = est.predict(fh=[1, 2])
    est.scaling = "global"  # a plain assignment after fit (set_params would reset the fit)
    back = tsrec.load(est.save(tmp_path / "m"))
    np.testing.assert_array_equal(back.predict(fh=[1, 2]), expected)


def test_a_forecaster_pickled_before_per_series_scaling_loads_as_global():
    with pytest.warns(RuntimeWarning, match="scaling='series'"):
        est = arnet(scaling="global").fit(panel())
    expected = est.predict(fh=[1, 2])
    del est.__dict__["scaling"], est.__dict__["scaler"], est.__dict__["series_scales_"]  # an earlier tsrec's pickle
    old = pickle.loads(pickle.dumps(est))
    assert old.get_params()["scaling"] == "global" and old.series_scales_ is None
    assert old.get_params()["scaler"] == "standard"
    np.testing.assert_array_equal(old.predict(fh=[1, 2]), expected)


def test_parquet_float_ids_match_the_fitted_series(tmp_path):
    y = panel().rename(index={"big": 1.0, "small": 2.0, "other": 3.0}, level="id")
    est = arnet().fit(y)
    tail = y.groupby(level="id").tail(24).reset_index().rename(columns={"id": "unique_id", "time": "ds", "v": "y"})
    tail.to_parquet(tmp_path / "in.parquet")  # the ids stay floats: read as "1", "2" and "3"
    forecast_files(est, tmp_path / "in.parquet", tmp_path / "out.csv", fh=2)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"unique_id": str}).set_index(["unique_id", "ds"])["y_hat"]
    expected = est.predict(fh=[1, 2])["v"]
    for key, text in [(1.0, "1"), (2.0, "2"), (3.0, "3")]:
        np.testing.assert_allclose(out.loc[text].to_numpy(), expected.loc[key].to_numpy(), rtol=1e-12)


def test_a_folder_saved_before_per_series_scaling_loads_as_global(tmp_path):
    with pytest.warns(RuntimeWarning, match="scaling='series'"):
        est = arnet(scaling="global").fit(panel())
    folder = est.save(tmp_path / "m")

    def as_before(config):  # what an earlier tsrec wrote: no scaling anywhere
        del config["params"]["scaling"], config["fitted"]["scaling"]

    resealed(folder, as_before)
    back = tsrec.load(folder)
    assert back.scaling == "global" and back.series_scales_ is None
    np.testing.assert_array_equal(back.predict(fh=[1, 2]), est.predict(fh=[1, 2]))


def test_float_ids_written_by_to_csv_match_the_fitted_series(tmp_path):
    y = panel().rename(index={"big": 1.0, "small": 2.0, "other": 3.0}, level="id")
    est = arnet().fit(y)
    tail = y.groupby(level="id").tail(24).reset_index().rename(columns={"id": "unique_id", "time": "ds", "v": "y"})
    tail.to_csv(tmp_path / "in.csv", index=False)  # ids written as "1.0", "2.0", "3.0"
    forecast_files(est, tmp_path / "in.csv", tmp_path / "out.csv", fh=2)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"unique_id": str}).set_index(["unique_id", "ds"])["y_hat"]
    expected = est.predict(fh=[1, 2])["v"]
    for key in (1.0, 2.0, 3.0):
        np.testing.assert_allclose(out.loc[str(key)].to_numpy(), expected.loc[key].to_numpy(), rtol=1e-12)


def test_hierarchical_keys_find_their_statistics_in_new_contexts_and_folders(tmp_path):
    hier = pd.concat({"region": panel()}, names=["top"])
    est = arnet().fit(hier)
    tail = hier.groupby(level=["top", "id"]).tail(30)
    np.testing.assert_array_equal(est.predict(fh=[1, 2], y=tail), est.predict(fh=[1, 2]))
    back = tsrec.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(back.series_scales_, est.series_scales_)
    np.testing.assert_array_equal(back.predict(fh=[1, 2]), est.predict(fh=[1, 2]))
