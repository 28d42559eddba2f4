"""The estimator registry: every estimator class registers itself where it is defined.

Tests, the command line and the tuning code iterate over :func:`all_estimators` instead of
keeping hand-written lists.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable

KINDS = ("forecaster", "classifier")
_REGISTRY: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}


def register(kind: str) -> Callable[[type], type]:
    """Class decorator that records an estimator under ``kind`` ("forecaster" or "classifier").

    The class is recorded under its ``__name__`` (a later class of the same name replaces it)
    and returned unchanged; :func:`all_estimators`, :func:`get_estimator` and ``tsrec.load``
    find it there.

    Parameters
    ----------
    kind : {"forecaster", "classifier"}
        The list to record the class in.

    Returns
    -------
    callable
        The decorator: takes the class, records it, returns it.

    Raises
    ------
    ValueError
        ``kind`` is not one of the two kinds.

    Examples
    --------
    Every tsrec estimator is defined as ``@register("forecaster") class CycleNetForecaster: ...``;
    recording a class again changes nothing:

    >>> from tsrec.estimators import CycleNetForecaster
    >>> register("forecaster")(CycleNetForecaster) is CycleNetForecaster
    True
    >>> get_estimator("CycleNetForecaster") is CycleNetForecaster
    True
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def decorator(cls: type) -> type:
        _REGISTRY[kind][cls.__name__] = cls
        return cls

    return decorator


def all_estimators(kind: str | None = None) -> list[tuple[str, type]]:
    """Return ``(name, class)`` pairs of the registered estimators, sorted by name.

    Parameters
    ----------
    kind : {"forecaster", "classifier"} or None
        Restrict to one kind; None lists both.

    Returns
    -------
    list of (str, type)
        Each registered estimator's class name and class, sorted by name.

    Examples
    --------
    >>> import tsrec
    >>> names = [name for name, _ in tsrec.all_estimators(kind="forecaster")]
    >>> "CycleNetForecaster" in names
    True
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    importlib.import_module("tsrec.estimators")  # importing the modules registers the classes
    kinds = KINDS if kind is None else (kind,)
    return sorted((name, cls) for k in kinds for name, cls in _REGISTRY[k].items())


def get_estimator(name: str) -> type:
    """Look an estimator class up by name, with a clear error listing the known names.

    Parameters
    ----------
    name : str
        The class name, e.g. ``"CycleNetForecaster"`` (case matters).

    Returns
    -------
    type
        The registered estimator class (not an instance).

    Raises
    ------
    ValueError
        No estimator has that name; the message lists the known ones.

    Examples
    --------
    >>> cls = get_estimator("LS4Classifier")
    >>> cls.__name__, cls.__module__
    ('LS4Classifier', 'tsrec.estimators.ls4')
    """
    known = dict(all_estimators())
    if name not in known:
        # a typo, or a model's short name ("ARNet"): the estimator meant, where one stands out
        holding = [known_name for known_name in sorted(known) if str(name).lower() in known_name.lower()]
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.9) or holding[:1] * (len(holding) == 1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown estimator {name!r}{guess}; known estimators: {sorted(known)}")
    return known[name]
