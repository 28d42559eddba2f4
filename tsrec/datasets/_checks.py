"""Argument checks of the data loaders (no torch: importing data stays light); numbers: :mod:`tsrec._checks`."""

from __future__ import annotations

from collections.abc import Iterable


def check_name(what: str, value: object, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices`` exactly (case matters, as in the file names)."""
    names = sorted(choices)
    # the type check first: an unhashable or array value must not reach ``in``
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"unknown {what} {value!r}; choose one of {names}")
    return value
