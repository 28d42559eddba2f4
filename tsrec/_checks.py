"""Number checks shared by the estimators' parameters and the data loaders (no torch, no Lightning).

Each failure is a :class:`tsrec.errors.ParameterError` (both a TypeError and a ValueError) naming
the argument; NumPy integers and floats pass (values from a parameter grid are NumPy scalars), bools
do not (True is no count). A flag that is not a bool
raises :class:`tsrec.errors.FlagError`, both a TypeError and a ValueError.
"""

from __future__ import annotations

import math
import numbers

from tsrec.errors import FlagError, ParameterError


def check_int(name: str, value: object, minimum: int | None = 1, allow_none: bool = False,
              hint: str = "") -> int | None:
    """Return ``value`` as an int (NumPy's too, not a bool) >= ``minimum``, or raise a ParameterError naming
    the parameter; ``minimum=None`` takes any integer, and ``hint`` follows the rule in the message."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (minimum is not None and value < minimum):
        rule = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ParameterError(f"{name} must be {rule}{hint}, got {value!r}")
    return int(value)


def check_float(name: str, value: object, minimum: float = 0.0, strict: bool = False, hint: str = "") -> float:
    """Return ``value`` as a finite float above ``minimum`` (strictly if ``strict``); ``hint`` (how
    to fix it) ends the message."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= minimum if strict else value < minimum):
        sign = ">" if strict else ">="
        raise ParameterError(f"{name} must be a finite number {sign} {minimum}, got {value!r}{hint}")
    return float(value)


def check_dropout(value: object, name: str = "dropout") -> float:
    """A probability in [0, 1) as a float (1 would drop everything)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ParameterError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_flag(name: str, value: object) -> bool:
    """True or False, NumPy's too (``numpy.bool`` in NumPy 2, ``numpy.bool_`` in 1), as a bool.

    0, 1 and strings are refused: ``"mean"`` or ``"no"`` would silently read as True.
    """
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if not isinstance(value, bool) and not numpy_bool:
        raise FlagError(f"{name} must be True or False, got {value!r}")
    return bool(value)
