"""Validation of the constructor parameters every tsrec estimator shares."""

from __future__ import annotations

import contextlib
import inspect
import numbers
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tsrec._checks import check_flag, check_float, check_int
from tsrec._warn import import_lightning, warn_user
from tsrec.errors import NoValidationWarning, PartialValidationWarning
from tsrec.estimators._training import TrainingConfig

SHARED_PARAMS = (
    "max_epochs", "batch_size", "lr", "weight_decay", "patience", "val_size", "accelerator",
    "devices", "precision", "random_state", "verbose", "trainer_kwargs",
)
# Trainer arguments tsrec sets itself: each maps to the estimator parameter that controls it (or
# None where tsrec keeps it fixed for reproducible, checkpointed training)
OWN_TRAINER_ARGS = {
    "max_epochs": "max_epochs", "accelerator": "accelerator", "devices": "devices", "precision": "precision",
    "enable_progress_bar": "verbose", "deterministic": None, "enable_checkpointing": None,
    "num_sanity_val_steps": None,
}
# float16 end to end overflows the scans and losses of most networks (NaN forecasts)
REFUSED_PRECISIONS = ("16-true",)
# Lightning's precisions that tsrec's networks train in (transformer-engine needs a package and an fp8 GPU)
PRECISIONS = ("64-true", "64", 64, "32-true", "32", 32, "16-mixed", "16", 16, "bf16-mixed", "bf16", "bf16-true")
# Trainer counts as (smallest allowed value, why): max_steps=-1 is Lightning's "no limit"
TRAINER_COUNTS = {
    "accumulate_grad_batches": (1, ""), "num_nodes": (1, ""), "min_epochs": (0, ""), "min_steps": (0, ""),
    "max_steps": (-1, " (-1 for no limit)"), "log_every_n_steps": (1, ""), "check_val_every_n_epoch": (1, ""),
}
MAX_SEED = 2**32 - 1


def check_levels(name: str, value: object) -> object:
    """``coverage`` or ``alpha`` of a probabilistic forecast: None (sktime's default), a number
    strictly between 0 and 1, or a list of them (sktime's own message for 0, 1 or "0.9" is a bare
    TypeError); returned as Python floats."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    many = isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index))
    levels = list(value) if many else [value]
    if many and not levels:
        raise ValueError(f"{name} is empty; pass a number strictly between 0 and 1, or a list of them")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < level < 1.0:
            raise ValueError(f"{name} must be a number strictly between 0 and 1, or a list of them, got {value!r}")
    # as Python floats: sktime iterates anything that is not a float (a NumPy float32 fails); a
    # float32 0.3 as 0.3, the number it prints as, so that the column it labels is found by 0.3
    levels = [float(str(level)) if isinstance(level, np.floating) else float(level) for level in levels]
    return levels if many else levels[0]


def check_choice(name: str, value: object, choices: tuple) -> object:
    """``value`` must be one of ``choices``; the type check first keeps arrays from comparing elementwise."""
    if not any(isinstance(value, type(choice)) and value == choice for choice in choices):
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def warn_unused(est: object, names: tuple[str, ...], why: str) -> None:
    """Warn that the parameters ``names`` set away from their defaults have no effect ``why``.

    As scikit-learn does for ``l1_ratio`` without the elastic-net penalty: the fit goes on, but a
    value the user chose and the model never reads is named rather than silently dropped.
    """
    defaults = inspect.signature(type(est).__init__).parameters
    changed = [name for name in names if _differs(getattr(est, name), defaults[name].default)]
    if changed:
        settings = " and ".join(f"{name}={getattr(est, name)!r}" for name in changed)
        verb = "has" if len(changed) == 1 else "have"
        warn_user(f"{type(est).__name__}: {settings} {verb} no effect {why}")


def _differs(value: object, default: object) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array, compared elementwise: not the default
        return True


def check_val_size(value: object) -> float | int:
    """``val_size`` is a fraction in [0, 1) of the rows or a number of rows >= 0."""
    if isinstance(value, (bool, np.bool_)):  # False would pass as 0 rows, True is refused: refuse both
        raise ValueError(f"val_size must be a fraction in [0, 1) or a row count >= 0, got {value!r}")
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    if isinstance(value, numbers.Real) and 0.0 <= value < 1.0:
        return float(value)
    raise ValueError(f"val_size must be a fraction in [0, 1) or a row count >= 0, got {value!r}")


def seed_of(random_state: object) -> int:
    """The integer seed; None means 0 so that repeated fits agree by default."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state <= MAX_SEED:
            raise ValueError(f"random_state must be None or an int in [0, 2**32 - 1], got {random_state!r}")
        return int(random_state)
    raise ValueError(
        f"random_state must be None or an int, got {type(random_state).__name__}; "
        "tsrec seeds torch, which needs an integer seed"
    )


def warn_no_validation(val_size: object, why: str) -> None:
    """``val_size > 0`` that leaves no validation data: say so instead of silently training without."""
    warn_user(
        f"val_size={val_size!r} leaves no validation data ({why}); training runs all max_epochs without "
        "validation, early stopping or best-epoch restore. Give more data, or val_size=0 to silence this",
        NoValidationWarning,
    )


def warn_partial_validation(keys: list, n_series: int, lookback: str, horizon: int) -> None:
    """Some series of a panel too short to validate: the validation loss covers the others only."""
    named = ", ".join(repr(k) for k in keys[:3]) + (", ..." if len(keys) > 3 else "")
    warn_user(
        f"{len(keys)} of {n_series} series ({named}) have no validation windows: their last val_size rows hold "
        f"fewer than horizon = {horizon} rows, or fewer than {lookback} rows precede them; they train on all "
        "their rows and the validation loss covers the other series only",
        PartialValidationWarning,
    )


def check_trainer_kwargs(kwargs: object, patience: int | None = None, max_epochs: int | None = None) -> dict:
    """Extra ``lightning.Trainer`` arguments: known ones, none that tsrec sets itself, none that
    would train nothing or be ignored (``min_epochs`` above ``max_epochs``), and no callback that
    duplicates tsrec's own (see :func:`_check_callbacks`).
    """
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"trainer_kwargs must be a dict or None, got {type(kwargs).__name__}")
    import_lightning()  # the user's warning filters stay ahead of Lightning's
    from lightning.pytorch import Trainer  # noqa: PLC0415 - imported for trainer_kwargs only (see _training)

    known = inspect.signature(Trainer.__init__).parameters
    for key in kwargs:
        if key not in known:
            raise ValueError(f"trainer_kwargs has {key!r}, which is not a lightning.Trainer argument; remove it")
        if key in OWN_TRAINER_ARGS:
            owner = OWN_TRAINER_ARGS[key]
            fix = f"use the estimator's {owner}= instead" if owner else "tsrec sets it itself; remove it"
            raise ValueError(f"trainer_kwargs may not set {key!r}: {fix}")
    if kwargs.get("limit_val_batches") == 0:
        raise ValueError("trainer_kwargs may not set limit_val_batches=0: use the estimator's val_size=0 instead")
    if kwargs.get("barebones"):
        raise ValueError(
            "trainer_kwargs may not set barebones=True: it turns off the logging and checkpointing tsrec reads "
            "(each epoch's val_loss, the best weights); remove it, and set verbose=False for a quiet fit"
        )
    interval = kwargs.get("val_check_interval")  # an int counts batches: 1 validates after every batch
    if interval is not None and not (isinstance(interval, float) and interval == 1.0):
        raise ValueError(
            f"trainer_kwargs may not set val_check_interval={interval!r}: tsrec validates once "
            "an epoch, as history_ (a val_loss per epoch) and patience (in epochs) count; validate less often "
            "with check_val_every_n_epoch=N"
        )
    if kwargs.get("overfit_batches"):
        raise ValueError(
            "trainer_kwargs may not set overfit_batches: Lightning swaps in a sampler of single windows, which "
            "tsrec's whole-batch loaders cannot take; fit on a short series (or set limit_train_batches=N) instead"
        )
    _check_launcher(kwargs.get("strategy"))
    _check_trains_something(kwargs)
    least = kwargs.get("min_epochs")
    if max_epochs is not None and isinstance(least, int) and least > max_epochs:  # Lightning stops at max_epochs
        raise ValueError(f"trainer_kwargs min_epochs={least} exceeds the estimator's max_epochs={max_epochs}, which "
                         "ends the fit first; lower min_epochs or raise max_epochs")
    checked = dict(kwargs)
    if "callbacks" in checked:  # a list, as the Trainer builder joins them to tsrec's own
        checked["callbacks"] = _check_callbacks(checked["callbacks"], patience)
    return checked


def _check_launcher(strategy: object) -> None:
    """Refuse strategies that train in spawned or forked processes: Lightning hands the parent
    back the weights, but not the best validation score or the training history tsrec reads."""
    method = getattr(strategy, "_start_method", None)
    named = isinstance(strategy, str) and any(word in strategy for word in ("spawn", "fork", "notebook"))
    if named or method in ("spawn", "fork", "forkserver"):
        raise ValueError(
            f"trainer_kwargs strategy {strategy!r} trains in child processes, whose best validation score and "
            "history tsrec cannot read back; use strategy='ddp' (with devices=N) from a script, or one device"
        )


def _check_trains_something(kwargs: dict) -> None:
    """Refuse limits that would end the fit before its first step, and a validation period of 0."""
    for key in ("limit_train_batches", "max_steps"):
        if kwargs.get(key) == 0:
            raise ValueError(f"trainer_kwargs may not set {key}=0: it would train nothing")
    if kwargs.get("max_time") is not None:
        from lightning.pytorch.callbacks import Timer  # noqa: PLC0415 - as in check_trainer_kwargs
        from lightning.pytorch.utilities.exceptions import MisconfigurationException  # noqa: PLC0415

        try:
            seconds = Timer(duration=kwargs["max_time"]).time_remaining()
        except (MisconfigurationException, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(
                "trainer_kwargs['max_time'] must be a 'DD:HH:MM:SS' string, a datetime.timedelta or a dict of "
                f"timedelta arguments, got {kwargs['max_time']!r}"
            ) from exc
        if seconds <= 0:
            raise ValueError(f"trainer_kwargs may not set max_time={kwargs['max_time']!r}: it would train nothing")
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
            raise ValueError("trainer_kwargs['callbacks'] must be a lightning Callback or a list of them")
        on_val_loss = getattr(callback, "monitor", None) == "val_loss"
        if on_val_loss and isinstance(callback, ModelCheckpoint):
            raise ValueError(
                "trainer_kwargs['callbacks'] has a ModelCheckpoint on val_loss: tsrec keeps the best val_loss "
                "checkpoint itself and restores its weights after every fit; remove it, or monitor another metric"
            )
        if on_val_loss and isinstance(callback, EarlyStopping) and patience is not None:
            raise ValueError(
                f"trainer_kwargs['callbacks'] has an EarlyStopping on val_loss, but tsrec stops early on val_loss "
                f"itself (patience={patience}); set patience=None to use yours, or remove yours and set patience="
            )
    return callbacks


def check_device_params(accelerator: object, devices: object, precision: object) -> None:
    """Types Lightning would fail on obscurely, and a precision the networks cannot train in."""
    if not isinstance(accelerator, str) and not _is_lightning_accelerator(accelerator):
        raise ValueError(f"accelerator must be a string such as 'auto', 'cpu' or 'gpu', got {accelerator!r}")
    if isinstance(devices, (bool, np.bool_)) or not isinstance(devices, (str, int, np.integer, list, tuple)):
        raise ValueError(f"devices must be 'auto', an int or a list of device indices, got {devices!r}")
    if not _known_precision(precision) and str(precision) not in REFUSED_PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(repr(p) for p in PRECISIONS if isinstance(p, str))} "
            f"(or the ints 64, 32, 16), got {precision!r}"
        )
    if str(precision) in REFUSED_PRECISIONS:
        raise ValueError(
            f"precision={precision!r} trains in float16 throughout, where tsrec's networks overflow; "
            "use '16-mixed' or 'bf16-mixed' (mixed precision), '32-true' or '64-true'"
        )


def _is_lightning_accelerator(accelerator: object) -> bool:
    import_lightning()
    from lightning.pytorch.accelerators import Accelerator  # noqa: PLC0415 - only for a non-string (see _training)

    return isinstance(accelerator, Accelerator)


def _known_precision(precision: object) -> bool:
    """One of :data:`PRECISIONS`: a string, or an int (NumPy's from a grid too), not a float or a bool."""
    if isinstance(precision, (bool, np.bool_)) or not isinstance(precision, (str, numbers.Integral)):
        return False
    return (int(precision) if isinstance(precision, numbers.Integral) else precision) in PRECISIONS


def data_dtype(precision: object) -> type:
    """The dtype training data are held in: float64 for a ``"64..."`` precision (no float32 rounding), else float32."""
    return np.float64 if str(precision).startswith("64") else np.float32


def training_config(est: object) -> TrainingConfig:
    """Validate an estimator's shared parameters and pack them for the engine.

    An estimator whose good learning rate depends on its other parameters may take ``lr=None``
    and define ``_lr_when_none()``. ``patience`` with ``val_size=0`` has no validation loss to
    watch: training runs all ``max_epochs``, and a UserWarning says so (not an error: several
    estimators default to a patience, and ``val_size=0`` alone is a valid way to train on all data).
    """
    lr = est._lr_when_none() if est.lr is None and hasattr(est, "_lr_when_none") else est.lr
    check_device_params(est.accelerator, est.devices, est.precision)
    patience = check_int("patience", est.patience, minimum=1, allow_none=True)
    if patience is not None and check_val_size(est.val_size) == 0:
        warn_user(
            f"patience={patience} is not used: val_size=0 holds out no validation data, so training runs all "
            "max_epochs without early stopping; set val_size > 0 (e.g. 0.2) to stop early, or patience=None "
            "to silence this"
        )
    max_epochs = check_int("max_epochs", est.max_epochs)
    return TrainingConfig(
        max_epochs=max_epochs,
        batch_size=check_int("batch_size", est.batch_size),
        lr=check_float("lr", lr, strict=True),
        weight_decay=check_float("weight_decay", est.weight_decay),
        decoupled_weight_decay=getattr(est, "_decoupled_weight_decay", False),
        patience=patience,
        accelerator=est.accelerator,
        devices=int(est.devices) if isinstance(est.devices, np.integer) else est.devices,
        precision=est.precision,
        seed=seed_of(est.random_state),
        verbose=check_flag("verbose", est.verbose),
        trainer_kwargs=check_trainer_kwargs(est.trainer_kwargs, patience, max_epochs),
        **_ema_params(est),
    )


def _ema_params(est: object) -> dict:
    """``ema_decay`` / ``ema_start_step`` of the estimators that take them (LS4), checked."""
    if not hasattr(est, "ema_start_step"):
        return {}
    start = check_int("ema_start_step", est.ema_start_step, minimum=0)  # checked unused too, as every parameter
    decay = est.ema_decay
    if decay is None:
        return {}
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0.0 < decay < 1.0:
        raise ValueError(f"ema_decay must be None (no weight average) or a number in (0, 1), got {decay!r}")
    return {"ema_decay": float(decay), "ema_start_step": start}


@contextlib.contextmanager
def sizes_named_when_out_of_memory(est: object) -> Iterator[None]:
    """Building or training a network too large for memory fails with torch's allocator message,
    which names no parameter: name the estimator's largest sizes and ``batch_size`` instead."""
    try:
        yield
    except (MemoryError, RuntimeError) as err:  # torch's CPU and CUDA messages both say "allocate"
        if not isinstance(err, MemoryError) and "allocate" not in str(err):
            raise
        shared = set(SHARED_PARAMS)
        sizes = {k: v for k, v in est.get_params(deep=False).items() if k not in shared and _is_count(v)}
        largest = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:3])
        raise ValueError(
            f"{type(est).__name__} ran out of memory building or training its network "
            f"({str(err).strip().splitlines()[0]}); lower its sizes ({largest}) or batch_size={est.batch_size}"
        ) from err


def _is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
