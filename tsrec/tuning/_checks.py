"""Input checks of :func:`tsrec.tuning.tune`, and the study it runs (made or checked here).

Every check runs before the first trial trains, so a wrong argument costs no training time.
"""

from __future__ import annotations

import numbers
from typing import Any

import optuna
from sklearn.base import is_classifier
from sktime.forecasting.base import BaseForecaster

from tsrec.registry import all_estimators

#: epochs during which the default pruner never prunes (the first ones are noisy)
DEFAULT_WARMUP_EPOCHS = 2
#: trials that always run to the end before the default pruner starts comparing
DEFAULT_STARTUP_TRIALS = 5


def check_n_trials(n_trials: object, timeout: object) -> None:
    """``n_trials`` a positive int (or None with a timeout), ``timeout`` None or seconds > 0."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0
    ):
        raise ValueError(f"timeout must be None or a number of seconds > 0, got {timeout!r}")
    if n_trials is None and timeout is not None:
        return
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer (or None together with a timeout), got {n_trials!r}")


def estimator_kind(estimator: object) -> str:
    """"forecaster" or "classifier": from the registry, else from scikit-learn / sktime."""
    for method in ("get_params", "set_params", "fit"):
        if not callable(getattr(estimator, method, None)):
            raise TypeError(
                f"tune needs an estimator with get_params, set_params and fit (a tsrec estimator, see "
                f"tsrec.all_estimators()); {type(estimator).__name__} has no {method}"
            )
    for kind in ("forecaster", "classifier"):
        if isinstance(estimator, tuple(cls for _, cls in all_estimators(kind))):
            return kind
    if is_classifier(estimator):
        return "classifier"
    if isinstance(estimator, BaseForecaster):
        return "forecaster"
    raise TypeError(
        f"cannot tell whether {type(estimator).__name__} is a forecaster or a classifier; tune takes a "
        "tsrec estimator, an sktime forecaster or a scikit-learn classifier"
    )


def check_data(kind: str, data: tuple) -> None:
    """The data arguments in the order ``fit`` takes them: ``(y[, X])`` or ``(X, y)``."""
    if kind == "classifier" and len(data) != 2:
        raise TypeError(
            f"for a classifier, pass the series and the labels as in fit: tune(classifier, X, y); "
            f"got {len(data)} data argument(s)"
        )
    if kind == "forecaster" and len(data) not in (1, 2):
        raise TypeError(
            f"for a forecaster, pass the series (and exogenous data) as in fit: tune(forecaster, y) or "
            f"tune(forecaster, y, X); got {len(data)} data argument(s)"
        )
    first = "X" if kind == "classifier" else "y"
    if data[0] is None:
        raise ValueError(f"{first} is None; pass the training data")
    if kind == "classifier" and data[1] is None:
        raise ValueError("y is None; a classifier needs the class labels: tune(classifier, X, y)")


def check_val_size(estimator: object) -> None:
    """The estimator holds out a validation split: trials are scored on it."""
    params = estimator.get_params()
    name = type(estimator).__name__
    if "val_size" not in params:
        raise TypeError(
            f"{name} has no val_size parameter; tune scores each trial by its validation loss, so it "
            "needs an estimator that holds out a validation split"
        )
    val_size = params["val_size"]
    if isinstance(val_size, numbers.Real) and not isinstance(val_size, bool) and val_size <= 0:
        raise ValueError(
            f"{name} has val_size={val_size!r}, so no validation loss to tune on; set val_size, e.g. "
            f"{name}(..., val_size=0.2) or estimator.set_params(val_size=0.2)"
        )


def check_sampled(params: object, valid: set[str], name: str) -> dict[str, Any]:
    """What a search space returned: a dict of parameters the estimator takes."""
    if not isinstance(params, dict):
        raise TypeError(f"the search space must return a dict of parameters, got {type(params).__name__}")
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(
            f"the search space returned parameter(s) {unknown} that {name} does not take; "
            f"valid parameters are {sorted(valid)}"
        )
    return params


def make_study(
    study: optuna.Study | None,
    sampler: optuna.samplers.BaseSampler | None,
    pruner: optuna.pruners.BasePruner | None,
    random_state: int | None,
) -> optuna.Study:
    """A new minimising study with the given or default sampler and pruner, or the checked ``study``."""
    if study is None:
        bad_seed = isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral)
        if random_state is not None and bad_seed:
            raise ValueError(f"random_state must be None or an int, got {random_state!r}")
        sampler = sampler if sampler is not None else optuna.samplers.TPESampler(seed=random_state)
        if pruner is None:
            pruner = optuna.pruners.MedianPruner(
                n_startup_trials=DEFAULT_STARTUP_TRIALS, n_warmup_steps=DEFAULT_WARMUP_EPOCHS
            )
        return optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    if not isinstance(study, optuna.Study):
        raise TypeError(f"study must be an optuna.Study or None, got {type(study).__name__}")
    given = [n for n, v in (("sampler", sampler), ("pruner", pruner), ("random_state", random_state)) if v is not None]
    if given:
        raise ValueError(
            f"pass {given} when creating the study (optuna.create_study), not together with study=; "
            "the study's own sampler and pruner are used"
        )
    if len(study.directions) != 1 or study.direction != optuna.study.StudyDirection.MINIMIZE:
        raise ValueError("study must be single-objective with direction='minimize' (a validation loss)")
    return study
