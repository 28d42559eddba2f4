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

import lightning.pytorch as pl
import numpy as np
import optuna
import pandas as pd
from optuna_integration import PyTorchLightningPruningCallback

from tsrec._warn import warn_user
from tsrec.estimators._engine import extra_callbacks
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._seeding import fit_lock
from tsrec.estimators._series import split_panel
from tsrec.estimators._trainer import ENDS_BEFORE_VALIDATION, NEVER_VALIDATED
from tsrec.errors import NoValidationWarning, PartialValidationWarning, TuningSetupError
from tsrec.tuning._checks import (
    check_sampled, check_val_size, check_validation_limit, check_window_lengths, clone_estimator, distribution_clash,
    split_params,
)

# optuna-integration 5.x imports ``lightning.pytorch`` (the package tsrec's engine trains with),
# so its callback is a Lightning ``Callback`` the Trainer accepts as is. It reads ``val_loss``
# from ``trainer.callback_metrics`` after each validation epoch (tsrec's TrainingModule logs it
# there), reports it with the epoch as the step, and raises ``optuna.TrialPruned`` out of
# ``Trainer.fit``; Lightning re-raises it after its teardown, so it reaches the objective intact.
# A fit on several processes is the exception: see PruningCallback.


def best_val_loss(estimator: object) -> float | None:
    """The fitted estimator's best validation loss, or None when it validated nothing."""
    history = getattr(estimator, "history_", None)
    value = history.get("best_val_loss") if isinstance(history, dict) else None
    return None if value is None else float(value)


def no_validation_reason(estimator: object) -> str:
    """Why a fit of ``estimator`` recorded no validation loss, and what to change."""
    limits = sorted(set(estimator.get_params().get("trainer_kwargs") or {}) & set(ENDS_BEFORE_VALIDATION))
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


def _split_fix(y: Any) -> str:
    """The fix for a classifier's empty stratified split: a class of one sample needs more data, whatever val_size."""
    counts = pd.Series(np.asarray(y).ravel()).value_counts()
    if counts.min() < 2:
        label = counts.idxmin()
        label = label.item() if isinstance(label, np.generic) else label  # 2, not np.int64(2)
        return (f"give each class at least two samples (class {label!r} has one), one for each side of the split; "
                "no val_size can split a class of one")
    return "give more data or a larger val_size"


#: parameters that set a forecaster's window lengths, and with them whether its validation split is empty
#: (``horizon`` too, which check_sampled refuses in a space)
WINDOW_PARAMS = frozenset({"lookback", "n_lags", "horizon"})

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


class PruningCallback(PyTorchLightningPruningCallback):
    """Optuna's Lightning pruning callback, for fits on one process or on several (``strategy="ddp"``).

    On one process it is Optuna's callback unchanged: it reports the validation loss after every
    epoch and raises ``optuna.TrialPruned`` out of ``Trainer.fit`` when the pruner says so.

    On several processes an exception raised in one would leave the others waiting for it, so
    the fit stops instead and :meth:`check_pruned`, called after ``fit``, raises
    ``optuna.TrialPruned`` on every process. Optuna's own multi-process path is not used: it
    is written for processes started by spawning, where the trial is pickled into processes
    other than the one running the search and they report through an RDB storage. tsrec allows
    only ``strategy="ddp"`` launched from a script (spawn and fork are refused, see
    ``tsrec.estimators._params``): Lightning runs the whole script again for every other
    process, so every process runs ``tune`` with its own study and trains its own trial. There
    Optuna's path, even with ``check_pruned`` called, records a pruned trial as COMPLETE with a
    partial score in every process but the first, and fails every trial of an in-memory study
    (``tune``'s default). Here the first process reports the loss and asks the pruner, and both
    the loss and the verdict are broadcast, so every process stops at the same epoch and records
    the same trial: their samplers see the same history and keep sampling the same parameters.
    Any study storage works.

    Parameters
    ----------
    trial : optuna.Trial
        The trial the fit belongs to.
    monitor : str
        The metric in ``trainer.callback_metrics`` to report after every validation epoch.

    Examples
    --------
    >>> import optuna
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> from tsrec.estimators._engine import extra_callbacks
    >>> trial = optuna.create_study().ask()
    >>> callback = PruningCallback(trial, monitor="val_loss")
    >>> with extra_callbacks([callback]):
    ...     _ = ARNetForecaster(n_lags=4, max_epochs=2, val_size=0.25).fit(make_ar((0.5,), n_samples=120))
    >>> callback.check_pruned()  # not pruned: nothing happens
    >>> sorted(trial.study.trials[0].intermediate_values)
    [0, 1]
    """

    def __init__(self, trial: optuna.Trial, monitor: str) -> None:
        super().__init__(trial, monitor)
        self.pruned_epoch: int | None = None  # the epoch the pruner stopped a multi-process fit at
        self.epochs_validated = 0  # for a pruned trial's "epochs" (its fit records no history)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Optuna's version switches to its RDB-storage path for any distributed strategy; that
        # path is replaced here (see the class docstring), so the in-process one stays selected.
        # Several processes are told by the world size: 'ddp' on one device is one process.
        self.is_ddp_backend = False
        self.pruned_epoch = None
        self.epochs_validated = 0

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # before Lightning wraps the module in DistributedDataParallel, which fails obscurely
        # (or trains silently wrong) when the processes built different networks
        if trainer.world_size > 1:
            self._check_same_params(trainer)

    def _check_same_params(self, trainer: pl.Trainer) -> None:
        """Every process samples the same parameters for the trial, or all raise TuningSetupError."""
        first = trainer.strategy.broadcast(self._trial.params)
        if not trainer.strategy.reduce_boolean_decision(first != self._trial.params, all=False):
            return
        # a process sees only its own parameters and the first process's
        other = "another process: others" if trainer.is_global_zero else (
            f"process {trainer.global_rank}: {self._trial.params}")
        raise TuningSetupError(
            f"the {trainer.world_size} processes of this multi-device fit sampled different parameters for "
            f"trial {self._trial.number} (process 0: {first}; {other}). Lightning "
            "runs the script again for every process, so each runs tune and must sample what the others do: "
            "seed the sampler (e.g. study=optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0)), or "
            "leave study=None and use random_state) and give each process its own study (do not share one "
            "study_name between them)"
        )

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.epochs_validated = pl_module.current_epoch + 1
        if trainer.world_size == 1:
            super().on_validation_end(trainer, pl_module)
            return
        if trainer.sanity_checking:  # Lightning's sanity check is not an epoch (tsrec runs none anyway)
            return
        epoch = pl_module.current_epoch
        verdict = None
        if trainer.is_global_zero:
            score = trainer.callback_metrics.get(self.monitor)
            score = None if score is None else float(score)
            if score is not None:
                self._trial.report(score, step=epoch)
            verdict = (score, score is not None and self._trial.should_prune())
        # the first process's loss and verdict, so that every process records and does the same
        score, prune = trainer.strategy.broadcast(verdict)
        if score is None:
            warnings.warn(
                f"The metric '{self.monitor}' is not in the evaluation logs for pruning. "
                "Please make sure you set the correct metric name."
            )
            return
        if not trainer.is_global_zero:
            self._trial.report(score, step=epoch)
        if prune:
            trainer.should_stop = True
            self.pruned_epoch = epoch

    def check_pruned(self) -> None:
        """Raise ``optuna.TrialPruned`` if the pruner stopped this multi-process fit; call it after ``fit``.

        On one process the callback has raised already, so this does nothing.
        """
        if self.pruned_epoch is not None:
            raise optuna.TrialPruned(f"Trial was pruned at epoch {self.pruned_epoch}.")


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
            check_window_lengths(candidate, self._parts(candidate), trial.number)
        pruning = PruningCallback(trial, monitor="val_loss")
        try:
            # the filters are process-wide: under the fit lock, another thread's tune neither sees nor restores them
            with fit_lock(), extra_callbacks([pruning]), warnings.catch_warnings():
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
        value = best_val_loss(candidate)
        trial.set_user_attr("epochs", int(candidate.history_.get("epochs", 0)))
        if value is None:
            return self._fail(trial, no_validation_reason(candidate), None)
        if not math.isfinite(value):
            return self._fail(trial, f"the validation loss is not finite ({value}): training diverged", None)
        if self.best["number"] is None or value < self.best["value"]:  # ties keep the earlier trial
            self.best.update(value=value, number=trial.number, params=dict(params), estimator=candidate)
        return value

    def _sampled(self, trial: optuna.Trial) -> object:
        """``space(trial)``; Optuna's bare refusal of choices that differ from the study's earlier
        trials' becomes a TuningSetupError naming the parameter and both sets of choices."""
        try:
            return self.space(trial)
        except ValueError as err:
            clash = distribution_clash(err, trial.study)
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
        forecaster = isinstance(self.estimator, DeepForecaster)
        why = ("the search space samples no window length (lookback, n_lags)" if forecaster
               else "a classifier's split depends on none of the sampled parameters")
        raise TuningSetupError(
            f"trial {trial.number}: {reason}; every trial would repeat it, as {why}: "
            f"{'give more data or a larger val_size' if forecaster else _split_fix(self.data[1])}"
        ) from warning

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
