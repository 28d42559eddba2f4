"""Argument checks shared by the data loaders and generators (no torch: importing data stays light)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; numpy integers pass, bools do not (True is no count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: object, minimum: float = 0.0) -> float:
    """``value`` as a finite float >= ``minimum`` (numpy floats pass, bools and NaN do not)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
    return float(value)


def check_name(what: str, value: object, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices`` exactly (case matters, as in the file names)."""
    names = sorted(choices)
    # the type check first: an unhashable or array value must not reach ``in``
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"unknown {what} {value!r}; choose one of {names}")
    return value
