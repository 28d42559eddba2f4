"""Validation of the constructor parameters every tsrec estimator shares."""

from __future__ import annotations

import numbers

from tsrec.estimators._engine import TrainingConfig

SHARED_PARAMS = (
    "max_epochs", "batch_size", "lr", "weight_decay", "patience", "val_size", "accelerator",
    "devices", "precision", "random_state", "verbose", "trainer_kwargs",
)


def check_int(name: str, value: object, minimum: int = 1, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= ``minimum``, or raise a ValueError naming the parameter."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(name: str, value: object, minimum: float = 0.0, strict: bool = False) -> float:
    """Return ``value`` as a float above ``minimum`` (strictly if ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or (value <= minimum if strict else value < minimum):
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a number {sign} {minimum}, got {value!r}")
    return float(value)


def check_dropout(value: object) -> float:
    """A dropout probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {value!r}")
    return float(value)


def check_bool(name: str, value: object) -> bool:
    """A flag that must be exactly True or False (not 0/1 or a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: tuple) -> object:
    """``value`` must be one of ``choices``; the type check first keeps arrays from comparing elementwise."""
    if not any(isinstance(value, type(choice)) and value == choice for choice in choices):
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_val_size(value: object) -> float | int:
    """``val_size`` is a fraction in [0, 1) of the rows or a number of rows >= 0."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if isinstance(value, numbers.Real) and 0.0 <= value < 1.0:
        return float(value)
    raise ValueError(f"val_size must be a fraction in [0, 1) or a row count >= 0, got {value!r}")


def seed_of(random_state: object) -> int:
    """The integer seed; None means 0 so that repeated fits agree by default."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**32)
    raise ValueError(
        f"random_state must be None or an int, got {type(random_state).__name__}; "
        "tsrec seeds torch, which needs an integer seed"
    )


def training_config(est: object) -> TrainingConfig:
    """Validate an estimator's shared parameters and pack them for the engine.

    An estimator whose good learning rate depends on its other parameters may take ``lr=None``
    and define ``_lr_when_none()``.
    """
    kwargs = est.trainer_kwargs
    lr = est._lr_when_none() if est.lr is None and hasattr(est, "_lr_when_none") else est.lr
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ValueError(f"trainer_kwargs must be a dict or None, got {type(kwargs).__name__}")
    return TrainingConfig(
        max_epochs=check_int("max_epochs", est.max_epochs),
        batch_size=check_int("batch_size", est.batch_size),
        lr=check_float("lr", lr, strict=True),
        weight_decay=check_float("weight_decay", est.weight_decay),
        patience=check_int("patience", est.patience, minimum=0, allow_none=True),
        accelerator=est.accelerator,
        devices=est.devices,
        precision=est.precision,
        seed=seed_of(est.random_state),
        verbose=bool(est.verbose),
        trainer_kwargs=dict(kwargs or {}),
        **_ema_params(est),
    )


def _ema_params(est: object) -> dict:
    """``ema_decay`` / ``ema_start_step`` of the estimators that take them (LS4), checked."""
    decay = getattr(est, "ema_decay", None)
    if decay is None:
        return {}
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0.0 < decay < 1.0:
        raise ValueError(f"ema_decay must be None (no weight average) or a number in (0, 1), got {decay!r}")
    return {"ema_decay": float(decay), "ema_start_step": check_int("ema_start_step", est.ema_start_step, minimum=0)}
