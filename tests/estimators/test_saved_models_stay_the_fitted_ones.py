"""A saved model is the fitted one: parameters changed after fit, absolute horizons, tuple names,
sktime's zip format, the working folder, and folders that tsrec did not write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file
from sktime.base import load as sktime_load
from sktime.forecasting.base import ForecastingHorizon

import tsrec
from tsrec.estimators import ARNetForecaster, PGNClassifier, PGNForecaster
from tsrec.estimators import _folder
from tsrec.estimators.errors import LoadError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 16))
Y = (X[:, :4].mean(axis=1) > 0).astype(int)
HOURS = pd.date_range("2024-01-01", periods=80, freq="h")


def rewrite(folder: Path, config_change=None, tensor_change=None) -> None:
    """Edit a saved folder as a careful forger would: every checksum recomputed."""
    config = json.loads((folder / "config.json").read_text())
    if tensor_change is not None:
        tensors = load_file(folder / "weights.safetensors")
        tensor_change(tensors)
        save_file(tensors, folder / "weights.safetensors")
        config["weights_sha256"] = _folder._sha256((folder / "weights.safetensors").read_bytes())
    if config_change is not None:
        config_change(config)
    config["config_sha256"] = _folder._config_sha256(config)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def forecaster():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(80.0)), index=HOURS), fh=[1, 2])


# ---- parameters changed after fit --------------------------------------------------------------


def test_a_classifier_changed_after_fit_is_saved_as_fitted_and_says_so(tmp_path):
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, Y)
    proba = clf.predict_proba(X)
    clf.set_params(pool="mean", hidden=8)  # the fitted network keeps its pooling and widths
    with pytest.warns(UserWarning, match=r"saved with the parameters it was fitted with: hidden=4 \(now 8\), "
                                         r"pool='last' \(now 'mean'\)"):
        folder = clf.save(tmp_path / "clf")
    back = tsrec.load(folder)
    assert back.get_params()["pool"] == "last" and back.get_params()["hidden"] == 4
    np.testing.assert_array_equal(back.predict_proba(X), proba)


def test_an_attribute_assigned_after_fit_does_not_change_the_saved_forecaster(tmp_path):
    est = PGNForecaster(lookback=8, horizon=4, period=4, hidden=4, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(80.0)), index=HOURS), fh=[1, 2])
    est.hidden = 16  # sktime's set_params would reset the fit; plain assignment does not
    with pytest.warns(UserWarning, match=r"hidden=4 \(now 16\)"):
        back = tsrec.load(est.save(tmp_path / "f"))
    assert back.hidden == 4
    pd.testing.assert_series_equal(back.predict(), est.predict())


@pytest.mark.parametrize("cls, changed", [(ARNetForecaster, {"n_lags": 2}), (PGNForecaster, {"lookback": 4}),
                                          (PGNForecaster, {"horizon": 4})])
def test_a_window_length_assigned_after_fit_changes_neither_forecasts_nor_the_save(tmp_path, cls, changed):
    # the saved context was cut, and forecasts read, with the assigned lookback: the folder held 2 rows for
    # a 4-lag model and would not load ("y has 2 rows but needs at least n_lags = 4"), and predict failed
    params = {"n_lags": 4} if cls is ARNetForecaster else {"lookback": 8, "period": 2, "hidden": 4}
    y = pd.Series(np.sin(np.arange(80.0)), index=HOURS)
    est = cls(**params, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    before = est.predict()
    for name, value in changed.items():
        setattr(est, name, value)
    pd.testing.assert_series_equal(est.predict(), before)
    with pytest.warns(UserWarning, match="saved with the parameters it was fitted with"):
        back = tsrec.load(est.save(tmp_path / "f"))
    pd.testing.assert_series_equal(back.predict(), before)
    est.update(pd.Series([0.5], index=[HOURS[-1] + HOURS.freq]))  # a refit takes the new values
    assert all(est._fitted_params[name] == value for name, value in changed.items())
    assert len(est.predict(fh=[1])) == 1


def test_a_model_saved_unchanged_does_not_warn(tmp_path, forecaster, recwarn):
    tsrec.load(forecaster.save(tmp_path / "f"))
    assert not [w for w in recwarn if "fitted with" in str(w.message)]


# ---- what the fitted model answered, the loaded one answers ----------------------------------------


def test_an_absolute_fh_stays_absolute_after_load(tmp_path):
    y = pd.Series(np.sin(np.arange(80.0)), index=HOURS)
    fh = ForecastingHorizon(HOURS[70:72], is_relative=False)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:70], fh=fh)
    back = tsrec.load(est.save(tmp_path / "f"))
    assert not back.fh.is_relative
    pd.testing.assert_series_equal(back.predict(), est.predict())
    for model in (est, back):  # after the cutoff passes the stamps, both refuse them alike
        model.update(y.iloc[70:], update_params=False)
        with pytest.raises(Exception, match="in-sample") as refused:
            model.predict()
        assert type(refused.value).__name__ == "InSampleError"


@pytest.mark.parametrize("form", ["wide", "series", "panel"])
def test_tuple_column_and_series_names_round_trip(tmp_path, form):
    wide = pd.DataFrame(RNG.normal(size=(80, 2)), index=HOURS,
                        columns=pd.MultiIndex.from_tuples([("x", "a"), ("x", "b")]))
    y = {"wide": wide, "series": wide[("x", "a")].rename(("x", "y")),
         "panel": pd.concat({key: wide for key in ("s1", "s2")}, names=["id", "time"])}[form]
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    back = tsrec.load(est.save(tmp_path / "f"))
    assert back.columns_ == est.columns_
    for model_forecast, loaded_forecast in ((est.predict(), back.predict()), (est.predict(y=y), back.predict(y=y))):
        assert model_forecast.equals(loaded_forecast)
        assert getattr(loaded_forecast, "name", None) == getattr(model_forecast, "name", None)


# ---- sktime's zip format and the working folder --------------------------------------------------


def _earlier_model_zip(path) -> None:
    """A zip with the members of sktime's model zip (only such a file is replaced by a save)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_metadata", b"an earlier model")
        archive.writestr("_obj", b"its pickle")


@pytest.mark.parametrize("name", ["model", "model.zip"])
def test_sktime_zip_saves_at_the_given_name_and_replaces_an_earlier_one(tmp_path, forecaster, name):
    _earlier_model_zip(tmp_path / "model.zip")
    forecaster.save(tmp_path / name, serialization_format="pickle").close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]
    back = sktime_load(tmp_path / "model.zip")
    pd.testing.assert_series_equal(back.predict(), forecaster.predict())


@pytest.mark.parametrize("name, written", [  # sktime 1.2 zipped to <name>.zip, then opened <stem>.zip: not found
    ("model.v2", "model.v2.zip"), ("fc_2024.01.05", "fc_2024.01.05.zip"), ("arnet.v2.zip", "arnet.v2.zip"),
    ("up.ZIP", "up.ZIP"),
])
def test_sktime_zip_names_with_dots_or_upper_case_zip(tmp_path, forecaster, name, written):
    forecaster.save(tmp_path / name, serialization_format="pickle").close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [written]
    pd.testing.assert_series_equal(sktime_load(tmp_path / written).predict(), forecaster.predict())


def test_sktime_zip_follows_a_link_and_refuses_a_folder_in_the_way(tmp_path, forecaster):
    _earlier_model_zip(tmp_path / "real.zip")
    (tmp_path / "link.zip").symlink_to(tmp_path / "real.zip")
    forecaster.save(tmp_path / "link.zip", serialization_format="pickle").close()
    assert (tmp_path / "link.zip").is_symlink()  # once replaced by a plain file, the link's target unchanged
    pd.testing.assert_series_equal(sktime_load(tmp_path / "real.zip").predict(), forecaster.predict())
    (tmp_path / "m.zip").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot write .*m\.zip: it is a folder; remove it or choose"):
        forecaster.save(tmp_path / "m", serialization_format="pickle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.zip", "m.zip", "real.zip"]


@pytest.mark.parametrize("where", [".", "parent"])
def test_saving_over_the_working_folder_is_refused_and_leaves_nothing(tmp_path, monkeypatch, forecaster, where):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(ValueError, match="current working folder"):
        forecaster.save("." if where == "." else tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"] and not list((tmp_path / "work").iterdir())
    forecaster.save("model")  # a subfolder is fine
    assert (tmp_path / "work" / "model" / "config.json").is_file()


def test_saving_over_an_earlier_save_that_is_the_working_folder_names_a_folder_beside_it(tmp_path, monkeypatch,
                                                                                         forecaster):
    # the advice was a subfolder, e.g. ./model, which is refused as inside a saved model
    forecaster.save(tmp_path / "m")
    monkeypatch.chdir(tmp_path / "m")
    with pytest.raises(ValueError, match="current working folder") as refused:
        forecaster.save(".")
    advised = refused.value.args[0].rsplit("e.g. ", 1)[1]
    assert advised == str(tmp_path.resolve() / "m-new")
    forecaster.save(advised)
    pd.testing.assert_series_equal(tsrec.load(advised).predict(), forecaster.predict())


# ---- folders tsrec did not write -----------------------------------------------------------


@pytest.mark.parametrize("text", ['{"format": ' + "9" * 5000 + "}", "[" * 100_000])
def test_a_config_json_python_cannot_parse_is_a_load_error(tmp_path, forecaster, text):
    folder = forecaster.save(tmp_path / "f")
    (folder / "config.json").write_text(text)
    with pytest.raises(LoadError, match="not valid JSON"):
        tsrec.load(folder)


def _first_network_tensor(tensors: dict) -> str:
    return next(name for name in tensors if name.startswith("network."))


@pytest.mark.parametrize("case, match", [
    ("integer weights", "network.* is torch.int64, where the network holds torch.float32"),
    ("half context", "context rows are not float64"),
    ("negative scale", "positive scales"),
    ("zero scale", "positive scales"),
    ("huge position", "last_position is 10{30}"),
    ("boolean position", "last_position is True, not a step count"),
    ("negative row count", r"scaler row count -5 is not a count"),
])
def test_values_tsrec_never_writes_are_refused(tmp_path, forecaster, case, match):
    folder = forecaster.save(tmp_path / "f")
    if case == "integer weights":
        rewrite(folder, tensor_change=lambda t: t.update(
            {(k := _first_network_tensor(t)): t[k].round().to(torch.int64)}))
    elif case == "half context":
        rewrite(folder, tensor_change=lambda t: t.update({"context.0": t["context.0"].half()}))
    elif case.endswith("scale"):  # a zero scale would pass load, then blame the user's data at predict
        value = -1.0 if case.startswith("negative") else 0.0
        rewrite(folder, config_change=lambda c: c["fitted"]["scaler"].update(scale=[value]))
    elif case == "negative row count":
        rewrite(folder, config_change=lambda c: c["fitted"]["scaler"].update(n_samples_seen=-5))
    else:
        position = True if case.startswith("boolean") else 10**30
        rewrite(folder, config_change=lambda c: c["fitted"]["series"][0].update(last_position=position))
    with pytest.raises(LoadError, match=match) as caught:
        tsrec.load(folder)
    # the file that holds the refused values: the tensors' file, else the config (it named config.json for all)
    where = "weights.safetensors" if case in ("integer weights", "half context") else "config.json"
    assert str(caught.value).startswith(f"{folder / where}: ")


@pytest.mark.parametrize("shape, more", [((80,), (5,)), ((80, 2), (5, 2)), ((3, 2, 40), (3, 2, 5))])
def test_a_model_fitted_on_numpy_keeps_its_cutoff_after_load(tmp_path, shape, more):
    # NumPy holds no stamps: the saved rows were refitted as rows 0, 1, ... and absolute fh moved
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(RNG.normal(size=shape), fh=[1, 2])
    back = tsrec.load(est.save(tmp_path / "f"))
    assert list(back.cutoff) == list(est.cutoff)
    if len(shape) < 3:
        stamp = ForecastingHorizon([int(est.cutoff[0]) + 2], is_relative=False)
        np.testing.assert_array_equal(back.predict(fh=stamp), est.predict(fh=stamp))
    rows = RNG.normal(size=more)
    for model in (est, back):
        model.update(rows, update_params=False)
    assert list(back.cutoff) == list(est.cutoff)
    forecast = back.predict(fh=[1, 2])
    assert isinstance(forecast, np.ndarray)
    np.testing.assert_array_equal(forecast, est.predict(fh=[1, 2]))
