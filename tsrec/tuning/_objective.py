"""The objective :func:`tsrec.tuning.tune` hands to ``study.optimize``: one fit per trial.

It keeps the best trial of the call itself (with its fitted estimator), because a study passed to
``tune`` may hold earlier trials whose estimators no longer exist.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import optuna
import pandas as pd

from tsrec._warn import warn_user
from tsrec.estimators._engine import extra_callbacks
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._seeding import fit_lock
from tsrec.estimators._series import split_panel
from tsrec.estimators._trainer import ENDS_BEFORE_VALIDATION, NEVER_VALIDATED
from tsrec.errors import NoValidationWarning, PartialValidationWarning, TuningSetupError
from tsrec.tuning._checks import (
    check_sampled, check_val_size, check_validation_limit, check_window_lengths, clone_estimator, distribution_clash,
    range_error, split_params,
)
from tsrec.tuning._pruning import PruningCallback


def best_val_loss(estimator: object) -> float | None:
    """The fitted estimator's best validation loss, or None when it validated nothing."""
    history = getattr(estimator, "history_", None)
    value = history.get("best_val_loss") if isinstance(history, dict) else None
    return None if value is None else float(value)


def validation_limits(estimator: object) -> list[str]:
    """The ``trainer_kwargs`` of ``estimator`` that can end a fit before its first validation."""
    return sorted(set(estimator.get_params().get("trainer_kwargs") or {}) & set(ENDS_BEFORE_VALIDATION))


def no_validation_reason(estimator: object) -> str:
    """Why a fit of ``estimator`` recorded no validation loss, and what to change."""
    limits = validation_limits(estimator)
    if limits:
        return (f"the fit recorded no validation loss: trainer_kwargs {limits} ended it before any validation ran "
                "with these parameters; loosen them")
    return ("the fit recorded no validation loss: its validation split is empty with these parameters (too few "
            "rows or windows for val_size); raise val_size, give more data or narrow the space")


def partial_validation_reason(warning: PartialValidationWarning) -> str:
    """Why a trial whose window lengths leave some series of a panel unvalidated fails, and what to change."""
    what = str(warning).split("; they train on all")[0]  # the rest is about a fit that goes on without
    return (f"{what}; its validation loss would cover only the other series, so it cannot be ranked against "
            "trials that validate every series: give longer series, sample smaller window lengths (lookback, "
            "n_lags), or tune each series separately")


def _split_fix(y: Any, val_size: float | int) -> str:
    """The fix for a classifier's empty stratified split, which needs a sample of each class on each
    side: a class of one sample needs more data, whatever val_size; else the short side names the fix."""
    counts = pd.Series(np.asarray(y).ravel()).value_counts()
    if counts.min() < 2:
        label = counts.idxmin()
        label = label.item() if isinstance(label, np.generic) else label  # 2, not np.int64(2)
        return (f"give each class at least two samples (class {label!r} has one), one for each side of the split; "
                "no val_size can split a class of one")
    samples, classes = int(counts.sum()), len(counts)
    held_out = int(round(val_size * samples)) if isinstance(val_size, float) else val_size  # as the classifier splits
    if held_out < classes:
        return (f"give more data or a larger val_size (at least one sample of each of the {classes} classes: "
                f"val_size={classes})")
    asked = f" as it holds out {held_out}" if held_out > samples else ""  # not "it leaves -5 of the 10 samples"
    return (f"give more data or a smaller val_size (it leaves {max(samples - held_out, 0)} of the {samples} samples "
            f"for training{asked}, fewer than the {classes} classes: e.g. val_size={classes})")


#: parameters that set a forecaster's window lengths, and with them whether its validation split is empty
#: (``horizon`` too, which check_sampled refuses in a space)
WINDOW_PARAMS = frozenset({"lookback", "n_lags", "horizon"})
#: what a forecaster's network reads together with the data (a period, a cycle length, time features)
META_PARAMS = WINDOW_PARAMS | {"period", "cycle_length", "time_features"}
#: what decides whether a trainer limit (max_steps, check_val_every_n_epoch, ...) ends a fit before it validates
TRAINING_LENGTH_PARAMS = WINDOW_PARAMS | {"max_epochs", "batch_size", "trainer_kwargs"}

#: the Optuna logger that reports each failed trial (in two lines)
_OPTUNA_TRIAL_LOG = "optuna.study._optimize"


class _DropOwnFailures(logging.Filter):
    """Drop Optuna's log lines about the trials numbered in ``numbers`` of the search that runs in
    this thread (``tune`` runs its trials in the calling thread; other threads' studies number
    their trials from 0 too, and keep their lines)."""

    def __init__(self, numbers: set[int]) -> None:
        super().__init__()
        self.numbers = numbers
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread:
            return True
        message = record.getMessage()
        return not any(message.startswith(f"Trial {number} failed") for number in self.numbers)


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

    A fit that raises, ends with a non-finite validation loss (diverged training), validated
    nothing (a sampled lookback that leaves no validation windows, a step limit in
    ``trainer_kwargs``) or, with window lengths sampled, validated only some series of a panel
    (:class:`~tsrec.errors.PartialValidationWarning`: its loss covers fewer series than other
    trials') fails only its own trial: the reason goes to the trial's user attribute
    ``"error"`` and to a ``RuntimeWarning``, and the objective returns NaN, which Optuna records
    as state FAIL. A space that returns parameters the estimator does not take,
    ``val_size=0``, series shorter than the fixed window lengths of a space that samples none,
    choices that differ from those of the study's earlier trials, or processes of a multi-device
    fit that sampled different parameters (:class:`TuningSetupError`) raise at once: they are
    mistakes every trial would repeat.

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
        self.failed: set[int] = set()  # trials failed here (NaN) or raised out of: Optuna logs neither
        self.parts: list | None = None  # a forecaster's series, split once (see _parts)
        self.warned: set[tuple] = set()  # (category, text) of the warnings trials issued (see _warn_once)

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            return self._trial(trial)
        except optuna.TrialPruned:
            raise
        except BaseException:  # a KeyboardInterrupt too
            # the error stops the search and reaches the caller whole: Optuna's log of it, with its
            # traceback, would only print it twice
            self.failed.add(trial.number)
            raise

    def _trial(self, trial: optuna.Trial) -> float:
        params = check_sampled(self._sampled(trial), self.valid, type(self.estimator).__name__,
                               getattr(self.estimator, "_loss_unit_params", ()), split_params(self.estimator))
        candidate = clone_estimator(self.estimator).set_params(**params)
        check_val_size(candidate)
        check_validation_limit(candidate)
        windows = bool(params.keys() & WINDOW_PARAMS)
        if not windows and isinstance(candidate, DeepForecaster):
            meta_fixed = not params.keys() & META_PARAMS
            check_window_lengths(candidate, self._parts(candidate), trial.number, meta_fixed)
        pruning = PruningCallback(trial, monitor="val_loss")
        caught: list = []
        try:
            # the filters are process-wide: under the fit lock, another thread's tune neither sees nor restores them
            with fit_lock(), extra_callbacks([pruning]), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("error", NoValidationWarning)  # a trial without one has no score: stop it
                # the trial fails naming the limit (no_validation_reason): the fit's own warning would repeat it
                warnings.filterwarnings("ignore", message=f".*{NEVER_VALIDATED}", category=UserWarning)
                if windows:  # other window lengths validate other series: such a loss ranks nothing
                    warnings.simplefilter("error", PartialValidationWarning)
                candidate.fit(*self.data, **self.fit_params)
            # a fit on several processes is stopped, not raised out of, when the pruner says so
            pruning.check_pruned()
        except optuna.TrialPruned:
            trial.set_user_attr("epochs", pruning.epochs_validated)
            raise  # the pruner's word, not a failure
        except TuningSetupError:
            raise  # a mistake every trial would repeat
        except NoValidationWarning as err:
            return self._no_validation(trial, params, err)
        except PartialValidationWarning as err:
            return self._fail(trial, partial_validation_reason(err), err)
        except Exception as err:  # noqa: BLE001 - any training error fails this trial only
            return self._fail(trial, repr(err), err)
        finally:
            self._warn_once(caught)
        value = best_val_loss(candidate)
        trial.set_user_attr("epochs", int(candidate.history_.get("epochs", 0)))
        if value is None:
            return self._unvalidated(trial, params, candidate)
        if not math.isfinite(value):
            return self._fail(trial, f"the validation loss is not finite ({value}): training diverged", None)
        if self.best["number"] is None or value < self.best["value"]:  # ties keep the earlier trial
            self.best.update(value=value, number=trial.number, params=dict(params), estimator=candidate)
        return value

    def _warn_once(self, caught: list) -> None:
        """Issue the trial's warnings not issued by an earlier trial. Each trial's filters start
        afresh (catch_warnings forgets what was shown), so a warning about the data came once a trial."""
        for warning in caught:
            key = (warning.category, str(warning.message))
            if key not in self.warned:
                self.warned.add(key)
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno,
                                       source=warning.source)

    def _sampled(self, trial: optuna.Trial) -> object:
        """``space(trial)``; Optuna's bare refusal of choices that differ from the study's earlier
        trials' becomes a TuningSetupError naming the parameter and both sets of choices."""
        try:
            return self.space(trial)
        except ValueError as err:
            clash = distribution_clash(err, trial.study) or range_error(err)
            if clash is None:
                raise
            raise clash from err

    def _parts(self, candidate: DeepForecaster) -> list:
        """The forecaster's data as (key, series) pairs, read once for the length checks of all trials."""
        if self.parts is None:
            self.parts = split_panel(candidate._fit_data(*self.data))
        return self.parts

    def _no_validation(self, trial: optuna.Trial, params: dict, warning: NoValidationWarning) -> float:
        """Fail a trial whose validation split was empty, before it trained; with no window length
        sampled, every trial would repeat it: stop the search."""
        reason = str(warning).split("; training runs")[0]  # the rest is about a fit that goes on without
        if params.keys() & WINDOW_PARAMS:
            return self._fail(trial, reason, warning)
        forecaster, val_size = isinstance(self.estimator, DeepForecaster), self.estimator.get_params()["val_size"]
        why = ("the search space samples no window length (lookback, n_lags)" if forecaster
               else "a classifier's split depends on none of the sampled parameters")
        raise TuningSetupError(
            f"trial {trial.number}: {reason}; every trial would repeat it, as {why}: "
            f"{'give more data or a val_size that does both' if forecaster else _split_fix(self.data[1], val_size)}"
        ) from warning

    def _unvalidated(self, trial: optuna.Trial, params: dict, candidate: object) -> float:
        """Fail a trial whose fit a trainer limit ended before it validated; where the space samples
        nothing that changes the fit's length, every trial would repeat it: stop the search."""
        reason = no_validation_reason(candidate)
        limits = validation_limits(candidate)
        if params.keys() & TRAINING_LENGTH_PARAMS or not limits or "max_time" in limits:  # time varies by trial
            return self._fail(trial, reason, None)
        # horizon changes the windows too, but a space may not sample it (check_sampled): not offered; nor the window
        # lengths the estimator does not take (a classifier has none, AR-Net no lookback)
        offered = sorted((TRAINING_LENGTH_PARAMS - {"horizon"}) & self.valid)
        raise TuningSetupError(f"trial {trial.number}: {reason}; every trial would repeat it, as the search space "
                               f"samples none of {offered}")

    def _fail(self, trial: optuna.Trial, reason: str, error: BaseException | None) -> float:
        trial.set_user_attr("error", reason)
        self.failed.add(trial.number)
        if self.first_failure is None:
            self.first_failure = (f"trial {trial.number}: {reason}", error)
        warn_user(f"trial {trial.number} failed: {reason}; the search goes on", RuntimeWarning)
        return math.nan  # Optuna stores a NaN result as a FAIL trial and goes on

    @contextlib.contextmanager
    def own_failures_unlogged(self) -> Iterator[None]:
        """Drop Optuna's log lines about the trials this objective failed while the block runs.

        For the NaN that fails a trial Optuna logs "... because of the following error: The value
        nan is not acceptable" and "... failed with value nan", which name no cause; the
        RuntimeWarning of :meth:`_fail` does. For a trial whose objective raised, the error stops
        the search and reaches the caller, traceback and all: Optuna's log would repeat it. Other
        searches' lines are kept.
        """
        log_filter = _DropOwnFailures(self.failed)
        logger = logging.getLogger(_OPTUNA_TRIAL_LOG)
        logger.addFilter(log_filter)
        try:
            yield
        finally:
            logger.removeFilter(log_filter)
