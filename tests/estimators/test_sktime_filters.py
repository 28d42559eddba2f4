"""A user's warning filters hold across tsrec forecasters' calls, although sktime's horizon code
leaves a ``("default", FutureWarning)`` filter in front of them (sktime 1.2)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators._sktime_filters import PUBLIC_METHODS
from tsrec.registry import all_estimators

DAYS = pd.date_range("2020", periods=60, freq="D")
Y = pd.Series(np.sin(np.arange(60.0)), index=DAYS)


def _later(n: int = 5) -> pd.Series:
    """The ``n`` days after the fitted ones."""
    return pd.Series(np.cos(np.arange(n, dtype=float)), index=pd.date_range(DAYS[-1], periods=n + 1, freq="D")[1:])


CALLS = {
    "fit": lambda est: est.fit(Y, fh=[1, 2]),
    "predict": lambda est: est.predict(fh=[1, 2, 3]),
    "fit_predict": lambda est: est.fit_predict(Y, fh=[1, 2]),
    "update": lambda est: est.update(_later(), update_params=False),
    "update_predict_single": lambda est: est.update_predict_single(_later(), update_params=False),
    "predict_residuals": lambda est: est.predict_residuals(_later(2)),
}


@pytest.fixture
def forecaster():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(Y, fh=[1, 2])


@pytest.mark.parametrize("call", list(CALLS))
def test_a_users_filter_for_future_warnings_still_holds_after_the_call(forecaster, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)  # tsrec's own notes on tiny data, not under test
        before = list(warnings.filters)
        CALLS[call](forecaster)
        assert warnings.filters == before
        with warnings.catch_warnings(record=True) as seen:
            warnings.warn("a user's deprecation", FutureWarning)
        assert seen == []


def test_a_users_default_filter_for_future_warnings_is_kept(forecaster):
    with warnings.catch_warnings():
        warnings.simplefilter("default", FutureWarning)
        before = list(warnings.filters)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            forecaster.predict(fh=[1, 2])
        assert warnings.filters == before


@pytest.mark.parametrize("name, cls", all_estimators("forecaster"))
def test_every_forecasters_public_methods_keep_the_filters(name, cls):
    unwrapped = [method for method in PUBLIC_METHODS if not getattr(getattr(cls, method), "keeps_warning_filters", 0)]
    assert unwrapped == [], f"{name}: {unwrapped}"


def test_a_default_filter_set_before_the_users_ignore_stays_behind_it(forecaster):
    # an sktime forecaster run earlier leaves ("default", FutureWarning); sktime's next call moved that
    # filter to the front, ahead of the ignore the user set since, and the ignore stopped holding
    with warnings.catch_warnings():
        warnings.simplefilter("default", FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        before = list(warnings.filters)
        forecaster.predict(fh=[1, 2])
        assert warnings.filters == before


def test_filters_an_import_adds_during_the_call_are_kept_and_sktimes_go_back():
    from tsrec.estimators._sktime_filters import _as_before

    users_ignore, earlier_default = ("ignore", None, FutureWarning, None, 0), ("default", None, FutureWarning, None, 0)
    python_default = ("ignore", None, DeprecationWarning, None, 0)
    imported = ("once", None, UserWarning, None, 0)  # a package imported by the first fit
    before = [users_ignore, earlier_default, python_default]
    after_call = [earlier_default, users_ignore, imported, python_default]
    assert _as_before(before, after_call) == [users_ignore, earlier_default, imported, python_default]
    assert _as_before([users_ignore, python_default], after_call) == [users_ignore, imported, python_default]


def test_a_warning_shown_under_sktimes_filter_is_shown_again_under_the_users():
    # "default" marks a warning as shown in its module's registry; once that filter is gone, the
    # user's "always" must show it again, which takes telling the warnings module its filters changed
    from tsrec.estimators._sktime_filters import sktime_leftovers_removed

    def deprecated() -> None:
        warnings.warn("an old API", FutureWarning)  # one line, one registry key

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", FutureWarning)
        with sktime_leftovers_removed():
            warnings.simplefilter("default", FutureWarning)  # what sktime's suppressor leaves
            deprecated()
        deprecated()
    assert [str(w.message) for w in seen] == ["an old API"] * 2
