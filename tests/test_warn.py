"""tsrec's warnings name the caller's line, through sktime's, torch's and Optuna's wrappers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec._warn import collected_warnings, each_kind_once, earlier_filters_first, show_collected, warn_user
from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier
from tsrec.tuning import tune

HOURLY = pd.Series(np.sin(np.arange(120) / 3.0), index=pd.date_range("2024-01-01", periods=120, freq="h"))


def caught_warnings(call) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, (UserWarning, RuntimeWarning))]


def test_a_direct_call_names_its_own_line():
    (caught,) = caught_warnings(lambda: warn_user("here"))
    assert (caught.filename, str(caught.message)) == (__file__, "here")


@pytest.mark.parametrize("call,message", [
    (lambda: CycleNetForecaster(lookback=24, horizon=6, patience=2, val_size=0, max_epochs=1).fit(HOURLY),
     "patience=2 is not used"),
    (lambda: PGNClassifier(hidden=4, max_epochs=1, val_size=0.2).fit(np.zeros((6, 12)), np.arange(6) % 3),
     "val_size=0.2 leaves no validation data"),
    (lambda: ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(HOURLY).predict(
        fh=[1], y=HOURLY.iloc[:10].set_axis(pd.date_range("2024-01-01", periods=10, freq="D"))),
     "y has a step of D"),
    (lambda: tune(ARNetForecaster(n_lags=4, max_epochs=1, val_size=0.25), make_ar((0.5,), n_samples=120),
                  n_trials=2, space=lambda trial: {"lr": 0.01 if trial.number else -1.0}),
     "trial 0 failed"),
])
def test_each_warning_names_the_users_line_not_a_wrapper(call, message):
    # a fixed stacklevel named torch's inference-mode decorator or sktime's fit
    caught = caught_warnings(call)
    hits = [w for w in caught if message in str(w.message)]
    assert hits and {w.filename for w in hits} == {__file__}, [(w.filename, w.lineno) for w in caught]


def test_each_kind_once_shows_one_warning_per_kind_and_leaves_the_process_state_alone():
    import threading

    from tsrec._warn import each_kind_once

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters, show = list(warnings.filters), warnings.showwarning
        with each_kind_once():
            # process-wide state untouched: another thread's warnings are shown as usual
            assert warnings.filters == filters and warnings.showwarning is show
            for name in ("a", "b"):
                warn_user(f"series {name!r} of y has a step of D")
                warn_user(f"the forecast (series {name!r}, 'x') grows")
            warn_user("another kind")
            warn_user("another kind")
            other = threading.Thread(target=lambda: warn_user("series 'c' of y has a step of D"))
            other.start()
            other.join()
    messages = [str(w.message) for w in caught]
    assert messages == ["series 'a' of y has a step of D (shown once: the same may hold for other series)",
                        "the forecast (series 'a', 'x') grows (shown once: the same may hold for other series)",
                        "another kind",  # names no series: nothing to add
                        "series 'c' of y has a step of D"]


def test_collected_warnings_are_kept_for_the_caller_and_shown_once_a_kind():
    # a Dask worker's warnings reached only its log: the task hands them back and the caller shows them
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with collected_warnings() as first, each_kind_once():
            warn_user("series 'a' of y has a gap")
            warn_user("series 'b' of y has a gap")  # the same kind: not kept twice within a task
        with collected_warnings() as second:
            warn_user("series 'c' of y has a gap", RuntimeWarning)
        assert shown == []
        show_collected(first + second)
    assert first == [(UserWarning, "series 'a' of y has a gap")]
    assert second == [(RuntimeWarning, "series 'c' of y has a gap")]
    assert [(w.category, str(w.message)) for w in shown] == [
        (UserWarning, "series 'a' of y has a gap (shown once: the same may hold for other series)"),
        (RuntimeWarning, "series 'c' of y has a gap (shown once: the same may hold for other series)"),
    ]


class _OldAPIWarning(DeprecationWarning):
    """A library's deprecation that its import shows by default, as Lightning's are."""


@pytest.mark.parametrize("users_filter,shown", [(None, ["old API"]), ("ignore", [])])
def test_filters_an_import_adds_rank_behind_those_set_before_and_ahead_of_pythons(users_filter, shown):
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's own filters, as a fresh interpreter has them
        for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        if users_filter:
            warnings.simplefilter(users_filter)
        with earlier_filters_first():
            warnings.simplefilter("default", _OldAPIWarning)  # what the library's import does
        warnings.warn("old API", _OldAPIWarning)
    assert [str(w.message) for w in caught] == shown


def test_a_filter_the_user_appended_keeps_pythons_defaults_behind_the_imports():
    # Python's defaults were found only at the end of the list: after an appended filter they were
    # moved ahead of the import's, and its deprecations were hidden by default
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        for category in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", category=RuntimeWarning, append=True)
        with earlier_filters_first():
            warnings.simplefilter("default", _OldAPIWarning)
        warnings.warn("old API", _OldAPIWarning)
        warnings.warn("a runtime note", RuntimeWarning)
    assert [str(w.message) for w in caught] == ["old API"]
