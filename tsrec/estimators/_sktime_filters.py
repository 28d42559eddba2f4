"""Undo the warning filters that sktime's pandas-2.2 suppressor leaves behind after each call.

sktime 1.2's ``_SuppressWarningPattern`` (around its ``ForecastingHorizon`` arithmetic, in every
``fit``/``predict``) adds an ``"ignore"`` filter for one FutureWarning message and, on leaving, a
global ``("default", FutureWarning)`` filter in front of the user's: a notebook's
``warnings.simplefilter("ignore", FutureWarning)`` stops working after the first forecast. tsrec's
forecasters remove exactly those two filters when they were not set before the call.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator

#: sktime's public forecaster methods that run its horizon code (those calling others are wrapped
#: too: the filters are checked on leaving each)
PUBLIC_METHODS = (
    "fit", "predict", "fit_predict", "update", "update_predict", "update_predict_single", "predict_residuals",
    "predict_interval", "predict_quantiles", "predict_var", "predict_proba", "score",
)
_PD22_MESSAGE = "' is deprecated and will be removed in a future version, please use '"


def _is_sktime_leftover(entry: tuple) -> bool:
    action, message, category, module, lineno = entry
    if category is not FutureWarning or module is not None or lineno != 0:
        return False
    return (action == "default" and message is None) or (
        action == "ignore" and _PD22_MESSAGE in getattr(message, "pattern", ""))


def _as_before(before: list, current: list) -> list:
    """``current`` with the filters of sktime's kind where ``before`` had them: new ones dropped, and
    one set before the call (by the user, or an earlier sktime call) back in its place, after the
    entry that preceded it. sktime's ``filterwarnings`` moves an equal filter to the front rather
    than adding one: ahead of a user's later ``simplefilter("ignore", FutureWarning)``."""
    result = [entry for entry in current if not _is_sktime_leftover(entry)]
    for i, entry in enumerate(before):
        if _is_sktime_leftover(entry):
            earlier = next((other for other in reversed(before[:i]) if other in result), None)
            result.insert(0 if earlier is None else result.index(earlier) + 1, entry)
    return result


@contextlib.contextmanager
def sktime_leftovers_removed() -> Iterator[None]:
    """The filters of sktime's suppressor as they were before the block, on leaving it; other
    changes (an import's filters, which tsrec ranks behind the user's) are kept."""
    before = list(warnings.filters)
    try:
        yield
    finally:
        restored = _as_before(before, warnings.filters)
        if restored != warnings.filters:
            warnings.filters[:] = restored
            warnings._filters_mutated()  # what catch_warnings calls: cached "already shown" marks are stale


def _keeping_filters(method: Callable) -> Callable:
    @functools.wraps(method)
    def method_keeping_filters(*args, **kwargs):
        with sktime_leftovers_removed():
            return method(*args, **kwargs)

    method_keeping_filters.keeps_warning_filters = True
    return method_keeping_filters


def keep_warning_filters(cls: type, inherited: bool) -> None:
    """Wrap ``cls``'s public sktime methods: those it defines, and with ``inherited`` those it inherits."""
    for name in PUBLIC_METHODS:
        method = getattr(cls, name, None) if inherited else cls.__dict__.get(name)
        if callable(method) and not getattr(method, "keeps_warning_filters", False):
            setattr(cls, name, _keeping_filters(method))
