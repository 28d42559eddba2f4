"""Outside conformance: sktime's suite over every registered forecaster.

sktime compares DataFrame predictions without looking at their values, so determinism and the
persistence round trips are asserted numerically in test_forecaster_contract.py as well.
"""

from __future__ import annotations

import pytest
from sktime.utils.estimator_checks import check_estimator

from tsrec import all_estimators

FORECASTERS = all_estimators(kind="forecaster")

# tsrec's save(path) writes the safetensors folder of DESIGN.md, which sktime's zip loader
# cannot read; sktime's own zip format stays available as save(path, serialization_format=
# "pickle") and is round-tripped in test_forecaster_contract.py.
EXCLUDED = ["test_save_estimators_to_file"]


def conformance_instance(cls, params: dict):
    """``cls(**params)`` training on one minibatch an epoch: sktime's suite fits it a few hundred times on
    series of about 50 steps, and its checks look at the API, not at how the windows are batched (tested in
    tests/estimators/test_batches.py and test_engine_losses.py); batch_size=64 in place of the test
    parameters' 8 took a quarter to a third off each forecaster's run."""
    return cls(**{**params, "batch_size": 64})


def test_registry_lists_the_foundation_forecasters():
    names = {name for name, _ in FORECASTERS}
    assert {"CycleNetForecaster", "ARNetForecaster"} <= names


@pytest.mark.parametrize("name,cls", FORECASTERS, ids=[n for n, _ in FORECASTERS])
def test_sktime_check_estimator(name, cls):
    # one configuration (get_test_params()[0], sktime's create_test_instance); the suite fits it a few
    # hundred times, and running every configuration doubled the longest part of `make test`
    results = check_estimator(conformance_instance(cls, cls.get_test_params()[0]), raise_exceptions=False,
                              tests_to_exclude=EXCLUDED, verbose=False)
    failures = {test: str(outcome)[:500] for test, outcome in results.items() if outcome != "PASSED"}
    assert len(results) > 100, f"suspiciously few checks ran: {len(results)}"
    assert not failures, f"{name} failed sktime checks: {failures}"


def test_sktime_check_estimator_with_one_global_scaler():
    # the default scales each series of a panel on its own; one forecaster's second configuration
    # (scaling="global", as every forecaster's is) runs the suite the other way
    from tsrec.estimators import ARNetForecaster

    params = ARNetForecaster.get_test_params()[1]
    assert params["scaling"] == "global"
    results = check_estimator(conformance_instance(ARNetForecaster, params), raise_exceptions=False,
                              tests_to_exclude=EXCLUDED, verbose=False)
    failures = {test: str(outcome)[:500] for test, outcome in results.items() if outcome != "PASSED"}
    assert len(results) > 100 and not failures, failures


CLASSIFIERS = all_estimators(kind="classifier")


def small_classifier(cls):
    """The smallest sensible configuration: a few epochs on sklearn's tiny check data (each class's
    ``_test_params`` chooses them; sklearn's suite fits it about 60 times)."""
    return cls(**{"max_epochs": 20, "random_state": 0, **getattr(cls, "_test_params", {})})


def test_registry_lists_the_classifiers():
    assert "PGNClassifier" in {name for name, _ in CLASSIFIERS}


@pytest.mark.parametrize("name,cls", CLASSIFIERS, ids=[n for n, _ in CLASSIFIERS])
def test_sklearn_check_estimator(name, cls):
    from sklearn.utils.estimator_checks import check_estimator as sklearn_check

    results = sklearn_check(small_classifier(cls), on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:300] for r in results if r["status"] == "failed"}
    ran = [r for r in results if r["status"] == "passed"]
    assert len(ran) >= 50, f"only {len(ran)} sklearn checks passed"
    assert not failed, f"{name} failed sklearn checks: {failed}"
