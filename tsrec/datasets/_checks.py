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
    """`` (did you mean 'X'? ...)`` for the closest of ``names`` (each of those equally close), else ''."""
    close = closest_names(value, names)
    if not close:
        return ""
    asked = " or ".join(map(repr, close))
    stripped = value.strip()
    if stripped in close:  # the name itself, with spaces around it
        return f" (did you mean {stripped!r}? the name has spaces around it)"
    if any(name.lower() == stripped.lower() for name in close):  # a wrong case is the usual slip
        spaces = ", and the name has spaces around it" if stripped != value else ""
        return f" (did you mean {asked}? names are case-sensitive{spaces})"
    return f" (did you mean {asked}?)"


def closest_names(value: object, names: Collection[str]) -> list[str]:
    """The ``names`` closest to ``value`` ignoring case, all those equally close (sorted), none if none is
    close (difflib's ratio >= 0.6) or ``value`` is one: 'ETTh' is as close to 'ETTh1' as to 'ETTh2'."""
    if not isinstance(value, str) or value in names:
        return []
    ratios = {name: difflib.SequenceMatcher(None, value.lower(), name.lower()).ratio() for name in names}
    best = max(ratios.values(), default=0.0)
    return sorted(name for name, ratio in ratios.items() if ratio == best) if best >= 0.6 else []
