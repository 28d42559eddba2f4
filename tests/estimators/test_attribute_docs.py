"""Every fitted attribute of every estimator is documented in its class docstring, the one ``help()``
shows: the shared ones (``history_``, ``columns_``, ``position_offset_``, ...) were documented in none."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators._attribute_docs import with_shared_attributes
from tsrec.estimators._classifier import DeepClassifier

ESTIMATORS = tsrec.all_estimators()


def documented(cls: type) -> set[str]:
    """The names of the Attributes section of ``cls``'s docstring."""
    section = re.search(r"\n    Attributes\n    -+\n(.*?)\n\n    [A-Z]", cls.__doc__, flags=re.DOTALL).group(1)
    return set(re.findall(r"^    (\w+) :", section, flags=re.MULTILINE))


def fitted(cls: type):
    params = {**getattr(cls, "_test_params", {}), "max_epochs": 1, "random_state": 0}
    if issubclass(cls, DeepClassifier):
        X = pd.DataFrame({"c0": [pd.Series(np.sin(np.arange(12.0) + i)) for i in range(8)]})
        return cls(**params).fit(X, np.array(["a", "b"] * 4))
    params = dict(cls.get_test_params()[0], max_epochs=1)
    stamps = pd.date_range("2024-01-01", periods=120, freq="h")
    y = pd.DataFrame({"a": np.sin(np.arange(120) / 4), "b": np.cos(np.arange(120) / 5)}, index=stamps)
    panel = pd.concat({"s0": y, "s1": y * 2}, names=["id", "time"])
    return cls(**params).fit(panel, fh=[1, 2])


@pytest.mark.parametrize("name,cls", ESTIMATORS, ids=[n for n, _ in ESTIMATORS])
def test_every_fitted_attribute_is_in_the_class_docstring(name, cls):
    est = fitted(cls)
    attributes = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
    assert attributes and attributes <= documented(cls), sorted(attributes - documented(cls))
    assert len(re.findall(r"^    history_ :", cls.__doc__, flags=re.MULTILINE)) == 1  # added once, not repeated


def test_shared_attributes_go_to_the_end_of_the_section_or_a_new_one_before_examples():
    shared = {"a_": ("int", "Shared.")}
    with_section = ("One line.\n\n    Attributes\n    ----------\n    b_ : int\n        Own.\n\n"
                    "    Examples\n    --------\n")
    assert with_shared_attributes(with_section, shared) == with_section.replace(
        "Own.\n", "Own.\n    a_ : int\n        Shared.\n")
    without = "One line.\n\n    Parameters\n    ----------\n    x : int\n        X.\n\n    Examples\n    --------\n"
    assert with_shared_attributes(without, shared) == without.replace(
        "    Examples", "    Attributes\n    ----------\n    a_ : int\n        Shared.\n\n    Examples")
    assert with_shared_attributes(with_section.replace("b_", "a_"), shared) == with_section.replace("b_", "a_")
    assert with_shared_attributes("One line.", shared) == "One line."
    long = {"a_": ("int", "word " * 60)}  # wrapped to lines of at most 100 characters, indentation included
    lines = with_shared_attributes(with_section, long).splitlines()
    assert max(map(len, lines)) <= 100 and sum(line.startswith(" " * 8 + "word") for line in lines) == 4
