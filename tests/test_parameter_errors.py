"""One error class for a wrong parameter, whichever layer checks it (tsrec.errors.ParameterError)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

import tsrec
from tsrec.errors import FlagError, ParameterError, TsrecError
from tsrec.estimators import ARNetForecaster
from tsrec.estimators._classifier import DeepClassifier
from tsrec.nn import CycleNet
from tsrec.tuning import tune


def _both_and_tsrec(err: BaseException) -> bool:
    # scikit-learn's InvalidParameterError is both too: a caller catching either sees the mistake
    return isinstance(err, TypeError) and isinstance(err, ValueError) and isinstance(err, TsrecError)


def _fit(est) -> None:
    if isinstance(est, DeepClassifier):
        est.fit(np.random.default_rng(0).normal(size=(8, 1, 24)), np.array([0, 1] * 4))
    else:
        stamps = pd.date_range("2024-01-01", periods=200, freq="h")  # CycleNet's cycle comes from the step
        est.fit(pd.Series(np.sin(np.arange(200) / 5.0), index=stamps), fh=[1, 2])


@pytest.mark.parametrize("name, est_class", tsrec.all_estimators())
def test_every_estimator_raises_a_parameter_error_for_a_wrong_count(name, est_class) -> None:
    with pytest.raises(ParameterError, match="max_epochs must be an integer >= 1, got '2'") as info:
        _fit(est_class(max_epochs="2"))
    assert _both_and_tsrec(info.value)


@pytest.mark.parametrize("params, message", [
    ({"n_lags": "4"}, "n_lags must be an integer"),  # a wrong type: a ValueError before
    ({"lr": -1.0}, "lr must be a finite number > 0"),  # a wrong value
    ({"val_size": "0.2"}, "val_size must be a fraction"),
    ({"trainer_kwargs": {"no_such_argument": 1}}, "not a lightning.Trainer argument"),
    ({"sparsity": 2.0}, "sparsity must be None or a number in"),
])
def test_wrong_types_and_values_are_one_class(params, message) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        ARNetForecaster(**{"n_lags": 4, "horizon": 2, "max_epochs": 1, **params}).fit(np.arange(60.0), fh=[1, 2])
    assert _both_and_tsrec(info.value)


def test_tuning_and_network_arguments_are_parameter_errors_too() -> None:
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, val_size=0.2)
    y = np.sin(np.arange(80) / 5.0)
    with pytest.raises(ParameterError, match="pruner must be an optuna pruner instance") as info:
        tune(est, y, n_trials=1, pruner="median")  # a TypeError before, while n_trials=0 was a ValueError
    assert _both_and_tsrec(info.value)
    with pytest.raises(ParameterError, match="n_trials must be a positive integer"):
        tune(est, y, n_trials=0, pruner=optuna.pruners.NopPruner())
    with pytest.raises(ParameterError, match="backbone must be one of"):
        CycleNet(8, 2, 1, 4, backbone="rnn")
    assert issubclass(FlagError, ParameterError)


def test_shared_parameters_are_checked_before_the_data():
    nan_series = np.array([1.0, np.nan] * 30)
    with pytest.raises(ParameterError, match="lr must be a finite number > 0"):  # not y's NaN
        ARNetForecaster(n_lags=4, horizon=2, lr="x").fit(nan_series, fh=[1])
    from tsrec.estimators import PGNClassifier

    X = np.random.default_rng(0).normal(size=(8, 1, 24))
    X[0, 0, 3] = np.nan
    with pytest.raises(ParameterError, match="val_size must be a fraction"):  # checked without a patience too
        PGNClassifier(val_size="x", patience=None).fit(X, np.array([0, 1] * 4))
