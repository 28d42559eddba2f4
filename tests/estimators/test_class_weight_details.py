"""class_weight, its engine counts and its JSON round trip, and the several-zones message: behaviours a
mutation round over them found unpinned, and four bugs it found (a dict by a UCR set's digit labels
was refused, an epoch of weight below 1 scaled its mean loss, a Mapping passed the check and failed
after the data, Python datetimes of several zones got the general advice)."""

from __future__ import annotations

import datetime as dt
import json
import types
import zoneinfo

import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from tsrec.estimators import ARNetForecaster, PGNClassifier
from tsrec.estimators._class_weights import WeightedClassLoss, class_weights
from tsrec.estimators._saved_json import params_from_json, params_to_json
from tsrec.estimators.errors import InputError, LoadError
from tsrec.persistence import load
from tsrec.tuning import tune


def _data(n_common: int = 20, n_rare: int = 10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_common + n_rare, 20)), np.array([0] * n_common + [1] * n_rare)


@pytest.mark.parametrize("classes, class_weight, expected", [
    (["1", "2"], {"2": 3.0}, [1.0, 3.0]),  # every UCR set's labels: strings of digits
    (["0", "1"], {"0": 0.5, "1": 2.0}, [0.5, 2.0]),
    (["1", "x"], {"1": 3.0}, [3.0, 1.0]),
    (["a", "b"], {"b": 3.0}, [1.0, 3.0]),
    ([1, 2], {2: 3.0}, [1.0, 3.0]),
])
def test_a_dict_weighs_string_labels_of_digits(classes, class_weight, expected):
    # scikit-learn's compute_class_weight (1.9) reads each class with int() first: the class '2' is
    # looked up as 2, and a dict by the labels y has was refused with "The classes, [1, 2], are not in
    # class_weight" (a dict by integers is refused by tsrec's own label check, rightly)
    classes = np.array(classes)
    weight = class_weights(class_weight, classes, np.array([0, 1]), np.arange(2)).numpy()
    np.testing.assert_allclose(weight / weight[0], np.array(expected) / expected[0])


def test_a_ucr_like_classifier_takes_a_dict_by_its_string_labels():
    X, y = _data()
    labels = np.where(y == 1, "2", "1")
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0, class_weight={"2": 5.0}).fit(X, labels)
    assert clf.get_params()["class_weight"] == {"2": 5.0}


def test_a_mapping_that_is_no_dict_is_refused_as_the_other_bad_values():
    # check_class_weight accepted any Mapping, but compute_class_weight takes only a dict: a mappingproxy
    # passed the check and failed after the data with scikit-learn's InvalidParameterError (clone and
    # pickle refuse it too, so refusing it up front, as scikit-learn's own classifiers do, is the fix)
    with pytest.raises(ValueError, match=r"class_weight must be None, 'balanced' or a dict of class label -> "
                                         r"weight, got mappingproxy"):
        PGNClassifier(class_weight=types.MappingProxyType({1: 3.0})).fit(None, None)


@pytest.mark.parametrize("trainer_kwargs, key", [({"limit_val_batches": 1}, "val_loss"),
                                                 ({"limit_train_batches": 1}, "train_loss")])
def test_an_epoch_of_weight_below_one_keeps_its_weighted_mean(trainer_kwargs, key):
    # the engine divides an epoch's summed loss by max(count, 1): with class weights the count is a
    # total weight, and one batch of a light class (here weight ~0.17) reported loss * 0.17, not loss;
    # lr ~0 keeps the network the initial one, so the loss of that one sample is the same unweighted
    X, y = _data(30, 10)
    params = dict(hidden=4, max_epochs=1, random_state=0, val_size=0.5, batch_size=1, lr=1e-9,
                  trainer_kwargs=trainer_kwargs)
    plain = PGNClassifier(**params).fit(X, y).history_[key][0]
    weighted = PGNClassifier(**params, class_weight={0: 0.05}).fit(X, y).history_[key][0]
    assert weighted == pytest.approx(plain, rel=1e-4)  # one sample: its weighted mean is its loss


def test_python_datetimes_in_several_zones_are_told_the_conversion_that_works():
    # pandas keeps Python datetimes of several zones as datetime.datetime objects, not Timestamps: they
    # got the general advice, pd.to_datetime, which refuses them ("unless utc=True")
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    stamps = ([dt.datetime(2024, 1, 1, h, tzinfo=paris) for h in range(15)]
              + [dt.datetime(2024, 1, 1, 14, tzinfo=dt.timezone.utc) + dt.timedelta(hours=h) for h in range(15)])
    y = pd.Series(np.arange(30.0), index=pd.Index(stamps))
    with pytest.raises(InputError, match=r"^y's time stamps are in several time zones \(Europe/Paris, UTC\), .*"
                                         r"e\.g\. in UTC: y\.index = pd\.to_datetime\(y\.index, utc=True\)$"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    y.index = pd.to_datetime(y.index, utc=True)  # the advice works
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)


def test_a_batch_lighter_than_one_sample_keeps_its_weighted_mean():
    # the clamp only guards 0/0: a batch whose weights sum below 1 (one sample of a light class) is
    # still the weighted mean, here the sample's own cross-entropy, not that times its weight
    logits, y = torch.tensor([[2.0, -1.0]], dtype=torch.float64), torch.tensor([1])
    loss, count = WeightedClassLoss(torch.tensor([1.0, 0.25], dtype=torch.float64))(lambda x: x, (logits, y))
    assert float(count) == pytest.approx(0.25)
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item(), rel=1e-12)


def test_the_weighted_loss_keeps_the_logits_dtype():
    # the class weights are float64 (scikit-learn's); a float32 network must keep a float32 loss
    # (a float64 loss is slower on GPUs, and MPS devices have no float64)
    logits, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    loss, count = WeightedClassLoss(torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))(lambda x: x, (logits, y))
    assert loss.dtype == torch.float32 and count.dtype == torch.float32


def test_a_weighted_fit_with_validation_keeps_plain_float_losses(tmp_path):
    # a batch's count is then a tensor (its total class weight): the epoch sums must be read as
    # floats, or history_ holds tensors (and each validation batch keeps its tensor alive)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 20)), np.array([0] * 30 + [1] * 10)
    clf = PGNClassifier(hidden=4, max_epochs=2, random_state=0, val_size=0.3, class_weight="balanced").fit(X, y)
    history = clf.history_
    assert len(history["val_loss"]) == 2
    assert all(type(v) is float for v in history["train_loss"] + history["val_loss"])
    assert type(history["best_val_loss"]) is float
    clf.save(tmp_path / "model")
    assert load(tmp_path / "model").history_ == history


def _json_round_trip(value):


    return params_from_json(json.loads(json.dumps(params_to_json(value))))


@pytest.mark.parametrize("value", [
    {"a": 1.0, 2: 3.0},  # keys of two types: one of them not a string is enough to lose it
    {2: 3.0, "a": 1.0},
    {1: (2, 3), 2: {"b": (4,)}},  # the values inside the pairs keep their own marks
    {np.int64(1): 2.0, 2.5: [1, (2,)], None: False},
])
def test_dicts_with_keys_that_are_not_all_strings_survive_json(value):
    assert _json_round_trip(value) == value
    assert [type(v) for v in _json_round_trip(value).values()] == [type(v) for v in value.values()]


@pytest.mark.parametrize("items", [[[1, 2.0, 3.0]], [[1]], [[[1], 2.0]], [[{"k": 1}, 2.0]], [1, 2.0]])
def test_hand_edited_dict_items_are_a_load_error(items):
    # a config edited by hand (its checksums recomputed): a LoadError naming the file, not a TypeError
    # or ValueError from unpacking the pairs, nor a dict keyed by lists

    with pytest.raises(LoadError, match=r"are not \[key, value\] pairs of simple keys; the file was not written"):
        params_from_json({"__items__": items})


def test_an_object_index_of_stamps_and_text_keeps_the_general_advice():
    # the several-zones message reads each stamp's zone: an index mixing stamps with other objects
    # (here a string) is no case of it and gets the general message, not an AttributeError on str.tz

    paris = list(pd.date_range("2024-01-01", periods=29, freq="h", tz="Europe/Paris"))
    y = pd.Series(np.arange(30.0), index=pd.Index(paris + ["2024-01-02 05:00"], dtype=object))
    with pytest.raises(TypeError, match=r"holds values of dtype object .*use a DatetimeIndex \(pd\.to_datetime\)"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)


@pytest.mark.parametrize("class_weight, message", [
    ("balance", r"class_weight must be None, 'balanced' or a dict of class label -> weight, got 'balance'"),
    ({1: -1.0}, r"class_weight\[1\] must be a finite number >= 0, got -1\.0"),
])
def test_tune_refuses_a_bad_class_weight_with_fits_message_before_any_trial(class_weight, message):
    # tune checks what fit checks before the data: its message, not scikit-learn's, and no trial


    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 20)), np.array([0] * 20 + [1] * 10)
    study = optuna.create_study()
    with pytest.raises(ValueError, match=message):
        tune(PGNClassifier(max_epochs=1, val_size=0.3, class_weight=class_weight), X, y, n_trials=1, study=study)
    assert not study.trials


