"""Classifiers' ``class_weight``: scikit-learn's weighted cross-entropy, its defining effect on a rare
class, its checks, and its round trips through save/load, pickles and tuning."""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.utils.class_weight import compute_class_weight

from tsrec import all_estimators
from tsrec.errors import TuningSetupError
from tsrec.estimators import PGNClassifier
from tsrec.estimators._class_weights import WeightedClassLoss, class_weights
from tsrec.estimators.errors import InputError
from tsrec.persistence import load
from tsrec.tuning import tune

CLASSIFIERS = all_estimators(kind="classifier")


def _rare_class(seed: int, n_common: int, n_rare: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise, and for the rare class noise plus a faint sine: classes that overlap."""
    rng, t = np.random.default_rng(seed), np.arange(40)
    X = np.concatenate([rng.normal(0, 1, (n_common, 40)), rng.normal(0, 1, (n_rare, 40)) + 0.5 * np.sin(t / 3)])
    return X, np.array([0] * n_common + [1] * n_rare)


@pytest.fixture(scope="module")
def rare_fits() -> dict:
    X, y = _rare_class(0, 180, 20)
    X_test, y_test = _rare_class(1, 200, 200)
    out = {}
    for key, weight in [("none", None), ("balanced", "balanced"), ("nine", {1: 9.0}), ("ones", {0: 1.0, 1: 1.0})]:
        clf = PGNClassifier(hidden=16, max_epochs=10, random_state=0, class_weight=weight).fit(X, y)
        predicted = clf.predict(X_test)
        out[key] = (clf, clf.predict_proba(X_test), (predicted[y_test == 1] == 1).mean(),
                    balanced_accuracy_score(y_test, predicted))
    return out


def test_balanced_weights_find_more_of_a_rare_class(rare_fits):
    # the defining effect: unweighted, the 10% class is mostly called common; weighed 9 to 1 it is found
    none_recall, balanced_recall = rare_fits["none"][2], rare_fits["balanced"][2]
    assert none_recall < 0.5 and balanced_recall > none_recall + 0.25
    assert rare_fits["balanced"][3] > rare_fits["none"][3] + 0.05  # and more right on the two classes together


def test_only_the_ratio_of_the_weights_counts(rare_fits):
    # 'balanced' weighs 200 / (2 * 180) against 200 / (2 * 20): the ratio 9, as {1: 9.0}
    np.testing.assert_allclose(rare_fits["balanced"][1], rare_fits["nine"][1], atol=1e-6)
    # equal weights train as no weights (the weighted mean is the mean)
    np.testing.assert_allclose(rare_fits["ones"][1], rare_fits["none"][1], atol=1e-4)


def test_the_weighted_loss_is_scikit_learns_weighted_log_loss():
    torch.manual_seed(0)
    logits, y = torch.randn(12, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 2, 1, 0, 0, 0, 1, 2, 0, 0])
    weight = torch.tensor([0.5, 2.0, 3.0], dtype=torch.float64)
    loss, count = WeightedClassLoss(weight)(lambda x: x, (logits, y))
    expected = log_loss(y.numpy(), torch.softmax(logits, 1).numpy(), sample_weight=weight[y].numpy(), labels=[0, 1, 2])
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert float(count) == pytest.approx(float(weight[y].sum()))  # the engine's epoch mean counts weight


def test_a_batch_of_weight_zero_has_no_loss_and_no_gradient():
    # cross_entropy(weight=...) divides 0 by 0 there: a NaN that would spoil every weight
    logits = torch.randn(4, 2, requires_grad=True)
    loss, count = WeightedClassLoss(torch.tensor([0.0, 1.0]))(lambda x: x, (logits, torch.zeros(4, dtype=torch.long)))
    loss.backward()
    assert loss.item() == 0.0 and float(count) == 0.0 and torch.equal(logits.grad, torch.zeros(4, 2))


def test_weights_are_rescaled_to_weigh_a_training_sample_one_on_average():
    y, classes = np.array([0, 0, 0, 1, 2, 2]), np.array(["a", "b", "c"])
    train = np.array([0, 1, 3, 4])
    weight = class_weights("balanced", classes, y, train).numpy()
    assert weight[y[train]].mean() == pytest.approx(1.0)
    sklearn_weight = compute_class_weight("balanced", classes=classes, y=classes[y])  # read over all of y
    np.testing.assert_allclose(weight / weight[0], sklearn_weight / sklearn_weight[0])
    by_label = class_weights({"c": 4.0}, classes, y, train).numpy()  # labels left out weigh 1
    np.testing.assert_allclose(by_label / by_label[0], [1.0, 1.0, 4.0])
    assert class_weights(None, classes, y, train) is None


@pytest.mark.parametrize("class_weight, message", [
    ("balance", r"class_weight must be None, 'balanced' or a dict of class label -> weight, got 'balance'"),
    ([1.0, 2.0], r"class_weight must be None, 'balanced' or a dict .*got \[1\.0, 2\.0\]"),
    ({1: -1.0}, r"class_weight\[1\] must be a finite number >= 0, got -1\.0"),
    ({1: float("nan")}, r"class_weight\[1\] must be a finite number >= 0, got nan"),
    ({1: True}, r"class_weight\[1\] must be a finite number >= 0, got True"),
    ({1: 10**400}, r"class_weight\[1\] must be a finite number >= 0, got 1000"),  # no bare OverflowError
    ({1: "2"}, r"class_weight\[1\] must be a finite number >= 0, got '2'; e\.g\. class_weight='balanced'"),
])
def test_a_bad_class_weight_is_refused_before_the_data(class_weight, message):
    with pytest.raises(ValueError, match=message):
        PGNClassifier(class_weight=class_weight).fit(None, None)  # the data would be refused next


def test_a_label_that_is_no_class_is_named():
    # scikit-learn named the classes the dict leaves out (which rightly weigh 1) instead of the stray label
    X, y = _rare_class(0, 10, 10)
    with pytest.raises(InputError, match=r"class_weight names \['1'\], which y does not have as classes; its "
                                         r"classes are \[0, 1\] \(labels left out of class_weight weigh 1\)"):
        PGNClassifier(max_epochs=1, class_weight={"1": 5.0}).fit(X, y)


def test_training_samples_that_all_weigh_zero_are_refused():
    X, y = _rare_class(0, 10, 10)
    with pytest.raises(InputError, match=r"weighs every training sample 0 \(their classes are \[0, 1\]\)"):
        PGNClassifier(max_epochs=1, class_weight={0: 0.0, 1: 0}).fit(X, y)


def test_a_class_weighed_zero_is_left_out_of_the_loss():
    X, y = _rare_class(0, 20, 20)
    params = dict(hidden=8, max_epochs=20, lr=1e-2, random_state=0)
    learned = PGNClassifier(**params).fit(X, y).predict_proba(X)[y == 1, 1].mean()
    left_out = PGNClassifier(**params, class_weight={1: 0.0}).fit(X, y).predict_proba(X)[y == 1, 1].mean()
    # only class 0 teaches: class 1's samples are called 0 too
    assert learned > 0.5 and left_out < 0.2


@pytest.mark.parametrize("class_weight", [{1: 9.0, 0: 0.5}, {np.int64(1): 2.0}, "balanced", None])
def test_class_weight_survives_save_and_load(tmp_path, class_weight):
    # JSON writes keys as strings: {1: 9.0} came back as {'1': 9.0}, which names no class
    X, y = _rare_class(0, 20, 10)
    clf = PGNClassifier(hidden=4, max_epochs=2, random_state=0, class_weight=class_weight).fit(X, y)
    clf.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    assert loaded.get_params()["class_weight"] == class_weight
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.fit(X, y).get_params()["class_weight"] == class_weight  # and refits


def test_a_string_labelled_class_weight_survives_save_and_load(tmp_path):
    X, y = _rare_class(0, 20, 10)
    labels = np.where(y == 1, "rare", "common")
    clf = PGNClassifier(hidden=4, max_epochs=2, random_state=0, class_weight={"rare": 3.0}).fit(X, labels)
    clf.save(tmp_path / "model")
    assert load(tmp_path / "model").get_params()["class_weight"] == {"rare": 3.0}


def test_a_classifier_pickled_before_class_weight_loads_without_weights():
    X, y = _rare_class(0, 20, 10)
    clf = PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, y)
    state = clf.__getstate__()
    del state["class_weight"]
    old = PGNClassifier.__new__(PGNClassifier)
    old.__setstate__(state)
    assert old.class_weight is None
    np.testing.assert_allclose(pickle.loads(pickle.dumps(old)).predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("name, cls", CLASSIFIERS, ids=[n for n, _ in CLASSIFIERS])
def test_every_classifier_trains_on_weighted_classes(name, cls):
    X, y = _rare_class(0, 12, 4)
    params = {**getattr(cls, "_test_params", {}), "max_epochs": 1, "random_state": 0}
    plain = cls(**params).fit(X, y)
    weighted = cls(**params, class_weight={1: 50.0}).fit(X, y)
    assert weighted.get_params()["class_weight"] == {1: 50.0}
    # the rare class's weight reaches the loss: the first epoch's weights move otherwise
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X))


def test_tune_refuses_to_search_class_weight():
    X, y = _rare_class(0, 20, 10)
    space = {"class_weight": optuna.distributions.CategoricalDistribution([None, "balanced"])}
    with pytest.raises(TuningSetupError, match=r"returned 'class_weight', which weighs the classes in the validation "
                                               r"loss .*scoring='balanced_accuracy'\)$"):
        tune(PGNClassifier(max_epochs=1, val_size=0.3), X, y, n_trials=1, space=space)


def test_tune_refuses_a_label_that_is_no_class_before_any_trial():
    X, y = _rare_class(0, 20, 10)
    study = optuna.create_study()
    with pytest.raises(InputError, match=r"class_weight names \[7\], which y does not have"):
        tune(PGNClassifier(max_epochs=1, val_size=0.3, class_weight={7: 2.0}), X, y, n_trials=1, study=study)
    assert not study.trials
