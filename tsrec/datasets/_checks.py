"""Argument checks of the data loaders (no torch: importing data stays light); numbers: :mod:`tsrec._checks`."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable


def check_name(what: str, value: object, choices: Iterable[str], known_as: dict[str, str] | None = None) -> str:
    """``value``, the ``name`` argument, must be one of ``choices`` exactly (case matters, as in the file names);
    ``known_as`` maps other names in use (lower case) to a hint, e.g. the papers' "ili" to "illness"."""
    names = sorted(choices)
    # the type check first: an unhashable or array value must not reach ``in``
    if not isinstance(value, str) or value not in names:
        alias = (known_as or {}).get(value.lower()) if isinstance(value, str) else None
        hint = f" ({alias})" if alias else path_hint(value) or did_you_mean(value, names)
        raise ValueError(f"unknown {what} name={value!r}{hint}; choose one of {names}")
    return value


def path_hint(value: object) -> str:
    """`` (a name, not a path: ...)`` where ``value`` is a file's path, which the loaders do not take."""
    if not isinstance(value, str) or not any(mark in value for mark in ("/", "\\", ".csv", ".ts")):
        return ""
    return (" (the loaders take a data set's name, not a file's path: pass the name and the folder that holds "
            "its files as data_dir=)")


def did_you_mean(value: object, names: Collection[str]) -> str:
    """`` (did you mean 'X'? ...)`` for the closest of ``names``, else ''; a wrong case is the usual slip."""
    close = closest_name(value, names)
    if close and isinstance(value, str) and close == value.strip():  # not the case: spaces around the name
        return f" (did you mean {close!r}? the name has spaces around it)"
    return f" (did you mean {close!r}? names are case-sensitive)" if close else ""


def closest_name(value: object, names: Collection[str]) -> str | None:
    """The one of ``names`` closest to ``value`` ignoring case, None if none is close or ``value`` is one."""
    if not isinstance(value, str) or value in names:
        return None
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None
