"""Number checks shared by the estimators' parameters and the data loaders (no torch, no Lightning).

Each failure is a ValueError naming the argument; NumPy integers and floats pass (values from a
parameter grid are NumPy scalars), bools do not (True is no count).
"""

from __future__ import annotations

import math
import numbers


def check_int(name: str, value: object, minimum: int = 1, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= ``minimum``, or raise a ValueError naming the parameter."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(name: str, value: object, minimum: float = 0.0, strict: bool = False) -> float:
    """Return ``value`` as a finite float above ``minimum`` (strictly if ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= minimum if strict else value < minimum):
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {sign} {minimum}, got {value!r}")
    return float(value)
