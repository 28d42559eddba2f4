"""Every concrete estimator class defined in tsrec.estimators is in tsrec's registry, and only those:
tests, the command line and tuning iterate over the registry, so a class missing from it goes untested."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import BaseEstimator
from sktime.forecasting.base import BaseForecaster

import tsrec
import tsrec.estimators
from tsrec.registry import register

BASES = {"DeepForecaster", "DeepClassifier"}


def defined_estimators() -> set[type]:
    """Public, non-abstract forecaster and classifier classes defined in a module of the package."""
    found = set()
    for module_info in pkgutil.iter_modules(tsrec.estimators.__path__):
        module = importlib.import_module(f"tsrec.estimators.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            own = cls.__module__ == module.__name__ and not name.startswith("_") and name not in BASES
            if own and issubclass(cls, (BaseForecaster, BaseEstimator)) and not inspect.isabstract(cls):
                found.add(cls)
    return found


def test_the_registry_lists_every_estimator_defined_in_the_package():
    registered = {cls for _, cls in tsrec.all_estimators()}
    defined = defined_estimators()
    assert len(defined) >= 14  # the walk found the estimator modules
    assert {c.__name__ for c in defined - registered} == set(), "defined but not registered"
    assert {c.__name__ for c in registered - defined} == set(), "registered but not defined in tsrec.estimators"


def test_both_kinds_together_are_sorted_by_name_and_an_unknown_kind_is_named():
    names = [name for name, _ in tsrec.all_estimators()]
    assert names == sorted(names)  # not the forecasters, then the classifiers
    # a plural or another kind: named with the kinds there are, not a KeyError from the registry's dict
    with pytest.raises(ValueError, match=r"^kind must be one of \('forecaster', 'classifier'\) or None, got "
                                         r"'forecasters'$"):
        tsrec.all_estimators("forecasters")
    with pytest.raises(ValueError, match=r"^kind must be one of \('forecaster', 'classifier'\), got 'regressor'$"):
        register("regressor")
