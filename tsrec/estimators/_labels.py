"""A classifier's labels: checked, and encoded as the positions of its sorted classes."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from tsrec.estimators.errors import InputError


def encode_labels(y: object) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of labels ``y`` and each label's position among them; refuses missing
    labels, labels that do not sort together, fewer than two classes."""
    y = column_or_1d(y, warn=True)
    _check_no_missing_labels(y)
    try:  # both sort the labels, and labels of some types do not compare (str with int)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
    except TypeError as err:
        kinds = sorted({type(label).__name__ for label in y})
        what = (f"mixes labels of types that do not sort together ({', '.join(kinds)}); give every label one type"
                if len(kinds) > 1 else f"has {kinds[0]} labels: {str(err).rstrip('.')}")  # sklearn's bytes
        raise InputError(f"y {what}, e.g. y = np.asarray(y).astype(str)") from err
    except ValueError as err:
        if y.dtype != object or not str(err).startswith("Unknown label type: unknown"):
            raise
        raise InputError(_object_labels_message(str(err), y)) from err
    if len(classes) < 2:
        raise InputError(
            # tolist(): the plain value, not numpy 2's repr np.str_('a')
            f"y has only one class ({classes[:1].tolist()[0]!r}); a classifier needs at least 2 classes"
        )
    return classes, encoded


def _object_labels_message(err: str, y: np.ndarray) -> str:
    """scikit-learn's refusal of object labels that are not all strings (whole numbers stored as
    objects, or numbers mixed with text), with a type to give them in place of its regression hint;
    its sentence stays first, as its checks match it."""
    kinds = ", ".join(sorted({type(label).__name__ for label in y}))
    fix = f"y = np.asarray(y).astype({_one_type(y)})"
    return (f"{err.split('. ')[0]}: y is an object array of {kinds} labels, which scikit-learn reads as classes "
            f"only when they are all strings; give them one type: {fix}")


def _one_type(y: np.ndarray) -> str:
    """The type that keeps every label as it is: bool for booleans (Python's or NumPy's), int for
    integers, float for whole-valued floats, else str: a mix only text holds, and fractional floats
    scikit-learn reads as a regression target (astype(int) would merge 1.5 and 1.25)."""
    if all(isinstance(label, (bool, np.bool_)) for label in y):
        return "bool"
    if all(isinstance(label, numbers.Integral) for label in y):
        return "int"
    if all(isinstance(label, numbers.Real) and float(label).is_integer() for label in y):
        return "float"
    return "str"


def _check_no_missing_labels(y: np.ndarray) -> None:
    """Refuse None/NaN labels before np.unique, which cannot sort them among strings (TypeError)."""
    missing = np.flatnonzero(pd.isna(y))
    if len(missing):
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        raise InputError(
            f"y has {len(missing)} missing label(s) (None or NaN) at position(s) {shown}; drop those samples "
            "from X and y (e.g. keep = pd.notna(y); X[keep], y[keep]) or give them a label"
        )
