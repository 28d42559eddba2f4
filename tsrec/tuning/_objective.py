"""The objective :func:`tsrec.tuning.tune` hands to ``study.optimize``: one fit per trial.

It keeps the best trial of the call itself (with its fitted estimator), because a study passed to
``tune`` may hold earlier trials whose estimators no longer exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import optuna
from optuna_integration import PyTorchLightningPruningCallback
from sklearn.base import clone

from tsrec.estimators._engine import extra_callbacks
from tsrec.tuning._checks import check_sampled, check_val_size

# optuna-integration 5.x imports ``lightning.pytorch`` (the package tsrec's engine trains with),
# so its callback is a Lightning ``Callback`` the Trainer accepts as is. It reads ``val_loss``
# from ``trainer.callback_metrics`` after each validation epoch (tsrec's TrainingModule logs it
# there), reports it with the epoch as the step, and raises ``optuna.TrialPruned`` out of
# ``Trainer.fit``; Lightning re-raises it after its teardown, so it reaches the objective intact.


def best_val_loss(estimator: object) -> float:
    """The fitted estimator's best validation loss; a clear error when it validated nothing."""
    history = getattr(estimator, "history_", None)
    value = history.get("best_val_loss") if isinstance(history, dict) else None
    if value is None:
        raise ValueError(
            f"the fit of {type(estimator).__name__} recorded no validation loss: its validation split is "
            "empty (too few rows or windows for val_size); raise val_size or give more data"
        )
    return float(value)


class Objective:
    """Fit ``clone(estimator).set_params(**space(trial))`` per trial; score its best validation loss.

    Parameters
    ----------
    estimator : tsrec estimator
        The estimator to clone in every trial (left unchanged).
    data : tuple
        The data arguments of ``fit``.
    space : callable
        ``space(trial) -> dict`` of constructor parameters.
    fit_params : dict
        Extra keyword arguments of ``fit``.

    Attributes
    ----------
    best : dict
        ``value``, ``number``, ``params`` and ``estimator`` of the best trial so far; ``number``
        is None until a trial completes.

    Examples
    --------
    >>> import optuna
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> est = ARNetForecaster(n_lags=4, max_epochs=1, val_size=0.25)
    >>> objective = Objective(est, (make_ar((0.5,), n_samples=120),), lambda t: {"lr": 0.01}, {})
    >>> optuna.create_study().optimize(objective, n_trials=1)
    >>> objective.best["number"], objective.best["params"]
    (0, {'lr': 0.01})
    """

    def __init__(
        self,
        estimator: Any,
        data: tuple,
        space: Callable[[optuna.trial.BaseTrial], dict[str, Any]],
        fit_params: dict[str, Any],
    ) -> None:
        self.estimator = estimator
        self.data = data
        self.space = space
        self.fit_params = fit_params
        self.valid = set(estimator.get_params(deep=True))
        self.best: dict[str, Any] = {"value": math.inf, "number": None}

    def __call__(self, trial: optuna.Trial) -> float:
        params = check_sampled(self.space(trial), self.valid, type(self.estimator).__name__)
        candidate = clone(self.estimator).set_params(**params)
        check_val_size(candidate)
        with extra_callbacks([PyTorchLightningPruningCallback(trial, monitor="val_loss")]):
            candidate.fit(*self.data, **self.fit_params)
        value = best_val_loss(candidate)
        trial.set_user_attr("epochs", int(candidate.history_.get("epochs", 0)))
        if self.best["number"] is None or value < self.best["value"]:  # ties keep the earlier trial
            self.best.update(value=value, number=trial.number, params=dict(params), estimator=candidate)
        return value
