"""DESIGN.md's bad-input list: each case fails before computing, with a message naming the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import CycleNetForecaster
from tsrec.registry import get_estimator


def frame(n=200, cols=("a", "b")):
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.standard_normal((n, len(cols))), index=index, columns=list(cols))


def with_nan():
    y = frame()
    y.iloc[5, 0] = np.nan
    return y


def with_inf():
    y = frame()
    y.iloc[5, 1] = np.inf
    return y


def non_numeric():
    y = frame()
    y["c"] = "text"
    return y


def duplicated():
    y = frame()
    return y.set_axis(y.index[:-1].append(y.index[-2:-1]))


def unsorted():
    return frame().iloc[::-1]


FIT_CASES = {
    "nan": (with_nan, ValueError, "NaN or inf.*fill"),
    "inf": (with_inf, ValueError, "NaN or inf"),
    "empty": (lambda: frame(0), ValueError, "empty"),
    "too short": (lambda: frame(20), ValueError, "needs at least lookback \\+ horizon"),
    "non-numeric": (non_numeric, TypeError, "non-numeric.*\\['c'\\]"),
    "duplicate stamps": (duplicated, ValueError, "duplicate time stamps"),
    "unsorted stamps": (unsorted, ValueError, "not sorted.*sort_index"),
    "wrong type": (lambda: [1.0, 2.0, 3.0], TypeError, "unsupported type list"),
    "3-d array": (lambda: np.zeros((5, 5, 5)), ValueError, "1-D.*2-D"),
    "string array": (lambda: np.array(["a"] * 50), TypeError, "real numbers"),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_rejects(case):
    make, error, match = FIT_CASES[case]
    est = CycleNetForecaster(lookback=24, horizon=12, max_epochs=1)
    with pytest.raises(error, match=match):
        est.fit(make(), fh=[1])
    assert not est.is_fitted


@pytest.fixture(scope="module")
def fitted():
    return CycleNetForecaster(lookback=24, horizon=12, max_epochs=1).fit(frame(), fh=[1, 2])


PREDICT_CASES = {
    "other number of variates": (dict(y=frame(cols=("a", "b", "c"))), ValueError, "3 variates.*fitted on 2"),
    "context shorter than lookback": (dict(y=frame(10)), ValueError, "needs at least lookback"),
    "nan context": (dict(y=with_nan()), ValueError, "NaN or inf"),
    "in-sample fh": (dict(fh=[0, 1]), ValueError, "future steps"),
    "negative fh with context": (dict(fh=[-1], y=frame()), ValueError, "future steps"),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_predict_rejects(case, fitted):
    kwargs, error, match = PREDICT_CASES[case]
    with pytest.raises(error, match=match):
        fitted.predict(**kwargs)


@pytest.mark.parametrize("params,match", [
    ({"lookback": 0}, "lookback must be an integer >= 1"),
    ({"max_epochs": 0}, "max_epochs"),
    ({"lr": -1.0}, "lr must be a number > 0"),
    ({"val_size": 1.5}, "val_size"),
    ({"random_state": "x"}, "random_state"),
    ({"trainer_kwargs": [1]}, "trainer_kwargs must be a dict"),
    ({"backbone": "rnn"}, "backbone must be 'linear' or 'mlp'"),
])
def test_bad_parameters_fail_in_fit(params, match):
    est = CycleNetForecaster(**{"lookback": 24, "horizon": 12, "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(frame(), fh=[1])


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown estimator 'NoSuchForecaster'; known estimators"):
        get_estimator("NoSuchForecaster")


def test_unreadable_saved_folders(tmp_path, fitted):
    with pytest.raises(tsrec.estimators.LoadError, match="config.json and weights.safetensors"):
        tsrec.load(tmp_path / "missing")
    folder = fitted.save(tmp_path / "model")
    weights = folder / "weights.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(tsrec.estimators.LoadError, match="truncated or modified"):
        tsrec.load(folder)
    weights.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(tsrec.estimators.LoadError, match="truncated or modified"):
        tsrec.load(folder)
    weights.write_bytes(data)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(tsrec.estimators.LoadError, match="not valid JSON"):
        tsrec.load(folder)


def test_tampered_class_name_is_not_imported(tmp_path, fitted):
    import json

    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["class"] = "os.system"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(tsrec.estimators.LoadError, match="unknown estimator class 'os.system'"):
        tsrec.load(folder)


def test_save_over_a_foreign_folder_is_refused_and_nothing_is_lost(tmp_path, fitted):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a saved tsrec estimator"):
        fitted.save(tmp_path / "keep")
    assert (tmp_path / "keep" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_save_into_an_empty_existing_folder_works(tmp_path, fitted):
    (tmp_path / "empty").mkdir()
    folder = fitted.save(tmp_path / "empty")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]
    assert tsrec.load(folder).predict(fh=[1, 2]).equals(fitted.predict(fh=[1, 2]))
