"""The Lightning ``Trainer`` of one tsrec fit: built quiet, run, and its best weights restored.

:mod:`tsrec.estimators._engine` owns the training module and the loop around these steps; this
module owns what talks to the Trainer itself: Lightning's loggers and hints, tsrec's callbacks
(best checkpoint, early stopping, weight average), Ctrl+C, and handing the best checkpoint's
weights to every process of a multi-device fit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import (
    EarlyStopping,
    ModelCheckpoint,
    ProgressBar,
    TQDMProgressBar,
    WeightAveraging,
)
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from lightning.pytorch.trainer.states import TrainerStatus
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from tsrec._warn import warn_user
from tsrec.estimators._batches import BatchGroups
from tsrec.estimators._ema import WarmStartEMA

if TYPE_CHECKING:  # the engine imports this module
    from tsrec.estimators._training import TrainingConfig

# Lightning's info loggers stay at WARNING even with verbose=True: verbose means tsrec's progress
# bar and summary line, not Lightning's hardware banners, hints and adverts
_NOISY_LOGGERS = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.pytorch.accelerators.cuda",
    "lightning.fabric.utilities.seed",
    "lightning.pytorch.utilities.seed",
    "lightning.fabric.utilities.distributed",
)
_NOISY_MESSAGES = (
    ".*does not have many workers.*",
    ".*The number of training batches.*",
    ".*GPU available but not used.*",
    ".*Checkpoint directory.*exists and is not empty.*",
    ".*torch.nn.utils.weight_norm.*",
    ".*LeafSpec.*",
    ".*no `val_dataloader`.*",
    # TrainingModule sums the validation loss over the processes itself before logging it
    ".*sync_dist=True.*",
    # a fit that a limit ends before its first validation: warn_never_validated says so in tsrec's terms
    r".*`ModelCheckpoint\(monitor='val_loss'\)` could not find the monitored key.*",
)
#: the short precisions as Lightning's current names: it warned that the short ones are "supported for
#: historical reasons but its usage is discouraged", where docs/parameters.md lists them as aliases
_LIGHTNING_PRECISIONS = {"64": "64-true", "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"}
#: trainer_kwargs that can end a fit before its first validation
ENDS_BEFORE_VALIDATION = ("max_steps", "max_time", "limit_train_batches", "limit_val_batches",
                          "check_val_every_n_epoch", "val_check_interval")
#: what :func:`warn_never_validated` says; tuning, whose failed trial says it in its own terms, filters it
NEVER_VALIDATED = "before any validation ran"


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's banners and hints, and restore the settings a Trainer changes, after."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    # Trainer(deterministic=True) also resets warn-only mode, cudnn.benchmark and cuBLAS's workspace
    deterministic = (torch.are_deterministic_algorithms_enabled(),
                     torch.is_deterministic_algorithms_warn_only_enabled())
    benchmark, workspace = torch.backends.cudnn.benchmark, os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    # 'ddp' sets the thread count to the cores per process (one process: all); its process group and
    # variables (MASTER_PORT, LOCAL_RANK, ...) stay, so that a script's next fit reuses its processes
    threads = torch.get_num_threads()
    try:
        with warnings.catch_warnings():
            for lg in loggers:
                lg.setLevel(logging.WARNING)
            for message in _NOISY_MESSAGES:
                warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])
        torch.backends.cudnn.benchmark = benchmark
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace


def own_callbacks(config: TrainingConfig, has_val: bool, folder: str) -> list:
    """tsrec's callbacks: a weight average if asked for; with validation data the best
    checkpoint (kept in ``folder``) and early stopping."""
    ema = [] if config.ema_decay is None else [WarmStartEMA(config.ema_decay, config.ema_start_step)]
    if not has_val:
        return ema
    # a weight average (tsrec's or the user's) enters a checkpoint only through its
    # on_save_checkpoint hook, which Lightning skips for weights-only checkpoints: the best
    # checkpoint must hold what was validated
    averaged = ema or [c for c in config.trainer_kwargs.get("callbacks", []) if isinstance(c, WeightAveraging)]
    checkpoint = ModelCheckpoint(dirpath=folder, monitor="val_loss", mode="min", save_top_k=1,
                                 save_weights_only=not averaged)
    callbacks: list = [*ema, checkpoint]
    if config.patience:
        # EarlyStopping counts validations: with one every N epochs, patience epochs are patience / N of them
        every = config.trainer_kwargs.get("check_val_every_n_epoch") or 1
        checks = -(-config.patience // every)
        # strict=False: a run cut short by trainer_kwargs (e.g. max_steps) may end before any validation
        callbacks.append(EarlyStopping(monitor="val_loss", mode="min", patience=checks, strict=False))
    return callbacks


def warn_never_validated(config: TrainingConfig, epochs: int) -> None:
    """A fit with validation windows that ended before validating any: no best epoch to keep."""
    limits = sorted(set(config.trainer_kwargs) & set(ENDS_BEFORE_VALIDATION))
    cause = f"trainer_kwargs {limits}" if limits else "a callback stopped it"
    fix = ("check_val_every_n_epoch at most max_epochs, a larger max_steps or max_time" if limits
           else "stop it after a validation, e.g. in on_validation_end")
    warn_user(
        f"the fit ended after {epochs} epoch(s) {NEVER_VALIDATED} ({cause}): history_ has no val_loss and the "
        f"last weights are kept, not the best; let the fit reach the end of an epoch ({fix})"
    )


class MinibatchProgressBar(TQDMProgressBar):
    """Lightning's progress bar, counting minibatches where the engine hands Lightning a group of
    them per step (:class:`BatchGroups`): otherwise it would count groups, and its rate would be
    steps per second, a few times fewer than the minibatches trained."""

    @property
    def total_train_batches(self) -> int | float:
        groups = _groups(self.trainer.train_dataloader)
        return len(groups.loader) if groups else super().total_train_batches

    @property
    def total_val_batches_current_dataloader(self) -> int | float:
        groups = _groups(self.trainer.val_dataloaders)
        return len(groups.loader) if groups else super().total_val_batches_current_dataloader

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: object, batch: object,
                           batch_idx: int) -> None:
        done = _minibatches_done(trainer.train_dataloader, batch_idx)
        super().on_train_batch_end(trainer, pl_module, outputs, batch, done - 1)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # the module logs train_loss after this bar's own epoch-end hook, so the bar ended showing
        # the epoch before's beside the last val_loss; Lightning has the last one by now
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))
        super().on_train_end(trainer, pl_module)

    def init_validation_tqdm(self) -> object:
        # no bar of its own: a short pass an epoch, whose loss the training bar shows; its bar added lines of
        # "Validation: 0/?" with cursor moves to every epoch of a log or a saved notebook
        return Tqdm(disable=True)

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: object,
                                batch: object, batch_idx: int, dataloader_idx: int = 0) -> None:
        done = _minibatches_done(trainer.val_dataloaders, batch_idx)
        super().on_validation_batch_end(trainer, pl_module, outputs, batch, done - 1, dataloader_idx)


def _groups(loader: object) -> BatchGroups | None:
    return loader if isinstance(loader, BatchGroups) else None


def _minibatches_done(loader: object, step: int) -> int:
    """Minibatches trained or validated after Lightning step ``step`` (0-based) of ``loader``."""
    groups = _groups(loader)
    return min((step + 1) * groups.size, len(groups.loader)) if groups else step + 1


def make_trainer(config: TrainingConfig, callbacks: list, has_val: bool) -> pl.Trainer:
    """A Trainer with tsrec's quiet defaults; ``config.trainer_kwargs`` overrides any of them."""
    options = dict(
        max_epochs=config.max_epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        precision=_LIGHTNING_PRECISIONS.get(str(config.precision), config.precision),
        deterministic=True,
        logger=False,
        # Lightning refuses a user's ModelCheckpoint (on another metric) when this is False, whether
        # it comes through trainer_kwargs or extra_callbacks
        enable_checkpointing=has_val or any(isinstance(c, ModelCheckpoint) for c in [
            *callbacks, *config.trainer_kwargs.get("callbacks", [])]),
        # a progress bar among the user's callbacks is meant to show, verbose or not
        enable_progress_bar=config.verbose or any(isinstance(c, ProgressBar) for c in config.trainer_kwargs.get(
            "callbacks", [])),
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=callbacks,
    )
    if not has_val:
        options["limit_val_batches"] = 0
    extra = dict(config.trainer_kwargs)
    # the user's callbacks (a list, from check_trainer_kwargs) join tsrec's (checkpoint, early
    # stopping, pruning) instead of replacing them
    users = extra.pop("callbacks", [])
    if not has_val:
        _check_nothing_monitors_val_loss(users)
    bar = [MinibatchProgressBar()] if config.verbose and not any(isinstance(c, ProgressBar) for c in users) else []
    options.update(extra, callbacks=[*callbacks, *bar, *users])
    trainer = _trainer(options, config)
    unread = _unread_processes(trainer)
    if unread is None:
        return trainer
    where, what, fix = unread
    if config.devices != "auto":
        raise ValueError(f"with devices={config.devices!r} here ({where}), {what}; {fix}")
    warn_user(
        f"devices='auto' found {trainer.num_devices} devices, but here ({where}) {what}; training on one device "
        "(pass devices=1 to say so, or fit from a script for several)"
    )
    return _trainer({**options, "devices": 1}, config)


def _trainer(options: dict, config: TrainingConfig) -> pl.Trainer:
    try:
        return pl.Trainer(**options)
    except (MisconfigurationException, ModuleNotFoundError, RuntimeError, TypeError, ValueError) as err:
        # e.g. accelerator="gpu" without a GPU: Lightning's message names neither the parameter nor a fix
        settings = f"accelerator={config.accelerator!r}, devices={config.devices!r}, precision={config.precision!r}"
        extra = {key for key in config.trainer_kwargs if key != "callbacks"}
        given = f", trainer_kwargs keys {sorted(extra)}" if extra else ""
        reason = str(err).strip().splitlines()[0].rstrip(".")
        device = any(word in reason.lower() for word in ("accelerator", "gpu", "cuda", "mps", "tpu"))
        hint = " (accelerator='auto' uses a GPU only where there is one)" if device else ""
        raise ValueError(
            f"lightning.Trainer cannot train with {settings}{given}: {reason}; change the setting it names{hint}"
        ) from err


def _unread_processes(trainer: pl.Trainer) -> tuple[str, str, str] | None:
    """Where this process is, what Lightning's other processes would do, and the fix, when several
    devices cannot train here; None when they can (or there is one device)."""
    launcher = trainer.strategy.launcher
    method = getattr(launcher, "_start_method", None)
    started = {"spawn": "spawned", "fork": "forked", "forkserver": "forked"}.get(method)
    if started:
        # a notebook or REPL: Lightning picks ddp_fork by itself, whose parent gets the weights back
        # but not the best validation score or the history (as the fork strategies check_trainer_kwargs refuses)
        return ("a notebook or an interactive session",
                f"Lightning trains in {started} child processes, whose best validation score and history tsrec "
                "cannot read back",
                "fit on one device here (devices=1), or on several from a script (a .py file), where Lightning uses "
                "'ddp'")
    # one process, or processes a cluster (or this script's first ddp fit) started already: nothing to start
    starts = (type(launcher).__name__ == "_SubprocessScriptLauncher" and launcher.num_processes > 1
              and not launcher.cluster_environment.creates_processes_externally)
    where = _not_rerunnable() if starts else None
    if where is None:
        return None
    # 'ddp' starts the other devices' processes by running this program's command line again: there it
    # is a worker's or python -c's, which fails in the child, and Lightning then kills this process
    return (where[0], "Lightning would start a process per device by running this program's command line again, "
                      "which cannot be run again (Lightning would then kill this process)", where[1])


#: packages whose module a process runs to do another program's work (loky's is joblib.externals.loky...)
_WORKER_MODULES = ("joblib", "loky", "multiprocessing", "concurrent", "distributed", "dask")


def _not_rerunnable() -> tuple[str, str] | None:
    """Where this process runs and the fix, if Lightning's 'ddp' launcher could not run its command again."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    one_device = "fit on one device here (devices=1), or on several from a script (a .py file)"
    if spec is not None:
        if spec.name.split(".")[0] in _WORKER_MODULES:
            return (f"a worker process ({spec.name}), e.g. of GridSearchCV or cross_val_score with n_jobs > 1",
                    f"{one_device} with n_jobs=1")
        return None
    script = sys.argv[0] if sys.argv else ""
    started = getattr(main, "__file__", None) or ""
    if script not in ("", "-", "-c") and os.path.isfile(started) and not _same_file(script, started):
        # Lightning runs os.path.abspath(sys.argv[0]): from the folder the script moved to, no such file,
        # or another program of that name
        return (f"a script started as {script!r} from another working folder than this one, {os.getcwd()}",
                "start the script by its absolute path, or change folder (os.chdir) after the fit")
    if script in ("", "-", "-c") or not os.path.isfile(script):
        return (f"code run by python -c, from stdin or by a worker process (its command line is {sys.argv[:1]})",
                f"{one_device} with n_jobs=1")
    return None


def _same_file(path: str, other: str) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:  # no such file here
        return False


def _check_nothing_monitors_val_loss(callbacks: list) -> None:
    """Refuse a user's callback that needs the val_loss of a fit without validation data (val_size=0,
    or too little data for a validation split, which the fit has warned of): Lightning would
    stop the fit after its first epoch with an error about a missing metric."""
    for callback in callbacks:
        if getattr(callback, "monitor", None) == "val_loss" and getattr(callback, "strict", True):
            raise ValueError(
                f"trainer_kwargs callback {type(callback).__name__} monitors 'val_loss', but this fit has no "
                "validation data (val_size=0; or else too little data to hold some back, and the "
                "NoValidationWarning above says what is short); remove the callback, pass it with strict=False, or "
                "give val_size > 0 and the data that warning asks for"
            )


def fit(trainer: pl.Trainer, module: pl.LightningModule, train_loader: object, val_loader: object) -> None:
    """``trainer.fit``, with Ctrl+C coming out as the KeyboardInterrupt it was.

    Lightning catches a KeyboardInterrupt, shuts the fit down and calls ``sys.exit(1)``, which
    would end a notebook's kernel or a caller's ``except KeyboardInterrupt`` cleanup; any other
    SystemExit passes through unchanged.
    """
    try:
        trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader)
    except MisconfigurationException as err:  # trainer_kwargs that only the data show wrong (limit_*_batches)
        reason = str(err).strip().rstrip(".")
        if "no logger" in reason:  # tsrec trains without one unless asked (LearningRateMonitor needs one)
            reason += ("; pass one with the callback, e.g. trainer_kwargs={'logger': "
                       "lightning.pytorch.loggers.CSVLogger('logs'), 'callbacks': [...]}")
        raise ValueError(f"lightning refused trainer_kwargs for this data: {reason}") from err
    except SystemExit as stop:
        interrupt = stop.__context__  # sys.exit(1) is called while handling the interrupt
        if trainer.state.status == TrainerStatus.INTERRUPTED and isinstance(interrupt, KeyboardInterrupt):
            raise interrupt from None
        raise


def restore_best(module: pl.LightningModule, callbacks: list, trainer: pl.Trainer) -> float | None:
    """Load the best checkpoint's weights into ``module`` in every process; its val_loss, or None.
    ``callbacks``: tsrec's own (:func:`own_callbacks`), not a user's checkpoint on another metric.

    Only the first process writes checkpoints, into its own temporary folder (perhaps on another
    machine), so it reads the best one and broadcasts the weights: a no-op on one device.
    """
    checkpoint = next((c for c in callbacks if isinstance(c, ModelCheckpoint)), None)
    if checkpoint is None:
        return None
    best = None
    if trainer.is_global_zero and checkpoint.best_model_path:
        # written by this fit into its own temporary folder; a full checkpoint (a weight average's)
        # also holds the callbacks' states, of any type (a user's NumPy scalar), which
        # weights_only=True refuses
        state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=checkpoint.save_weights_only)
        best = (state["state_dict"], float(checkpoint.best_model_score))
    best = trainer.strategy.broadcast(best)
    if best is None:
        return None
    module.load_state_dict(best[0])
    return unrounded_score(best[1], getattr(module, "history", []))


def unrounded_score(score: float, history: list[float]) -> float:
    """The validation loss in ``history`` that Lightning logged, rounded to float32, as ``score``.

    ``self.log`` keeps a float32 copy, so the checkpoint's best score can differ from the loss
    itself by ~1e-8 relative. The first epoch that rounds to it is the one the checkpoint saved
    (it saves on a strict improvement); a score no epoch rounds to is returned as it is.
    """
    rounded = np.float32(score)
    return next((loss for loss in history if np.float32(loss) == rounded), score)

