"""Class labels in detail: a column of labels warns, booleans among integers, how many missing labels are named."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning

from tsrec.estimators._labels import encode_labels
from tsrec.estimators.errors import InputError


def test_labels_given_as_a_column_warn_as_scikit_learns_classifiers_do():
    # scikit-learn's check_supervised_y_2d: a (n, 1) y is read as 1-D, with a DataConversionWarning
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        classes, encoded = encode_labels(np.array([["a"], ["b"], ["a"]]))
    assert classes.tolist() == ["a", "b"] and encoded.tolist() == [0, 1, 0]


def test_booleans_among_integer_objects_are_told_to_become_int_not_bool():
    # _labels._one_type: astype(bool) would merge the classes 2 and 3 into True; int keeps all three
    y = np.array([True, 2, 3] * 4, dtype=object)
    with pytest.raises(InputError, match=r"^Unknown label type: unknown") as caught:
        encode_labels(y)
    assert str(caught.value).endswith("y = np.asarray(y).astype(int)")
    assert len(np.unique(np.asarray(y).astype(int))) == 3


def test_ten_missing_labels_are_all_named_and_more_are_cut_after_ten():
    y = np.array(["a", "b"] * 10 + [None] * 10 + ["a"], dtype=object)
    with pytest.raises(InputError, match=r"10 missing label\(s\) .* at position\(s\) 20, 21, 22, 23, 24, 25, 26, 27, "
                                         r"28, 29; drop"):
        encode_labels(y)
    y = np.array(["a", "b"] * 10 + [None] * 11, dtype=object)
    with pytest.raises(InputError, match=r"11 missing label\(s\) .* at position\(s\) 20, 21, 22, 23, 24, 25, 26, 27, "
                                         r"28, 29, \.\.\.; drop"):
        encode_labels(y)
