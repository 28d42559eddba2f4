"""A loaded estimator is the saved one: parameters (tuples too), fitted statistics; and what cannot be
loaded again, or only by its name's length, is handled before anything is replaced."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import tsrec
from tsrec._files import atomic_write
from tsrec.estimators import ARNetForecaster, PGNClassifier, SpaceTimeForecaster

X = np.random.default_rng(0).normal(size=(12, 10))
Y = np.arange(12) % 2


def test_tuple_parameters_come_back_as_tuples(tmp_path):
    est = ARNetForecaster(n_lags=4, horizon=2, hidden_layers=(4,), max_epochs=1, random_state=0)
    est.fit(np.sin(np.arange(40.0)))
    loaded = tsrec.load(est.save(tmp_path / "m"))
    assert loaded.get_params() == est.get_params()
    assert loaded.hidden_layers == (4,) and repr(loaded) == repr(est)
    assert SpaceTimeForecaster().get_params()["criterion_weights"] == (1.0, 1.0, 0.0)  # a default tuple


def test_the_scaler_keeps_its_row_count(tmp_path):
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))
    loaded = tsrec.load(est.save(tmp_path / "m"))
    assert loaded.scaler_.n_samples_seen_ == est.scaler_.n_samples_seen_ == 40
    assert set(loaded.get_fitted_params()) == set(est.get_fitted_params())


def test_a_loaded_estimator_keeps_its_training_history(tmp_path):
    forecaster = ARNetForecaster(n_lags=4, horizon=2, max_epochs=2, random_state=0).fit(np.sin(np.arange(60.0)))
    classifier = PGNClassifier(hidden=4, max_epochs=2, random_state=0).fit(X, Y)
    for est, name in ((forecaster, "f"), (classifier, "c")):
        loaded = tsrec.load(est.save(tmp_path / name))
        assert loaded.history_ == est.history_ and loaded.history_["epochs"] == 2


def test_the_config_records_the_tsrec_and_torch_versions(tmp_path):
    est = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, Y)
    versions = json.loads((est.save(tmp_path / "m") / "config.json").read_text())["versions"]
    assert versions == {"tsrec": tsrec.__version__, "torch": torch.__version__}


def test_a_subclass_that_load_cannot_find_is_refused_and_the_earlier_save_kept(tmp_path):
    class MyPGN(PGNClassifier):
        pass

    earlier = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, Y).save(tmp_path / "m")
    sub = MyPGN(hidden=4, max_epochs=1, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match=r"cannot save MyPGN: .*register it"):
        sub.save(earlier)
    assert type(tsrec.load(earlier)) is PGNClassifier


def test_a_long_legal_name_can_be_saved_and_written(tmp_path):
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, Y)
    name = "m" * 240  # Linux allows 255 bytes; the temporary names beside it must stay legal
    assert type(tsrec.load(clf.save(tmp_path / name))) is PGNClassifier
    clf.save(tmp_path / name)  # replacing it goes through a backup name as well
    out = atomic_write(tmp_path / ("é" * 120 + ".csv"), lambda tmp: tmp.write_text("a"))
    assert out.read_text() == "a"
