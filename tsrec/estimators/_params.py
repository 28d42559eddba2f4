"""Validation of the constructor parameters every tsrec estimator shares."""

from __future__ import annotations

import contextlib
import inspect
import numbers
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tsrec._checks import check_flag, check_float, check_int
from tsrec._warn import import_lightning, warn_user
from tsrec.errors import InputError, NoValidationWarning, ParameterError, PartialValidationWarning
from tsrec.estimators._trainer_args import check_trainer_kwargs
from tsrec.estimators._training import TrainingConfig
from tsrec.kernels._dispatch import env_backend

SHARED_PARAMS = (
    "max_epochs", "batch_size", "lr", "weight_decay", "patience", "val_size", "accelerator",
    "devices", "precision", "random_state", "verbose", "trainer_kwargs",
)
# float16 end to end overflows the scans and losses of most networks (NaN forecasts)
REFUSED_PRECISIONS = ("16-true",)
# Lightning's precisions that tsrec's networks train in (transformer-engine needs a package and an fp8 GPU)
PRECISIONS = ("64-true", "64", 64, "32-true", "32", 32, "16-mixed", "16", 16, "bf16-mixed", "bf16", "bf16-true")
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
        raise ParameterError(f"{name} is empty; pass a number strictly between 0 and 1, or a list of them")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < level < 1.0:
            raise ParameterError(f"{name} must be a number strictly between 0 and 1, or a list of them, got {value!r}")
    # as Python floats: sktime iterates anything that is not a float (a NumPy float32 fails); a
    # float32 0.3 as 0.3, the number it prints as, so that the column it labels is found by 0.3
    levels = [float(str(level)) if isinstance(level, np.floating) else float(level) for level in levels]
    return levels if many else levels[0]


def check_choice(name: str, value: object, choices: tuple) -> object:
    """``value`` must be one of ``choices``; the type check first keeps arrays from comparing elementwise."""
    if not any(isinstance(value, type(choice)) and value == choice for choice in choices):
        raise ParameterError(f"{name} must be one of {choices}, got {value!r}")
    return value


def warn_unused(est: object, names: tuple[str, ...], why: str) -> None:
    """Warn that the parameters ``names`` set away from their defaults have no effect ``why``.

    As scikit-learn does for ``l1_ratio`` without the elastic-net penalty: the fit goes on, but a
    value the user chose and the model never reads is named rather than silently dropped.
    """
    defaults = inspect.signature(type(est).__init__).parameters
    changed = [name for name in names if differs(getattr(est, name), defaults[name].default)]
    if changed:
        settings = " and ".join(f"{name}={getattr(est, name)!r}" for name in changed)
        verb = "has" if len(changed) == 1 else "have"
        warn_user(f"{type(est).__name__}: {settings} {verb} no effect {why}")


def differs(value: object, default: object) -> bool:
    """Whether a parameter's ``value`` is not its ``default`` (an array, compared elementwise, is not)."""
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array, compared elementwise: not the default
        return True


def check_val_size(value: object) -> float | int:
    """``val_size`` is a fraction in [0, 1) of the rows or a number of rows >= 0."""
    if isinstance(value, (bool, np.bool_)):  # False would pass as 0 rows, True is refused: refuse both
        raise ParameterError(f"val_size must be a fraction in [0, 1) or a row count >= 0, got {value!r}")
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    if isinstance(value, numbers.Real) and 0.0 <= value < 1.0:
        return float(value)
    raise ParameterError(f"val_size must be a fraction in [0, 1) or a row count >= 0, got {value!r}")


def seed_of(random_state: object, seeds: str = "torch") -> int:
    """The integer seed; None means 0 so that repeated fits agree by default. ``seeds``: what the
    seed goes to, as the refusal of another type says."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state <= MAX_SEED:
            raise ParameterError(f"random_state must be None or an int in [0, 2**32 - 1], got {random_state!r}")
        return int(random_state)
    method = {np.random.Generator: "integers", np.random.RandomState: "randint"}.get(type(random_state))
    draw = f" (to draw one from a NumPy generator: random_state=int(rng.{method}(2**32)))" if method else ""
    raise ParameterError(
        f"random_state must be None or an int, got {type(random_state).__name__}; tsrec seeds {seeds}, which needs "
        f"an integer seed: pass one, e.g. random_state=0{draw}"
    )


def warn_no_validation(val_size: object, why: str) -> None:
    """``val_size > 0`` that leaves no validation data: say so instead of silently training without."""
    warn_user(
        f"val_size={val_size!r} leaves no validation data ({why}); training runs all max_epochs without "
        "validation, early stopping or best-epoch restore. Give more data, or val_size=0 to silence this",
        NoValidationWarning,
    )


def first_keys(keys: list) -> str:
    """Up to three series keys as a message lists them: "'a', 'b', 'c', ..."."""
    return ", ".join(repr(k) for k in keys[:3]) + (", ..." if len(keys) > 3 else "")


def warn_partial_validation(keys: list, n_series: int, lookback: str, horizon: int) -> None:
    """Some series of a panel too short to validate: the validation loss covers the others only."""
    warn_user(
        f"{len(keys)} of {n_series} series ({first_keys(keys)}) have no validation windows: their last val_size "
        f"rows hold fewer than horizon = {horizon} rows, or fewer than {lookback} rows precede them; they train on all "
        "their rows and the validation loss covers the other series only",
        PartialValidationWarning,
    )


def warn_validated_only(keys: list, n_series: int, window: str) -> None:
    """Some series of a panel long enough to validate but not to train as well: their rows before the
    last val_size ones hold no whole training window (``window``: its length, as the message names it),
    so the model is scored on them but never fitted to them."""
    warn_user(
        f"{len(keys)} of {n_series} series ({first_keys(keys)}) only validate: the rows before their last val_size "
        f"ones are fewer than {window}, no training window; the model is scored on them but not trained on them. Lower "
        "val_size (an int counts rows), or give them more rows"
    )


def check_device_params(accelerator: object, devices: object, precision: object) -> None:
    """Types Lightning would fail on obscurely, and a precision the networks cannot train in."""
    if not isinstance(accelerator, str) and not _is_lightning_accelerator(accelerator):
        raise ParameterError(f"accelerator must be a string such as 'auto', 'cpu' or 'gpu', got {accelerator!r}")
    if isinstance(devices, (bool, np.bool_)) or not isinstance(devices, (str, int, np.integer, list, tuple)):
        raise ParameterError(f"devices must be 'auto', an int or a list of device indices, got {devices!r}")
    if not _known_precision(precision) and str(precision) not in REFUSED_PRECISIONS:
        raise ParameterError(
            f"precision must be one of {', '.join(repr(p) for p in PRECISIONS if isinstance(p, str))} "
            f"(or the ints 64, 32, 16), got {precision!r}"
        )
    if str(precision) in REFUSED_PRECISIONS:
        raise ParameterError(
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


def _check_batch_size(value: object) -> int:
    """A positive int that torch can slice by (2**63 failed inside its sampler and tensor splits)."""
    value = check_int("batch_size", value)
    if value > sys.maxsize:
        raise ParameterError(f"batch_size must be at most {sys.maxsize:,}, got {value:,}; any size above the number of "
                             "training windows (samples) trains on all of them in one batch")
    return value


def data_dtype(precision: object) -> type:
    """The dtype training data are held in: float64 for a ``"64..."`` precision (no float32 rounding), else float32."""
    return np.float64 if str(precision).startswith("64") else np.float32


def training_config(est: object, early: bool = False) -> TrainingConfig:
    """Validate an estimator's shared parameters and pack them for the engine (``early``: a check before
    the data, which ``fit`` repeats: no warning, and no learning rate read off the model's own
    parameters, which are checked after it).

    An estimator whose good learning rate depends on its other parameters may take ``lr=None``
    and define ``_lr_when_none()``. ``patience`` with ``val_size=0`` has no validation loss to
    watch: training runs all ``max_epochs``, and a UserWarning says so (not an error: several
    estimators default to a patience, and ``val_size=0`` alone is a valid way to train on all data).
    """
    lr = est.lr
    if lr is None and hasattr(est, "_lr_when_none"):  # keyed by the model's own parameters (LTC's cell, say)
        lr = 1.0 if early else est._lr_when_none()
    check_device_params(est.accelerator, est.devices, est.precision)
    try:  # else found by the first kernel call, inside Lightning's loop, or never by a network without kernels
        env_backend()
    except ValueError as err:
        raise InputError(str(err)) from None
    patience = check_int("patience", est.patience, minimum=1, allow_none=True)
    val_size = check_val_size(est.val_size)  # also without patience: a wrong one is no less wrong
    if not early and patience is not None and val_size == 0:
        warn_user(
            f"patience={patience} is not used: val_size=0 holds out no validation data, so training runs all "
            "max_epochs without early stopping; set val_size > 0 (e.g. 0.2) to stop early, or patience=None "
            "to silence this"
        )
    max_epochs = check_int("max_epochs", est.max_epochs)
    return TrainingConfig(
        max_epochs=max_epochs,
        batch_size=_check_batch_size(est.batch_size),
        lr=check_float("lr", lr, strict=True),
        weight_decay=check_float("weight_decay", est.weight_decay),
        decoupled_weight_decay=getattr(est, "_decoupled_weight_decay", False),
        patience=patience,
        accelerator=est.accelerator,
        devices=int(est.devices) if isinstance(est.devices, np.integer) else est.devices,
        precision=est.precision,
        seed=seed_of(est.random_state),
        verbose=check_flag("verbose", est.verbose),
        trainer_kwargs=check_trainer_kwargs(est.trainer_kwargs, patience, max_epochs, warn=not early),
        **_ema_params(est, warn=not early),
    )


def _ema_params(est: object, warn: bool = True) -> dict:
    """``ema_decay`` / ``ema_start_step`` of the estimators that take them (LS4), checked; ``warn``: of a
    start step set without a decay, which nothing reads."""
    if not hasattr(est, "ema_start_step"):
        return {}
    start = check_int("ema_start_step", est.ema_start_step, minimum=0)  # checked unused too, as every parameter
    decay = est.ema_decay
    if decay is None:
        if warn:
            warn_unused(est, ("ema_start_step",), "with ema_decay=None (no weight average); set ema_decay, "
                                                  "e.g. 0.999, to average the weights from that step")
        return {}
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0.0 < decay < 1.0:
        raise ParameterError(f"ema_decay must be None (no weight average) or a number in (0, 1), got {decay!r}")
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
        sizes = {k: v for k, v in est.get_params(deep=False).items() if k not in shared and _size(v) is not None}
        largest = ", ".join(f"{k}={v!r}" for k, v in sorted(sizes.items(), key=lambda kv: -_size(kv[1]))[:3])
        # Python's own MemoryError (a list of a billion layers) has no message
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{type(est).__name__} ran out of memory building or training its network "
            f"({reason}); lower its sizes ({largest}) or batch_size={est.batch_size}"
        ) from err


def _size(value: object) -> int | None:
    """A count (an int, not a bool), or the largest of a tuple of them (AR-Net's hidden_layers); else None."""
    counts = value if isinstance(value, tuple) and value else (value,)
    if all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in counts):
        return int(max(counts))
    return None
