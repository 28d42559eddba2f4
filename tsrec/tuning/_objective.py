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

from tsrec._warn import warn_user
from tsrec.estimators._engine import extra_callbacks
from tsrec.tuning._checks import check_sampled, check_val_size

# optuna-integration 5.x imports ``lightning.pytorch`` (the package tsrec's engine trains with),
# so its callback is a Lightning ``Callback`` the Trainer accepts as is. It reads ``val_loss``
# from ``trainer.callback_metrics`` after each validation epoch (tsrec's TrainingModule logs it
# there), reports it with the epoch as the step, and raises ``optuna.TrialPruned`` out of
# ``Trainer.fit``; Lightning re-raises it after its teardown, so it reaches the objective intact.


# trainer_kwargs that can end a fit before its first validation
_ENDS_BEFORE_VALIDATION = ("max_steps", "max_time", "limit_train_batches", "limit_val_batches",
                           "check_val_every_n_epoch", "val_check_interval")


def best_val_loss(estimator: object) -> float | None:
    """The fitted estimator's best validation loss, or None when it validated nothing."""
    history = getattr(estimator, "history_", None)
    value = history.get("best_val_loss") if isinstance(history, dict) else None
    return None if value is None else float(value)


def no_validation_reason(estimator: object) -> str:
    """Why a fit of ``estimator`` recorded no validation loss, and what to change."""
    limits = sorted(set(estimator.get_params().get("trainer_kwargs") or {}) & set(_ENDS_BEFORE_VALIDATION))
    if limits:
        return (f"the fit recorded no validation loss: trainer_kwargs {limits} ended it before any validation ran "
                "with these parameters; loosen them")
    return ("the fit recorded no validation loss: its validation split is empty with these parameters (too few "
            "rows or windows for val_size); raise val_size, give more data or narrow the space")


def clone_estimator(estimator: Any) -> Any:
    """An unfitted copy with the same parameters; an sktime estimator's copy keeps its config too."""
    return estimator.clone() if callable(getattr(estimator, "clone", None)) else clone(estimator)


class Objective:
    """Fit a clone of ``estimator`` with ``space(trial)`` set per trial; score its best validation loss.

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

    A fit that raises, ends with a non-finite validation loss (diverged training) or validated
    nothing (a sampled lookback that leaves no validation windows, a step limit in
    ``trainer_kwargs``) fails only its own trial: the reason goes to the trial's user attribute
    ``"error"`` and to a ``RuntimeWarning``, and the objective returns NaN, which Optuna records
    as state FAIL. A space that returns parameters the estimator does not take, or
    ``val_size=0``, raise at once: they are mistakes every trial would repeat.

    Attributes
    ----------
    best : dict
        ``value``, ``number``, ``params`` and ``estimator`` of the best trial so far; ``number``
        is None until a trial completes.
    first_failure : tuple or None
        ``(reason, exception or None)`` of the first failed trial.

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
        self.first_failure: tuple[str, BaseException | None] | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        params = check_sampled(self.space(trial), self.valid, type(self.estimator).__name__)
        candidate = clone_estimator(self.estimator).set_params(**params)
        check_val_size(candidate)
        try:
            with extra_callbacks([PyTorchLightningPruningCallback(trial, monitor="val_loss")]):
                candidate.fit(*self.data, **self.fit_params)
        except optuna.TrialPruned:
            raise  # the pruner's word, not a failure
        except Exception as err:  # noqa: BLE001 - any training error fails this trial only
            return self._fail(trial, repr(err), err)
        value = best_val_loss(candidate)
        trial.set_user_attr("epochs", int(candidate.history_.get("epochs", 0)))
        if value is None:
            return self._fail(trial, no_validation_reason(candidate), None)
        if not math.isfinite(value):
            return self._fail(trial, f"the validation loss is not finite ({value}): training diverged", None)
        if self.best["number"] is None or value < self.best["value"]:  # ties keep the earlier trial
            self.best.update(value=value, number=trial.number, params=dict(params), estimator=candidate)
        return value

    def _fail(self, trial: optuna.Trial, reason: str, error: BaseException | None) -> float:
        trial.set_user_attr("error", reason)
        if self.first_failure is None:
            self.first_failure = (f"trial {trial.number}: {reason}", error)
        warn_user(f"trial {trial.number} failed: {reason}; the search goes on", RuntimeWarning)
        return math.nan  # Optuna stores a NaN result as a FAIL trial and goes on
