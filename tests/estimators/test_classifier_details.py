"""The classifiers in detail: the validation split's bounds, the batch the memory check is given, the
validation loss's samples, the fitted precision, scikit-learn's tags and messages (a mutation round's findings)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.errors import NoValidationWarning
from tsrec.estimators import PGNClassifier, _classifier
from tsrec.estimators._class_weights import WeightedClassLoss
from tsrec.estimators._classifier import classification_loss

RNG = np.random.default_rng(0)


def test_a_split_that_leaves_exactly_one_sample_of_each_class_per_side_is_made():
    # _split's bound: as many training samples as classes is room enough (each class on both sides)
    y = np.repeat(np.arange(3), 2)
    train, val = PGNClassifier(val_size=3)._split(y, seed=0)
    assert sorted(y[train].tolist()) == [0, 1, 2] and sorted(y[val].tolist()) == [0, 1, 2]


def test_a_class_of_one_sample_means_no_split_with_a_warning_not_scikit_learns_error():
    y = np.r_[0, np.ones(10, dtype=int)]
    with pytest.warns(UserWarning, match=r"val_size=0\.2 leaves no validation data.*two samples of each class"):
        train, val = PGNClassifier(val_size=0.2)._split(y, seed=0)
    assert list(train) == list(range(11)) and len(val) == 0


def test_the_training_memory_check_is_given_the_batch_a_step_takes_at_most():
    # fewer training samples than batch_size: a step holds all of them, not batch_size
    seen = []

    class Spy(PGNClassifier):
        def _check_training_memory(self, config, n_variates, length, batch):
            seen.append((n_variates, length, batch))

    Spy(hidden=4, max_epochs=1, batch_size=64, val_size=0.25, random_state=0).fit(
        RNG.normal(size=(12, 2, 10)), np.array(["a", "b"] * 6))
    assert seen == [(2, 10, 9)]


def test_a_precision_set_after_fit_changes_no_prediction_until_the_next_fit():
    # _as_3d reads X in the fitted network's precision (fitted_value), not the parameter's new value
    X, y = RNG.normal(size=(12, 1, 10)), np.array(["a", "b"] * 6)
    clf = PGNClassifier(hidden=4, max_epochs=1, precision="64-true", random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(precision="32-true")
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_classifiers_tell_scikit_learn_they_take_3d_arrays():
    assert PGNClassifier().__sklearn_tags__().input_tags.three_d_array


def test_fit_without_y_keeps_scikit_learns_requires_y_message():
    with pytest.raises(ValueError, match=r"requires y to be passed, but the target y is None"):
        PGNClassifier(hidden=4, max_epochs=1).fit(RNG.normal(size=(12, 1, 10)), None)


def test_the_validation_loss_is_that_of_the_validation_samples_and_their_labels():
    # _train_network: the validation loader pairs x[val_idx] with target[val_idx]; one epoch, so the
    # network kept is the one validated
    X, y = RNG.normal(size=(16, 1, 10)), np.array(["a", "b"] * 8)
    clf = PGNClassifier(hidden=4, max_epochs=1, val_size=0.25, random_state=0).fit(X, y)
    _, val = clf._split(np.searchsorted(clf.classes_, y), seed=0)
    log_proba = clf.predict_log_proba(X[val])
    expected = -log_proba[np.arange(len(val)), np.searchsorted(clf.classes_, y[val])].mean()
    assert len(clf.history_["val_loss"]) == 1
    np.testing.assert_allclose(clf.history_["val_loss"][0], expected, rtol=1e-4)


def test_a_validation_side_smaller_than_the_classes_means_no_split_with_a_warning():
    """val_size=2 with 3 classes cannot hold every class in validation: the fit trains without validation
    and says so, instead of failing with scikit-learn's "test_size = 2 should be greater or equal to the
    number of classes = 3"."""
    y = np.repeat(np.arange(3), 4)
    with pytest.warns(NoValidationWarning, match=r"val_size=2 leaves no validation data"):
        train, val = PGNClassifier(val_size=2)._split(y, seed=0)
    assert list(train) == list(range(12)) and len(val) == 0


def test_the_divergence_warning_compares_with_guessing_among_all_the_classes(monkeypatch):
    """The loss of guessing every class alike is log(n_classes): with 5 classes the fit diverged only at
    a loss of 10 x log(5) = 16.1; a baseline of log(2) would warn from 6.9 on, of a fit that merely
    trained badly."""
    seen = []
    monkeypatch.setattr(_classifier._divergence, "warn_far_above_baseline",
                        lambda result, baseline, trivial, config: seen.append(baseline))
    X = np.random.default_rng(0).normal(size=(10, 12))
    PGNClassifier(hidden=8, max_epochs=1, val_size=0, random_state=0).fit(X, np.repeat(list("abcde"), 2))
    assert seen == [pytest.approx(np.log(5))]


def test_the_plain_loss_counts_its_samples_as_the_weighted_one_counts_its_weight():
    """The engine's epoch loss weighs each batch by the count the loss returns: the unweighted loss must
    count samples (a short last batch weighs less), as WeightedClassLoss with every weight 1 does."""
    network = torch.nn.Linear(4, 3)
    batch = (torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0]))
    loss, count = classification_loss(network, batch)
    weighted, total = WeightedClassLoss(torch.ones(3))(network, batch)
    assert count == 5 == float(total)
    torch.testing.assert_close(loss, weighted)
