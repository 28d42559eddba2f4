"""``tune``: Optuna hyper-parameter search for any tsrec estimator, with pruning of bad trials.

Each trial clones the estimator, sets the sampled constructor parameters, and fits it with
Optuna's Lightning pruning callback added through :func:`tsrec.estimators._engine.extra_callbacks`
(no estimator takes a callback parameter). The callback reports the validation loss after every
epoch and stops a trial the pruner judges hopeless; a finished trial scores its best validation
loss, the same number the estimator's early stopping and best-weights restore use.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna_integration import PyTorchLightningPruningCallback
from sklearn.base import clone, is_classifier
from sktime.forecasting.base import BaseForecaster

from tsrec.estimators._engine import extra_callbacks
from tsrec.registry import all_estimators
from tsrec.tuning.spaces import search_space

# optuna-integration 5.x imports ``lightning.pytorch`` (the package tsrec's engine trains with),
# so its callback is a Lightning ``Callback`` the Trainer accepts as is. It reads ``val_loss``
# from ``trainer.callback_metrics`` after each validation epoch (tsrec's TrainingModule logs it
# there), reports it with the epoch as the step, and raises ``optuna.TrialPruned`` out of
# ``Trainer.fit``; Lightning re-raises it after its teardown, so it reaches the objective intact.

#: epochs during which the default pruner never prunes (the first ones are noisy)
DEFAULT_WARMUP_EPOCHS = 2
#: trials that always run to the end before the default pruner starts comparing
DEFAULT_STARTUP_TRIALS = 5


@dataclass
class TuneResult:
    """What :func:`tune` found: the best trial of the call and the study.

    :func:`tune` returns one; each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    best_estimator : estimator
        The estimator of the best trial, fitted in that trial (not refitted).
    best_params : dict
        The parameters the search space gave the best trial (set on ``best_estimator``).
    best_value : float
        The best trial's score: its lowest validation loss, ``best_estimator.history_["best_val_loss"]``
        (the number early stopping and the best-weights restore use). For forecasters the mean
        squared error on the scaled series, except :class:`~tsrec.estimators.LS4Forecaster`, whose
        validation loss is its training objective: LS4's negative ELBO (averaged as in the paper's
        code, see :meth:`tsrec.nn.ls4.LS4.loss`) on the scaled windows of ``lookback + horizon``
        steps. For classifiers the cross-entropy. Lower is better.
    study : optuna.Study
        The study, with every trial (complete, pruned or failed) and its per-epoch losses. A
        study passed to :func:`tune` may hold earlier trials; ``best_*`` come from this call's.

    Examples
    --------
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> est = ARNetForecaster(n_lags=4, max_epochs=2, val_size=0.25)
    >>> result = tune(est, make_ar((0.5,), n_samples=200), n_trials=1, random_state=0)
    >>> result.best_value == result.best_estimator.history_["best_val_loss"] == result.study.best_value
    True
    >>> all(result.best_estimator.get_params()[name] == value for name, value in result.best_params.items())
    True
    """

    best_estimator: Any
    best_params: dict[str, Any]
    best_value: float
    study: optuna.Study


def _check_n_trials(n_trials: object, timeout: object) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0
    ):
        raise ValueError(f"timeout must be None or a number of seconds > 0, got {timeout!r}")
    if n_trials is None and timeout is not None:
        return
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer (or None together with a timeout), got {n_trials!r}")


def _kind(estimator: object) -> str:
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


def _check_data(kind: str, data: tuple) -> None:
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


def _check_val_size(estimator: object) -> None:
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


def _check_sampled(params: object, valid: set[str], name: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise TypeError(f"the search space must return a dict of parameters, got {type(params).__name__}")
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(
            f"the search space returned parameter(s) {unknown} that {name} does not take; "
            f"valid parameters are {sorted(valid)}"
        )
    return params


def _best_val_loss(estimator: object) -> float:
    history = getattr(estimator, "history_", None)
    value = history.get("best_val_loss") if isinstance(history, dict) else None
    if value is None:
        raise ValueError(
            f"the fit of {type(estimator).__name__} recorded no validation loss: its validation split is "
            "empty (too few rows or windows for val_size); raise val_size or give more data"
        )
    return float(value)


def _make_study(
    study: optuna.Study | None,
    sampler: optuna.samplers.BaseSampler | None,
    pruner: optuna.pruners.BasePruner | None,
    random_state: int | None,
) -> optuna.Study:
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


def tune(
    estimator: Any,
    *data: Any,
    n_trials: int | None = 20,
    timeout: float | None = None,
    space: Callable[[optuna.trial.BaseTrial], dict[str, Any]] | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
    random_state: int | None = None,
    study: optuna.Study | None = None,
    fit_params: dict[str, Any] | None = None,
) -> TuneResult:
    """Search constructor parameters of ``estimator`` with Optuna, pruning bad trials early.

    Each trial fits ``clone(estimator).set_params(**space(trial))`` and scores it by its best
    validation loss (``history_["best_val_loss"]``: the epoch whose weights the estimator keeps).
    After every epoch the validation loss goes to the pruner; a trial it judges worse than the
    others at the same epoch stops there (state PRUNED). ``estimator`` itself is not changed.

    Parameters
    ----------
    estimator : tsrec estimator
        A forecaster or classifier (``tsrec.all_estimators()``) with a validation split
        (``val_size > 0``); its other parameters are kept in every trial.
    *data
        The data, in the order the estimator's ``fit`` takes it: ``tune(forecaster, y)`` or
        ``tune(forecaster, y, X)`` (sktime's ``fit(y, X)``), and ``tune(classifier, X, y)``
        (scikit-learn's ``fit(X, y)``).
    n_trials : int or None, default=20
        Trials to run; None runs until ``timeout``.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    space : callable or None, default=None
        ``space(trial) -> dict`` of constructor parameters; None uses :func:`search_space`.
        Names the estimator does not take raise a ValueError that lists the valid ones.
    pruner : optuna.pruners.BasePruner or None, default=None
        None is ``MedianPruner(n_startup_trials=5, n_warmup_steps=2)``: from the sixth trial
        on, stop a trial whose loss at its third epoch or later is worse than the median of the
        earlier trials at that epoch.
    sampler : optuna.samplers.BaseSampler or None, default=None
        None is ``TPESampler(seed=random_state)``.
    random_state : int or None, default=None
        Seed of the default sampler. Fits are seeded by the estimator's own ``random_state``,
        so the same ``random_state`` gives the same trials, best parameters and forecasts.
    study : optuna.Study or None, default=None
        Continue this study (e.g. one with persistent storage) instead of a new in-memory one;
        it must minimise, and it brings its own sampler and pruner. The result is the best of
        the trials run by this call.
    fit_params : dict or None, default=None
        Extra keyword arguments for ``fit`` (e.g. ``{"fh": [1, 2, 3]}``).

    Returns
    -------
    TuneResult
        ``best_estimator`` (fitted), ``best_params``, ``best_value`` and the ``study``.

    Raises
    ------
    ValueError
        Bad ``n_trials``/``timeout``/``random_state``, ``val_size=0``, or a space that returns
        parameters the estimator does not take.
    TypeError
        Not an estimator, or the wrong number of data arguments for its kind.
    RuntimeError
        No trial completed (all pruned or failed, or the timeout hit before the first finished).

    Examples
    --------
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> from tsrec.tuning import tune
    >>> y = make_ar((0.5, -0.3), n_samples=300)
    >>> est = ARNetForecaster(n_lags=4, max_epochs=3, val_size=0.25)
    >>> result = tune(est, y, n_trials=2, random_state=0)
    >>> sorted(result.best_params)
    ['lr', 'sparsity']
    >>> result.best_estimator.predict(fh=[1, 2]).shape
    (2,)
    """
    _check_n_trials(n_trials, timeout)
    kind = _kind(estimator)
    _check_data(kind, data)
    if fit_params is not None and not isinstance(fit_params, dict):
        raise TypeError(f"fit_params must be a dict or None, got {type(fit_params).__name__}")
    if space is None:
        space = lambda trial: search_space(estimator, trial)  # noqa: E731
    elif not callable(space):
        raise TypeError(f"space must be a callable space(trial) -> dict or None, got {type(space).__name__}")
    _check_val_size(estimator)
    valid = set(estimator.get_params(deep=True))
    name = type(estimator).__name__
    best: dict[str, Any] = {"value": math.inf, "number": None}

    def objective(trial: optuna.Trial) -> float:
        params = _check_sampled(space(trial), valid, name)
        candidate = clone(estimator).set_params(**params)
        _check_val_size(candidate)
        with extra_callbacks([PyTorchLightningPruningCallback(trial, monitor="val_loss")]):
            candidate.fit(*data, **(fit_params or {}))
        value = _best_val_loss(candidate)
        trial.set_user_attr("epochs", int(candidate.history_.get("epochs", 0)))
        if best["number"] is None or value < best["value"]:  # ties keep the earlier trial
            best.update(value=value, number=trial.number, params=dict(params), estimator=candidate)
        return value

    verbose = bool(estimator.get_params().get("verbose", False))
    verbosity = optuna.logging.get_verbosity()
    try:
        if not verbose:
            optuna.logging.set_verbosity(logging.WARNING)
        study = _make_study(study, sampler, pruner, random_state)
        first = len(study.trials)
        study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(), gc_after_trial=False)
    finally:
        optuna.logging.set_verbosity(verbosity)
    if best["number"] is None:
        states = [t.state.name for t in study.trials[first:]]
        counts = {s: states.count(s) for s in sorted(set(states))}
        raise RuntimeError(
            f"no trial completed ({counts or 'none ran'}); raise n_trials or timeout, or use a more "
            "patient pruner (e.g. MedianPruner with more n_warmup_steps)"
        )
    return TuneResult(best["estimator"], best["params"], best["value"], study)
