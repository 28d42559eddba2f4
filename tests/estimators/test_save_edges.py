"""Saving: the fitted parameters are a deep copy (a dict edited in place after fit), a save inside an
earlier save is refused, a parameter of a later tsrec is named as such on load, and an edited
class_weight naming no class is refused on load."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tsrec.estimators import ARNetForecaster, PGNClassifier
from tsrec.estimators._folder import _config_sha256
from tsrec.estimators.errors import LoadError
from tsrec.persistence import load


def _labelled():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 20)), np.array([0] * 20 + [1] * 10)


def test_a_dict_parameter_edited_in_place_after_fit_is_saved_as_fitted(tmp_path):
    # the record shared the dict with the estimator: the edit was saved as the fitted value, and a bad
    # one (-1.0) replaced a good save with a folder load refused
    X, y = _labelled()
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0, class_weight={1: 2.0}).fit(X, y)
    clf.class_weight[1] = -1.0
    with pytest.warns(UserWarning, match=r"saved with the parameters it was fitted with: class_weight=\{1: 2\.0\} "
                                         r"\(now \{1: -1\.0\}\)"):
        clf.save(tmp_path / "model")
    assert load(tmp_path / "model").get_params()["class_weight"] == {1: 2.0}


def test_a_forecasters_trainer_kwargs_edited_in_place_is_not_saved(tmp_path):
    y = np.sin(np.arange(80) / 3.0)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, trainer_kwargs={}).fit(y)
    est.trainer_kwargs["bogus"] = 1
    with pytest.warns(UserWarning, match=r"trainer_kwargs=\{\} \(now \{'bogus': 1\}\)"):
        est.save(tmp_path / "model")
    assert load(tmp_path / "model").get_params()["trainer_kwargs"] == {}


@pytest.mark.parametrize("form", [None, "pickle"])
def test_a_save_inside_an_earlier_save_is_refused(tmp_path, form):
    # the earlier save then held more than its save wrote, and a later save over it refused it
    y = np.sin(np.arange(80) / 3.0)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    est.save(tmp_path / "m")
    with pytest.raises(FileExistsError, match=rf"lies inside the saved model {tmp_path / 'm'}; save elsewhere"):
        est.save(tmp_path / "m" / "inner", serialization_format=form)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "weights.safetensors"]
    est.save(tmp_path / "m")  # and the earlier save can still be replaced


def test_a_parameter_this_tsrec_does_not_take_is_named_as_a_newer_tsrecs(tmp_path):
    X, y = _labelled()
    PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, y).save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["params"]["from_the_future"] = 1
    config["config_sha256"] = _config_sha256(config)  # as a later tsrec writes it
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with warnings.catch_warnings(), pytest.raises(LoadError, match=r"\['from_the_future'\] are not parameters of "
                                                                   r"PGNClassifier in this tsrec: a newer tsrec saved "
                                                                   r"the folder \(upgrade tsrec to load it\)"):
        warnings.simplefilter("ignore")
        load(tmp_path / "model")


def test_a_parameter_that_cannot_be_copied_does_not_fail_the_fit():
    # a callback or logger holding a lock refuses deepcopy: the record keeps it as it is
    import threading

    import lightning.pytorch as pl

    class Locked(pl.Callback):
        def __init__(self):
            self.lock = threading.Lock()

    callback = Locked()
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, trainer_kwargs={"callbacks": [callback]})
    est.fit(np.sin(np.arange(80) / 3.0))
    assert est._fitted_params["trainer_kwargs"]["callbacks"][0] is callback


@pytest.mark.parametrize("gone", ["config.json", "weights.safetensors"])
def test_loading_a_save_missing_a_file_names_it(tmp_path, gone):
    y = np.sin(np.arange(80) / 3.0)
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y).save(tmp_path / "m")
    (tmp_path / "m" / gone).unlink()
    with pytest.raises(LoadError, match=rf"are needed, and {gone} is missing"):
        load(tmp_path / "m")
    (tmp_path / "m" / gone).mkdir()  # a folder in its place was named as missing
    with pytest.raises(LoadError, match=rf"are needed, and {gone} is not a file"):
        load(tmp_path / "m")


def test_a_parameter_json_cannot_hold_is_named_at_save(tmp_path):
    from fractions import Fraction

    X, y = _labelled()
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0, class_weight={1: Fraction(3, 2)}).fit(X, y)
    with pytest.raises(ValueError, match=r"its parameter class_weight is not JSON-serialisable \(.*Fraction.*\); "
                                         r"save with serialization_format='pickle' instead"):
        clf.save(tmp_path / "m")


def test_a_class_weight_edited_to_name_no_class_is_refused_on_load(tmp_path):
    # it loaded, and the classifier's refit (or a tune over it) then refused its own parameters
    X, y = _labelled()
    PGNClassifier(hidden=4, max_epochs=1, random_state=0, class_weight={1: 2.0}).fit(X, y).save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["params"]["class_weight"] == {"__items__": [[1, 2.0]]}  # a non-string key, as saved
    config["params"]["class_weight"] = {"__items__": [[7, 2.0]]}
    config["config_sha256"] = _config_sha256(config)
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(LoadError, match=r"the saved class_weight is refused \(class_weight names \[7\], which y does "
                                        r"not have as classes; its classes are \[0, 1\].*save the model again"):
        load(tmp_path / "model")
