"""Checks of ``trainer_kwargs``, the extra ``lightning.Trainer`` arguments an estimator passes on.

Each refusal names a Trainer argument that tsrec sets itself, one that would train nothing, be
ignored, hang or end the fit without the validation tsrec reads, or a value Lightning would take
for another one (``"yes"`` read as True) or fail on deep inside a fit.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from tsrec._checks import check_flag, check_float, check_int
from tsrec._warn import import_lightning, warn_user
from tsrec.errors import ParameterError

# Trainer arguments tsrec sets itself: each maps to the estimator parameter that controls it (or
# None where tsrec keeps it fixed for reproducible, checkpointed training)
OWN_TRAINER_ARGS = {
    "max_epochs": "max_epochs", "accelerator": "accelerator", "devices": "devices", "precision": "precision",
    "enable_progress_bar": "verbose", "deterministic": None, "enable_checkpointing": None,
    "num_sanity_val_steps": None,
}
# Trainer counts as (smallest allowed value, why): max_steps=-1 is Lightning's "no limit"
TRAINER_COUNTS = {
    "accumulate_grad_batches": (1, ""), "num_nodes": (1, ""), "min_epochs": (0, ""), "min_steps": (0, ""),
    "max_steps": (-1, " (-1 for no limit)"), "log_every_n_steps": (1, ""), "check_val_every_n_epoch": (1, ""),
}
# Trainer flags Lightning reads as truthy or passes to torch: "yes" or "x" would silently read as True
TRAINER_FLAGS = (
    "benchmark", "inference_mode", "use_distributed_sampler", "detect_anomaly", "sync_batchnorm",
    "enable_model_summary", "enable_autolog_hparams",
)


def check_trainer_kwargs(kwargs: object, patience: int | None = None, max_epochs: int | None = None,
                         warn: bool = True) -> dict:
    """Extra ``lightning.Trainer`` arguments: known ones, none that tsrec sets itself, none that
    would train nothing or be ignored (``min_epochs`` above ``max_epochs``), and no callback that
    duplicates tsrec's own (see :func:`_check_callbacks`). ``warn``: of a smoke test (``fast_dev_run``); a
    check that ``fit`` repeats warns once, the second time.
    """
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise ParameterError(f"trainer_kwargs must be a dict or None, got {type(kwargs).__name__}")
    # NumPy's scalars as Python's (a grid's values): Lightning refused np.int64 counts and np.float32 limits
    # or clips with messages about IterableDatasets, and timedelta an np.int64 in max_time's dict
    kwargs = {key: _python_numbers(value) for key, value in kwargs.items()}
    import_lightning()  # the user's warning filters stay ahead of Lightning's
    from lightning.pytorch import Trainer  # noqa: PLC0415 - imported for trainer_kwargs only (see _training)

    known = inspect.signature(Trainer.__init__).parameters
    for key in kwargs:
        if key not in known:
            raise ParameterError(f"trainer_kwargs has {key!r}, which is not a lightning.Trainer argument; remove it")
        if key in OWN_TRAINER_ARGS:
            owner = OWN_TRAINER_ARGS[key]
            fix = f"use the estimator's {owner}= instead" if owner else "tsrec sets it itself; remove it"
            raise ParameterError(f"trainer_kwargs may not set {key!r}: {fix}")
    if kwargs.get("limit_val_batches") == 0:
        raise ParameterError("trainer_kwargs may not set limit_val_batches=0: use the estimator's val_size=0 instead")
    if kwargs.get("barebones"):
        raise ParameterError(
            "trainer_kwargs may not set barebones=True: it turns off the logging and checkpointing tsrec reads "
            "(each epoch's val_loss, the best weights); remove it, and set verbose=False for a quiet fit"
        )
    interval = kwargs.get("val_check_interval")  # an int counts batches: 1 validates after every batch
    if interval is not None and not (isinstance(interval, float) and interval == 1.0):
        raise ParameterError(
            f"trainer_kwargs may not set val_check_interval={interval!r}: tsrec validates once "
            "an epoch, as history_ (a val_loss per epoch) and patience (in epochs) count; validate less often "
            "with check_val_every_n_epoch=N"
        )
    if warn and kwargs.get("fast_dev_run"):  # a smoke test, as in Lightning; said, as it ended the fit without a word
        warn_user(
            f"trainer_kwargs fast_dev_run={kwargs['fast_dev_run']!r} runs a smoke test, as in Lightning: a batch "
            "or a few of training and validation, whatever max_epochs; no best weights are kept or restored "
            "(history_ has no best_val_loss). For a short fit, set max_epochs=1 and limit_train_batches=N instead"
        )
    if kwargs.get("overfit_batches"):
        raise ParameterError(
            "trainer_kwargs may not set overfit_batches: Lightning swaps in a sampler of single windows, which "
            "tsrec's whole-batch loaders cannot take; fit on a short series (or set limit_train_batches=N) instead"
        )
    _check_launcher(kwargs.get("strategy"))
    _check_trains_something(kwargs)
    flags = _check_kinds(kwargs)
    least = kwargs.get("min_epochs")  # a NumPy integer too, as a grid gives it
    if max_epochs is not None and isinstance(least, numbers.Integral) and least > max_epochs:  # stops at max_epochs
        raise ParameterError(f"trainer_kwargs min_epochs={least} exceeds the estimator's max_epochs={max_epochs}, "
                             "which ends the fit first; lower min_epochs or raise max_epochs")
    checked = {**kwargs, **flags}  # NumPy's bools as bools: torch's set_anomaly_enabled refuses np.True_
    if "callbacks" in checked:  # a list, as the Trainer builder joins them to tsrec's own
        checked["callbacks"] = _check_callbacks(checked["callbacks"], patience)
    return checked


def _python_numbers(value: object) -> object:
    """``value`` with NumPy scalars as Python's, also inside a dict (``max_time={"minutes": np.int64(1)}``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: _python_numbers(item) for key, item in value.items()}
    return value


def _check_kinds(kwargs: dict) -> dict:
    """Refuse values Lightning would read as another one (a string flag as True, ``limit_train_batches=True``
    as one batch), fail on deep inside a fit (``logger="csv"``), or wait on for 30 minutes (nodes never
    started); return the flags given, as bools."""
    flags = {key: check_flag(f"trainer_kwargs[{key!r}]", kwargs[key])
             for key in TRAINER_FLAGS if kwargs.get(key) is not None}
    for key in ("limit_train_batches", "limit_val_batches"):
        if type(kwargs.get(key)).__name__ in ("bool", "bool_"):  # Python's and NumPy's
            raise ParameterError(f"trainer_kwargs[{key!r}] must be a fraction in (0, 1] or a number of batches, got "
                                 f"{kwargs[key]!r}")
    _check_logger(kwargs.get("logger"))
    if (kwargs.get("num_nodes") or 1) > 1 and "plugins" not in kwargs and not _in_a_cluster():
        raise ParameterError(
            f"trainer_kwargs num_nodes={kwargs['num_nodes']} needs a cluster launcher (SLURM, torchrun, LSF or MPI, "
            "or a ClusterEnvironment in plugins=) that starts this script on each node; none was detected, so the "
            "fit would wait for the other nodes until torch.distributed's timeout (30 minutes). Run it under the "
            "launcher, or remove num_nodes"
        )
    return flags


def _check_logger(logger: object) -> None:
    from lightning.pytorch.loggers import Logger  # noqa: PLC0415 - as in check_trainer_kwargs

    loggers = list(logger) if isinstance(logger, (list, tuple)) else [logger]
    if logger is not None and not isinstance(logger, bool) and not all(isinstance(x, Logger) for x in loggers):
        raise ParameterError(
            f"trainer_kwargs['logger'] must be True, False, a lightning Logger or a list of them, got {logger!r}; "
            "e.g. lightning.pytorch.loggers.CSVLogger('logs')"
        )


def _in_a_cluster() -> bool:
    """Whether a launcher Lightning knows started this process as one of several nodes."""
    from lightning.fabric.plugins import environments  # noqa: PLC0415 - as in check_trainer_kwargs

    # Kubeflow's cannot be detected: it comes as a ClusterEnvironment in plugins=, which skips this check
    kinds = ("SLURMEnvironment", "TorchElasticEnvironment", "LSFEnvironment", "MPIEnvironment")
    return any(getattr(environments, kind).detect() for kind in kinds)


def _check_launcher(strategy: object) -> None:
    """Refuse strategies that train in spawned or forked processes: Lightning hands the parent
    back the weights, but not the best validation score or the training history tsrec reads."""
    method = getattr(strategy, "_start_method", None)
    named = isinstance(strategy, str) and any(word in strategy for word in ("spawn", "fork", "notebook"))
    if named or method in ("spawn", "fork", "forkserver"):
        raise ParameterError(
            f"trainer_kwargs strategy {strategy!r} trains in child processes, whose best validation score and "
            "history tsrec cannot read back; use strategy='ddp' (with devices=N) from a script, or one device"
        )


def _check_trains_something(kwargs: dict) -> None:
    """Refuse limits that would end the fit before its first step, and a validation period of 0."""
    for key in ("limit_train_batches", "max_steps"):
        if kwargs.get(key) == 0:
            raise ParameterError(f"trainer_kwargs may not set {key}=0: it would train nothing")
    if kwargs.get("max_time") is not None:
        from lightning.pytorch.callbacks import Timer  # noqa: PLC0415 - as in check_trainer_kwargs
        from lightning.pytorch.utilities.exceptions import MisconfigurationException  # noqa: PLC0415

        try:
            seconds = Timer(duration=kwargs["max_time"]).time_remaining()
        except (MisconfigurationException, TypeError, AttributeError, ValueError) as exc:
            raise ParameterError(
                "trainer_kwargs['max_time'] must be a 'DD:HH:MM:SS' string, a datetime.timedelta or a dict of "
                f"timedelta arguments, got {kwargs['max_time']!r}"
            ) from exc
        if seconds <= 0:
            raise ParameterError(f"trainer_kwargs may not set max_time={kwargs['max_time']!r}: it would train nothing")
    for key, (minimum, hint) in TRAINER_COUNTS.items():
        # accumulate_grad_batches=-1 divided the loss by -1: training silently climbed it
        check_int(f"trainer_kwargs[{key!r}]", kwargs.get(key), minimum=minimum, allow_none=True, hint=hint)
    clip = kwargs.get("gradient_clip_val")
    if clip is not None:
        check_float("trainer_kwargs['gradient_clip_val']", clip, hint="; None (the default) does not clip")


def _check_callbacks(callbacks: object, patience: int | None) -> list:
    """Lightning callbacks as a list, none on val_loss that tsrec has already: Lightning allows one
    EarlyStopping or ModelCheckpoint per monitored metric."""
    from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint  # noqa: PLC0415 - as above

    callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [] if callbacks is None else [callbacks]
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ParameterError(f"trainer_kwargs['callbacks'] must be a lightning Callback or a list of them, got "
                                 f"{type(callback).__name__} {callback!r}; pass e.g. [EarlyStopping('val_loss')]")
        on_val_loss = getattr(callback, "monitor", None) == "val_loss"
        if on_val_loss and isinstance(callback, ModelCheckpoint):
            raise ParameterError(
                "trainer_kwargs['callbacks'] has a ModelCheckpoint on val_loss: tsrec keeps the best val_loss "
                "checkpoint itself and restores its weights after every fit; remove it, or monitor another metric"
            )
        if on_val_loss and isinstance(callback, EarlyStopping) and patience is not None:
            raise ParameterError(
                f"trainer_kwargs['callbacks'] has an EarlyStopping on val_loss, but tsrec stops early on val_loss "
                f"itself (patience={patience}); set patience=None to use yours, or remove yours and set patience="
            )
    return callbacks
