"""Optuna's Lightning pruning callback as tune's trials use it, on one process or on several."""

from __future__ import annotations

import warnings

import lightning.pytorch as pl
import optuna
from optuna_integration import PyTorchLightningPruningCallback

from tsrec.errors import TuningSetupError

# optuna-integration 5.x imports ``lightning.pytorch`` (the package tsrec's engine trains with),
# so its callback is a Lightning ``Callback`` the Trainer accepts as is. It reads ``val_loss``
# from ``trainer.callback_metrics`` after each validation epoch (tsrec's TrainingModule logs it
# there), reports it with the epoch as the step, and raises ``optuna.TrialPruned`` out of
# ``Trainer.fit``; Lightning re-raises it after its teardown, so it reaches the objective intact.
# A fit on several processes is the exception: see PruningCallback.


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
            # Lightning ignores should_stop below trainer_kwargs' min_epochs / min_steps: lifted, the trial
            # stops at this epoch, as a one-process fit (where the callback raises) does
            trainer.fit_loop.min_epochs = 0
            trainer.fit_loop.epoch_loop.min_steps = None
            trainer.should_stop = True
            self.pruned_epoch = epoch

    def check_pruned(self) -> None:
        """Raise ``optuna.TrialPruned`` if the pruner stopped this multi-process fit; call it after ``fit``.

        On one process the callback has raised already, so this does nothing.
        """
        if self.pruned_epoch is not None:
            raise optuna.TrialPruned(f"Trial was pruned at epoch {self.pruned_epoch}.")
