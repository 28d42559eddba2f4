"""Classifier inputs refused with a message that names the problem: empty axes, missing labels, and
series whose magnitude overflows the networks (tsrec does not rescale a classifier's X)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import all_estimators
from tsrec.estimators import PGNClassifier, SMambaClassifier
from tsrec.estimators.errors import InputError

CLASSIFIERS = all_estimators(kind="classifier")
IDS = [n for n, _ in CLASSIFIERS]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 1, 10))
Y = np.array(["a", "b"] * 6)


def tiny(cls, **params):
    """The class's own small test configuration, one epoch."""
    return cls(**{**getattr(cls, "_test_params", {}), "max_epochs": 1, "random_state": 0, **params})


# ---- empty axes ------------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=IDS)
@pytest.mark.parametrize("shape,axes", [((12, 0, 10), "0 channel"), ((12, 1, 0), "1 channel\\(s\\) x 0 timepoints")])
def test_samples_without_channels_or_timepoints_are_refused(name, cls, shape, axes):
    with pytest.raises(InputError, match=f"X has {axes}.*at least one channel and one timepoint"):
        tiny(cls).fit(np.zeros(shape), Y)


# ---- missing labels --------------------------------------------------------------------------


@pytest.mark.parametrize("labels", [
    np.array(["a", "b"] * 5 + [None, "a"], dtype=object),
    pd.Series(["a", "b"] * 5 + [np.nan, "a"]),
    pd.Series(["a", "b"] * 5 + [pd.NA, "a"], dtype="string"),
    np.array([0.0, 1.0] * 5 + [np.nan, 0.0]),
], ids=["None", "nan among strings", "pd.NA", "nan among floats"])
def test_missing_labels_are_named_by_position(labels):
    with pytest.raises(InputError, match=r"1 missing label\(s\) \(None or NaN\) at position\(s\) 10; drop"):
        PGNClassifier(hidden=4, max_epochs=1).fit(X, labels)


def test_many_missing_labels_are_listed_up_to_ten():
    labels = np.array(["a", "b"] * 3 + [None] * 12 + ["a", "b"], dtype=object)
    with pytest.raises(InputError, match=r"12 missing label\(s\).* 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \.\.\."):
        PGNClassifier(hidden=4, max_epochs=1).fit(RNG.normal(size=(20, 10)), labels)


# ---- magnitude -------------------------------------------------------------------------------


def test_overflow_inside_a_kernel_names_the_magnitude_of_x():
    # S-Mamba's LayerNorm overflows at |X| ~ 1e8: the scan kernel used to say "u contains NaN or inf"
    with pytest.raises(InputError, match=r"overflowed to NaN or inf while training; the largest \|X\| is 2\.33e\+08.*"
                                         r"standardise each channel"):
        tiny(SMambaClassifier).fit(X * 1e8, Y)


def test_a_network_trained_to_nan_is_refused_in_fit():
    # PGN trains at |X| ~ 1e20 without an error, to weights that predicted NaN probabilities
    with pytest.raises(InputError, match=r"overflowed to NaN or inf while training; the largest \|X\| is 2\.33e\+20"):
        PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X * 1e20, Y)


@pytest.mark.parametrize("cls,scale", [(PGNClassifier, 1e20), (SMambaClassifier, 1e8)])
def test_predict_proba_refuses_non_finite_probabilities(cls, scale):
    clf = tiny(cls).fit(X, Y)
    assert np.isfinite(clf.predict_proba(X)).all()
    for method in (clf.predict_proba, clf.predict):
        with pytest.raises(InputError, match=r"overflowed to NaN or inf at predict time; the largest \|X\| is 2\.33e"):
            method(X * scale)
