"""A leading ``~`` in a path is the home folder, as pandas and the shell read it, for every path tsrec takes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.base import load as sktime_load

import tsrec
from tsrec.batch import forecast_files
from tsrec.estimators import ARNetForecaster, PGNClassifier


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home folder, and a working folder beside it where a literal ``~`` folder would show."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "work")
    yield tmp_path / "home"
    assert list((tmp_path / "work").iterdir()) == []  # no folder named "~" was made


def test_saves_and_loads_take_the_home_folder(home):
    # a save to "~/model" made a folder named "~" in the working folder, which load found only from there
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    assert est.save("~/models/ar") == home / "models" / "ar"
    np.testing.assert_array_equal(tsrec.load("~/models/ar").predict(fh=[1, 2]), est.predict(fh=[1, 2]))
    est.save("~/ar", serialization_format="pickle")
    np.testing.assert_array_equal(sktime_load(str(home / "ar")).predict(fh=[1, 2]), est.predict(fh=[1, 2]))
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(np.random.default_rng(0).normal(size=(6, 1, 8)),
                                                                    np.arange(6) % 2)
    assert clf.save("~/pgn") == home / "pgn" and {"ar.zip", "models", "pgn"} <= {p.name for p in home.iterdir()}


def test_batch_files_take_the_home_folder(home):
    y = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=30, freq="h"), "unique_id": "a",
                      "y": np.sin(np.arange(30.0))})
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y.set_index("ds")["y"]).save("~/model")
    y.to_csv(home / "in.csv", index=False)
    got = forecast_files("~/model", "~/in.csv", "~/out.csv", fh=2)
    pd.testing.assert_frame_equal(pd.read_csv(home / "out.csv", parse_dates=["ds"]), got)
