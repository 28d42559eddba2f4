"""Warnings that name the caller's line, not a line inside tsrec or the libraries it runs under, and
the user's warning filters kept first when tsrec imports Lightning late."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.util
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator

# packages whose frames sit between the user's call and tsrec's warning: sktime's fit/predict
# wrappers, torch's inference-mode decorator, Lightning's loops, Optuna's study loop, ...
_LIBRARIES = ("tsrec", "sktime", "skbase", "sklearn", "torch", "lightning", "optuna", "dask", "distributed")


@functools.cache
def _library_folders() -> tuple[str, ...]:
    """The folders of the packages in ``_LIBRARIES`` that are installed (none is imported here)."""
    folders = []
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(os.path.join(os.path.realpath(f), "") for f in spec.submodule_search_locations)
    return tuple(folders)


def _is_library_frame(filename: str) -> bool:
    return os.path.realpath(filename).startswith(_library_folders())


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first frame outside the libraries.

    A fixed ``stacklevel`` names whichever wrapper happens to sit at that depth (sktime's
    ``fit``, torch's ``_contextlib``), so the warning shows the wrong line and a filter on the
    user's module does not match it. Python 3.12's ``skip_file_prefixes`` does this walk;
    tsrec supports 3.10 and 3.11 too.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("check this")
    >>> str(caught[0].message)
    'check this'
    """
    original, kinds = message, _SHOWN_KINDS.get()
    if kinds is not None:  # inside each_kind_once: one warning of each kind
        kind = (category, _SERIES_NAME.sub("", message))
        if kind in kinds:
            return
        kinds.add(kind)
        if kind[1] != message:  # it names series: others may follow, unshown
            message += " (shown once: the same may hold for other series)"
    collected = _COLLECTED.get()
    if collected is not None:  # inside collected_warnings: kept for the caller to show
        collected.append((category, original))
        return
    frame, level = sys._getframe(1), 2
    while frame is not None and _is_library_frame(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# how tsrec's messages name the series of a panel: one (``_newdata.series_name``), or a list of
# them in parentheses (``_newdata._failing_series``)
_SERIES_NAME = re.compile(r"series .+? of y|\(series [^)]*\)")
# the kinds of warning already shown in this context (None: outside each_kind_once); a context
# variable, so that threads do not share it, where warnings.catch_warnings is process-wide
_SHOWN_KINDS: contextvars.ContextVar[set | None] = contextvars.ContextVar("tsrec_shown_kinds", default=None)
# the (category, message) pairs warn_user keeps instead of showing (None: outside collected_warnings)
_COLLECTED: contextvars.ContextVar[list | None] = contextvars.ContextVar("tsrec_collected", default=None)


@contextlib.contextmanager
def each_kind_once() -> Iterator[None]:
    """Within the block, :func:`warn_user` shows one warning of each kind, a kind being the message
    up to the series it names.

    Work done in chunks of series (batch forecasting) warns once per chunk, naming a series of
    that chunk; a user wants one line, not one per 256 series. The state is per thread (and
    per context): other threads' warnings, and the process's filters, are left alone.
    """
    token = _SHOWN_KINDS.set(set())
    try:
        yield
    finally:
        _SHOWN_KINDS.reset(token)


@contextlib.contextmanager
def collected_warnings() -> Iterator[list[tuple[type[Warning], str]]]:
    """Within the block, :func:`warn_user` appends ``(category, message)`` to the list it yields
    instead of warning, for :func:`show_collected` to show elsewhere.

    A Dask worker's warnings go to its own log (on a cluster, another machine's), never to the
    user who started the work: the task returns them with its result. Per thread and context,
    like :func:`each_kind_once` (whose deduplication still applies inside the block).
    """
    collected: list[tuple[type[Warning], str]] = []
    token = _COLLECTED.set(collected)
    try:
        yield collected
    finally:
        _COLLECTED.reset(token)


def show_collected(collected: list[tuple[type[Warning], str]]) -> None:
    """Show warnings that :func:`collected_warnings` kept (from every task), one of each kind."""
    with each_kind_once():
        for category, message in collected:
            warn_user(message, category)


# Python's own filters (none in a debug build or under -X dev) as (action, category, module): set at
# start-up, behind every later filter but those a user appends
_PYTHON_DEFAULTS = frozenset({
    ("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
    ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None), ("ignore", ResourceWarning, None),
})


def _is_python_default(entry: tuple) -> bool:
    action, message, category, module, lineno = entry
    key = (action, category, getattr(module, "pattern", module))
    return message is None and lineno == 0 and key in _PYTHON_DEFAULTS


def _defaults_start(filters: list) -> int:
    """Where the last run of Python's default filters in ``filters`` begins: they end the list but
    for filters a user appended behind them (``append=True``). A user's filter equal to a default
    (``simplefilter("ignore", DeprecationWarning)``) stands first, ahead of the run, with the filters
    of every package imported since in between."""
    end = len(filters)
    while end and not _is_python_default(filters[end - 1]):
        end -= 1
    start = end
    while start and _is_python_default(filters[start - 1]):
        start -= 1
    return start if end else len(filters)  # no defaults (a debug build, -X dev): every filter is set later


def _filter_again(entry: tuple) -> None:
    """Put ``entry`` first, through the public call, which drops its old copy and tells the warning
    machinery the filters changed (an entry that was not made by that call, whose message pattern
    lacks its IGNORECASE, stays behind as a copy the new one shadows)."""
    action, message, category, module, lineno = entry
    warnings.filterwarnings(action, getattr(message, "pattern", message or ""), category,
                            getattr(module, "pattern", module or ""), lineno)


@contextlib.contextmanager
def earlier_filters_first() -> Iterator[None]:
    """Imports in the block add their warning filters behind those already set, Python's defaults aside.

    A library's import puts its filters first: Lightning's show its deprecations (``"default"``) and
    those of SymPy, which it imports (``"once"``). Ahead of a user's ``warnings.filterwarnings("ignore")``
    they show what the user hid, and tsrec imports Lightning at the first fit, after the user's
    imports and filters. Python's defaults (deprecations hidden outside ``__main__``) stay behind the
    new filters, where an import at start-up would have put them: Lightning's deprecations still show
    by default.
    """
    # one block at a time: a second thread's block saved the first's additions as "set before"
    with _REORDERING:
        before = list(warnings.filters)
        try:
            yield
        finally:
            if warnings.filters != before:  # the block's filters go behind those set before, ahead of Python's
                for entry in reversed(before[:_defaults_start(before)]):
                    _filter_again(entry)


_REORDERING = threading.RLock()


def import_lightning() -> None:
    """Import Lightning, if it is not yet, with its warning filters behind the user's (see
    :func:`earlier_filters_first`); tsrec imports it late, at the first fit or check that needs it."""
    if "lightning.pytorch" not in sys.modules:
        with earlier_filters_first():
            importlib.import_module("lightning.pytorch")
