"""The classifier contract: real accuracy, determinism, persistence, pipelines and bad inputs."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import tsrec
from tsrec import all_estimators
from tsrec.datasets.ucr import load_ucr
from tsrec.estimators import PGNClassifier
from tsrec.estimators.errors import InputError
from tsrec.estimators._engine import extra_callbacks

CLASSIFIERS = all_estimators(kind="classifier")
IDS = [n for n, _ in CLASSIFIERS]


def toy(n=40, length=24, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, length) if channels is None else (n, channels, length)
    X = rng.standard_normal(shape)
    y = np.array(["up", "down"] * (n // 2))
    X[y == "up"] += np.linspace(0, 2, length)
    return X, y


def test_pgn_classifier_reaches_090_on_gunpoint():
    X_train, y_train = load_ucr("GunPoint", "train")
    X_test, y_test = load_ucr("GunPoint", "test")
    clf = PGNClassifier(max_epochs=100, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=IDS)
def test_multivariate_basicmotions_beats_chance(name, cls):
    X_train, y_train = load_ucr("BasicMotions", "train")
    X_test, y_test = load_ucr("BasicMotions", "test")
    clf = cls(max_epochs=30, random_state=0).fit(X_train, y_train)
    assert clf.n_channels_ == 6 and clf.predict_proba(X_test).shape == (40, 4)
    assert clf.score(X_test, y_test) > 0.5  # chance is 0.25


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=IDS)
def test_same_seed_same_probabilities(name, cls, reseed_global_generators):
    X, y = toy()
    fitted = cls(max_epochs=3, random_state=4).fit(X, y)
    a = fitted.predict_proba(X)
    # predict is the most probable class, and predict_proba's columns follow classes_
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[a.argmax(1)])
    assert list(fitted.classes_) == ["down", "up"]
    reseed_global_generators(12345)  # the caller's generators do not decide the result, random_state does
    b = cls(max_epochs=3, random_state=4).fit(X, y).predict_proba(X)
    c = cls(max_epochs=3, random_state=5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with torch.no_grad():  # the network's second logit far above the first: classes_[1] ("up") everywhere
        fitted.network_.head.bias.add_(torch.tensor([0.0, 60.0], dtype=fitted.network_.head.bias.dtype))
    assert (fitted.predict_proba(X)[:, 1] > 0.999).all() and (fitted.predict(X) == "up").all()


def test_the_validation_split_is_drawn_from_random_state(reseed_global_generators):
    X, y = toy()
    a = PGNClassifier(hidden=4, max_epochs=2, val_size=0.25, random_state=4).fit(X, y)
    reseed_global_generators(12345)  # not numpy's global generator: the split is random_state's
    b = PGNClassifier(hidden=4, max_epochs=2, val_size=0.25, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_["val_loss"] == b.history_["val_loss"]
    encoded = np.unique(y, return_inverse=True)[1]
    splits = [PGNClassifier(val_size=0.25)._split(encoded, seed=seed)[1] for seed in (4, 4, 5)]
    np.testing.assert_array_equal(splits[0], splits[1])
    assert not np.array_equal(np.sort(splits[0]), np.sort(splits[2]))


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=IDS)
def test_save_load_and_pickle_round_trip(name, cls, tmp_path):
    X, y = toy(channels=3)
    clf = cls(max_epochs=3, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    loaded = tsrec.load(clf.save(tmp_path / "clf"))
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.classes_.tolist() == clf.classes_.tolist()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)


@pytest.mark.parametrize("labels", [np.array([3, 7] * 10), np.array([True, False] * 10),
                                    np.array(["x", "yz"] * 10, dtype=object)])
def test_any_label_type_round_trips(labels, tmp_path):
    X, _ = toy(n=20)
    clf = PGNClassifier(hidden=8, max_epochs=2).fit(X, labels)
    assert set(clf.predict(X)) <= set(labels)
    loaded = tsrec.load(clf.save(tmp_path / "clf"))
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_sktime_panel_formats_are_converted():
    X, y = toy(n=10, length=12, channels=2)
    frames = {(i, t): {"c0": X[i, 0, t], "c1": X[i, 1, t]} for i in range(10) for t in range(12)}
    panel = pd.DataFrame.from_dict(frames, orient="index")
    panel.index = pd.MultiIndex.from_tuples(panel.index, names=["instance", "time"])
    a = PGNClassifier(hidden=8, max_epochs=2, random_state=0).fit(panel, y).predict_proba(panel)
    b = PGNClassifier(hidden=8, max_epochs=2, random_state=0).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_works_in_pipeline_grid_search_and_cross_validation():
    X, y = toy(n=30)
    pipe = make_pipeline(FunctionTransformer(lambda a: a - a.mean(axis=1, keepdims=True)),
                         PGNClassifier(max_epochs=3, hidden=8))
    assert cross_val_score(pipe, X, y, cv=3).shape == (3,)
    search = GridSearchCV(PGNClassifier(max_epochs=3), {"hidden": [4, 8]}, cv=2).fit(X, y)
    assert search.best_params_["hidden"] in (4, 8)


BAD = {
    "wrong ndim": (np.zeros((4, 2, 3, 5)), np.array([0, 1, 0, 1]), ValueError, "got 4-D"),
    "nan": (np.full((4, 5), np.nan), np.array([0, 1, 0, 1]), ValueError, "NaN"),
    "single class": (np.zeros((4, 5)), np.array([1, 1, 1, 1]), ValueError, "only one class"),
    "length mismatch of y": (np.zeros((4, 5)), np.array([0, 1, 0]), ValueError, "inconsistent numbers of samples"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_fit_inputs(case):
    X, y, error, match = BAD[case]
    with pytest.raises(error, match=match):
        PGNClassifier(max_epochs=1).fit(X, y)


def test_different_length_at_predict():
    X, y = toy(length=24)
    clf = PGNClassifier(max_epochs=1, hidden=8).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X[:, None, :]), clf.predict_proba(X))
    with pytest.raises(ValueError, match="expecting 24 features"):
        clf.predict(X[:, None, :20])
    with pytest.raises(ValueError, match="expecting 24 features"):
        clf.predict(X[:, :20])
    clf3 = PGNClassifier(max_epochs=1, hidden=8).fit(X[:, None, :].repeat(2, axis=1), y)
    with pytest.raises(ValueError, match="fitted on 2 x 24"):
        clf3.predict(X[:, None, :20].repeat(2, axis=1))


def test_fewer_training_samples_than_classes_after_a_split_still_fit():
    # one sample per class: no room for a stratified validation split, so none is made
    X, y = np.random.default_rng(0).standard_normal((3, 8)), np.array(["a", "b", "c"])
    clf = PGNClassifier(max_epochs=1, val_size=0.5).fit(X, y)
    assert clf.history_["val_loss"] == [] and len(clf.classes_) == 3


def test_wrong_rank_or_length_at_predict_is_named_before_sklearns_feature_count():
    X, y = np.random.default_rng(0).normal(size=(12, 10)), np.arange(12) % 2
    clf = PGNClassifier(hidden=4, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X is 1-D.*Reshape your data"):
        clf.predict(X[0])
    with pytest.raises(ValueError, match="got 4-D"):
        clf.predict(X[:, None, None, :])
    with pytest.raises(ValueError, match=r"12 channel\(s\) x 10 timepoints.*fitted on 1 x 10"):
        clf.predict(X[None])
    with pytest.raises(ValueError, match="its series have 5 timepoints, the classifier was fitted on 10"):
        clf.predict(X[:, :5])
    multi = PGNClassifier(hidden=4, max_epochs=1).fit(X.reshape(12, 2, 5), y)
    with pytest.raises(ValueError, match=r"1 channel\(s\) x 5 timepoints.*pass X of shape \(n_samples, 2, 5\)"):
        multi.predict(X[:, :5])


def ragged_panels():
    lengths = [5 + i % 2 for i in range(12)]
    nested = pd.DataFrame({"c0": [pd.Series(np.arange(float(n))) for n in lengths]})
    multiindex = pd.concat([pd.DataFrame({"c0": np.arange(float(n))}) for n in lengths], keys=range(12))
    return {"nested_univ": nested, "pd-multiindex": multiindex}


@pytest.mark.parametrize("mtype", ["nested_univ", "pd-multiindex"])
def test_unequal_length_panels_are_refused_with_the_fix(mtype):
    X = ragged_panels()[mtype]
    # the fix: one length for train and test (sized by this X alone, a longer test series failed at predict),
    # and no `PaddingTransformer() * clf`, whose sklearn pipeline laid a multivariate X's channels end to end
    with pytest.raises(ValueError, match=r"different lengths \(5 to 6 timepoints\).*one length for every X you fit "
                                         r"and predict on.*pad=\"last\", length=L\), one L for both splits, L >= 6; "
                                         r".*PaddingTransformer\(pad_length=L\)\.fit_transform\(X\) before fit and "
                                         r"before predict, not in a pipeline"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, np.arange(12) % 2)


def test_a_panel_indexed_time_first_is_told_to_swap_its_levels():
    # a log grouped by time: each stamp was read as a sample, and y was blamed for its length
    stamps = pd.date_range("2024-01-01", periods=30, freq="h")
    index = pd.MultiIndex.from_product([stamps, [1, 2, 3, 4]], names=["timestamp", "sensor_id"])
    X = pd.DataFrame({"v": np.random.default_rng(0).normal(size=120)}, index=index)
    advice = r"first index level \('timestamp'\) holds time stamps .* if X is \(time, instance\), pass X\.swaplevel\(\)"
    with pytest.warns(UserWarning, match=advice + r"\.sort_index\(\)"), pytest.raises(ValueError) as raised:
        PGNClassifier(hidden=4, max_epochs=1).fit(X, [0, 1, 0, 1])
    # the labels' refusal gives the same fix (it told X.reset_index(drop=True): 120 samples of one value each)
    assert "if X is (time, instance), pass X.swaplevel().sort_index()" in str(raised.value)
    assert "reset_index" not in str(raised.value)
    assert PGNClassifier(hidden=4, max_epochs=1).fit(X.swaplevel().sort_index(), [0, 1, 0, 1]).n_timepoints_ == 30
    # samples keyed by a date (a day's session) with time stamps for time: (instance, time), no word
    sessions = pd.MultiIndex.from_arrays([np.repeat(pd.date_range("2024-01-01", periods=4, freq="D"), 30),
                                          np.tile(stamps, 4)], names=["session", "timestamp"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = PGNClassifier(hidden=4, max_epochs=1).fit(X.set_axis(sessions), [0, 1, 0, 1])
    assert fitted.n_timepoints_ == 30
    # text ids last: refused with the same fix (the text "time stamps" were told to become positions, which would
    # have made each stamp a sample)
    X.index = X.index.set_levels(["a", "b", "c", "d"], level=1)
    with pytest.raises(InputError, match=advice + r"\.sort_index\(\)$") as caught:
        PGNClassifier(hidden=4, max_epochs=1).fit(X, [0, 1, 0, 1])
    assert "holds time stamps and its last ('sensor_id') text" in str(caught.value)
    assert PGNClassifier(hidden=4, max_epochs=1).fit(X.swaplevel().sort_index(), [0, 1, 0, 1]).n_timepoints_ == 30


def test_an_array_with_more_channels_than_timepoints_warns_of_the_channels_last_layout():
    # tslearn's and Keras' (n, timepoints, channels) was read as 100 channels of 6 steps without a word
    X, y = toy(n=12, length=6, channels=20)
    with pytest.warns(UserWarning, match=r"X has 20 channels of 6 timepoints each .* pass X\.transpose\(0, 2, 1\)"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PGNClassifier(hidden=4, max_epochs=1).fit(X.transpose(0, 2, 1), y)


def test_sktimes_evaluate_scores_as_cross_val_score_does():
    # evaluate asks the classifier for clone(): without it every fold failed and scored NaN
    from sklearn.model_selection import KFold, cross_val_score
    from sktime.classification.model_evaluation import evaluate

    X, y = toy(n=24, length=10, channels=1)  # sktime's evaluate takes 3-D panels only
    clf = PGNClassifier(hidden=4, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sktime passes y as a one-column frame: scikit-learn's conversion warning
        scores = evaluate(clf, cv=KFold(3), X=X, y=y, error_score="raise")["test_accuracy_score"]
    np.testing.assert_allclose(scores, cross_val_score(clf, X, y, cv=KFold(3)))


def test_sktime_zip_and_in_memory_saves(tmp_path):
    from sktime.base import load as sktime_load

    X, y = toy(n=12, length=10)
    clf = PGNClassifier(hidden=4, max_epochs=1).fit(X, y)
    clf.save(str(tmp_path / "zipped"), serialization_format="pickle")
    np.testing.assert_array_equal(sktime_load(str(tmp_path / "zipped")).predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(sktime_load(clf.save()).predict_proba(X), clf.predict_proba(X))
    # unfitted, as sktime and the forecasters save it (it raised NotFittedError); tsrec's folder needs weights
    unfitted = PGNClassifier(hidden=3)
    unfitted.save(tmp_path / "unfitted", serialization_format="pickle")
    assert sktime_load(str(tmp_path / "unfitted")).hidden == 3
    assert sktime_load(unfitted.save()).get_params() == unfitted.get_params()
    with pytest.raises(NotFittedError):
        unfitted.save(tmp_path / "folder")


def test_float64_network_predicts_and_round_trips(tmp_path):
    X, y = toy(n=12, length=10)
    clf = PGNClassifier(hidden=4, max_epochs=1, precision="64-true").fit(X, y)
    proba = clf.predict_proba(X)
    loaded = tsrec.load(clf.save(tmp_path / "clf"))
    assert next(loaded.network_.parameters()).dtype == torch.float64
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


class _InterruptTraining(Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        raise KeyboardInterrupt


@pytest.mark.parametrize("failure", ["bad parameter", "bad data", "interrupted"])
def test_a_failed_refit_leaves_the_classifier_as_it_was_not_half_fitted(failure):
    rng = np.random.default_rng(0)
    X2, y2 = rng.normal(size=(20, 2, 12)).astype(np.float32), np.repeat(["a", "b"], 10)
    X3, y3 = rng.normal(size=(30, 12)).astype(np.float32), np.repeat(["x", "y", "z"], 10)
    clf = PGNClassifier(hidden=4, max_epochs=1, val_size=0.0, random_state=0).fit(X2, y2)
    before, fitted = clf.predict_proba(X2), {k: v for k, v in vars(clf).items() if k.endswith("_")}
    if failure == "bad parameter":
        clf.set_params(batch_size=0)
        with pytest.raises(ValueError, match="batch_size"):
            clf.fit(X3, y3)
        clf.set_params(batch_size=16)
    elif failure == "bad data":
        with pytest.raises(ValueError, match="missing value"):
            clf.fit(np.where(X3 > 2, np.nan, X3), y3)
    else:
        with extra_callbacks([_InterruptTraining()]), pytest.raises(KeyboardInterrupt):
            clf.fit(X3, y3)
    # the earlier fit, whole: its classes with its network, never the new classes with the old network
    assert {k: v for k, v in vars(clf).items() if k.endswith("_")}.keys() == fitted.keys()
    assert clf.network_ is fitted["network_"] and clf.history_ == fitted["history_"]
    assert list(clf.classes_) == ["a", "b"] and clf.n_channels_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X2), before)
    clf.set_params(batch_size=8)
    assert clf.fit(X3, y3).predict_proba(X3[:2]).shape == (2, 3)  # and it fits again
    assert clf.n_channels_ == 1 and list(clf.classes_) == ["x", "y", "z"]  # of the new fit, not the old


def test_a_failed_first_fit_leaves_the_classifier_unfitted():
    X, y = toy(n=12, length=10)
    clf = PGNClassifier(hidden=4, max_epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("counts, val_size", [([3, 3, 94], 0.1), ([2, 98], 0.2), ([50, 50, 2], 3), ([2, 100], 0.9)])
def test_the_validation_split_holds_every_class_on_both_sides(counts, val_size):
    # scikit-learn's stratified rounding left small classes out of one side (no validation sample of
    # the two small classes of [3, 3, 94]; no training sample of class 0 of [2, 100] at 0.9)
    y = np.repeat(np.arange(len(counts)), counts)
    train, val = PGNClassifier(val_size=val_size)._split(y, seed=0)
    assert (np.bincount(y[train], minlength=len(counts)) > 0).all()
    assert (np.bincount(y[val], minlength=len(counts)) > 0).all()
    n_val = round(val_size * len(y)) if isinstance(val_size, float) else val_size
    assert len(val) == n_val and sorted(np.r_[train, val]) == list(range(len(y)))


def test_no_split_where_the_training_side_could_not_hold_every_class():
    # [0, 0, 1, 1, 2, 2] at val_size=0.9: 5 validation samples leave 1 to train on, for 3 classes
    y = np.repeat(np.arange(3), 2)
    with pytest.warns(UserWarning, match=r"val_size=0\.9 leaves no validation data.*one sample of every class on each"):
        train, val = PGNClassifier(val_size=0.9)._split(y, seed=0)
    assert list(train) == list(range(6)) and len(val) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_validation_split_keeps_the_class_proportions(seed):
    # stratified: each class gives its share of the validation samples, whatever the seed
    counts = np.array([30, 60, 10])
    y = np.repeat(np.arange(3), counts)
    _, val = PGNClassifier(val_size=0.2)._split(y, seed=seed)
    assert np.abs(np.bincount(y[val], minlength=3) - 0.2 * counts).max() <= 1


def test_predictions_run_in_passes_of_batch_size_samples():
    X, y = toy(n=40)
    clf = PGNClassifier(hidden=4, max_epochs=1, batch_size=8, random_state=0).fit(X, y)
    passes = []
    hook = clf.network_.register_forward_hook(lambda module, args, out: passes.append(len(args[0])))
    try:
        proba = clf.predict_proba(X[:21])
        clf.set_params(batch_size=32)
        again = clf.predict_proba(X[:21])
    finally:
        hook.remove()
    assert passes == [8, 8, 5, 21]  # a training step's memory at most; the pass does not change a result
    np.testing.assert_allclose(again, proba, rtol=1e-6, atol=1e-7)


def test_a_class_moved_into_a_side_is_exchanged_for_that_sides_largest_class():
    # _classifier.every_class_on_both_sides: class 1 is missing from validation; the sample it gives
    # back must come from validation's largest class (2), not from class 0, whose only one it holds
    from tsrec.estimators._classifier import every_class_on_both_sides

    y = np.repeat([0, 1, 2], [3, 3, 6])
    train, val = every_class_on_both_sides(y, np.array([0, 1, 3, 4, 5, 6, 7]), np.array([2, 8, 9, 10, 11]))
    assert np.bincount(y[val], minlength=3).tolist() == [1, 1, 3]
    assert np.bincount(y[train], minlength=3).tolist() == [2, 2, 3]


def test_a_panel_frame_with_more_channels_than_timepoints_does_not_warn_of_the_channels_last_layout():
    """A panel frame names its channels (columns) and its time stamps (the last index level): its axes
    cannot be swapped, so the warning meant for bare (n, timepoints, channels) arrays would mislead."""
    import warnings

    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product([range(6), range(3)], names=["instance", "time"])
    panel = pd.DataFrame(rng.normal(size=(18, 5)), index=index, columns=[f"c{i}" for i in range(5)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = PGNClassifier(hidden=4, max_epochs=1, val_size=0, random_state=0).fit(panel, [0, 1] * 3)
    assert (clf.n_channels_, clf.n_timepoints_) == (5, 3)
    assert not [w for w in caught if "channels of 3 timepoints" in str(w.message)]
