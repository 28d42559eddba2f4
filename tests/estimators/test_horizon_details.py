"""fh details a mutation round over _horizon.py found unpinned: predict() reuses the fh given last, time spans
are whole steps of each series (the one-pass path too), and fit refuses in-sample steps before training."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster, _engine
from tsrec.estimators.errors import InputError, InSampleError, MixedStepsWarning


def arnet(y, fh=None) -> ARNetForecaster:
    return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, fh=fh)


def counted(n: int = 48) -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=pd.RangeIndex(n), name="v")


def hourly(n: int = 48) -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + 3, index=pd.date_range("2024-01-01", periods=n, freq="h"), name="v")


def test_a_later_fh_of_other_steps_is_the_one_predict_without_fh_reuses():
    est = arnet(counted(), fh=[1, 2])
    est.predict(fh=[3])
    assert list(est.predict().index) == [50]


def test_relative_steps_equal_to_the_held_absolute_stamps_replace_them():
    # fit's fh: the stamps 49 and 50 (steps 2 and 3); predict's: steps 49 and 50, the same numbers
    est = arnet(counted(), fh=ForecastingHorizon([49, 50], is_relative=False))
    assert list(est.predict(fh=[49, 50]).index) == [96, 97]
    assert list(est.predict().index) == [96, 97]


def test_spans_of_which_one_is_not_whole_steps_are_refused():
    est = arnet(hourly(), fh=[1])
    with pytest.raises(InputError, match=r"fh gives time spans .* has a step of .*, which is 0 days 01:00:00 long"):
        est.predict(fh=pd.to_timedelta(["1h", "90min"]))


def mixed_panel() -> pd.DataFrame:
    parts = [pd.DataFrame({"v": np.sin(np.arange(48) / 3.0) + 3},
                          index=pd.MultiIndex.from_product([[key], pd.date_range("2024-01-01", periods=48, freq=f)],
                                                           names=["id", "t"]))
             for key, f in (("a", "h"), ("b", "2h"))]
    return pd.concat(parts)


@pytest.fixture(scope="module")
def fitted():
    with pytest.warns(MixedStepsWarning):  # mixed on purpose (test_mixed_steps.py)
        return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(mixed_panel(), fh=[1])


def test_spans_that_are_other_step_counts_per_series_are_refused(fitted):
    # 2 hours: 2 steps of series a, 1 step of series b
    with pytest.raises(InputError, match=r"which are other numbers of steps for the series of the panel"):
        fitted.predict(fh=pd.to_timedelta(["2h"]))


@pytest.mark.parametrize("freq", ["h", "2h"])
def test_an_fh_built_with_one_series_step_is_left_to_sktime_on_a_mixed_panel(fitted, freq):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = fitted.predict(fh=ForecastingHorizon([1, 2], freq=freq))
    assert pred.shape == (4, 1)


def test_spans_for_a_new_panel_context_are_steps_not_nanoseconds():
    y = pd.Series(np.sin(np.arange(48) / 3.0) + 3, index=pd.date_range("2024-01-01", periods=48, freq="h"))
    panel = pd.concat({"a": y, "b": y + 1}, names=["id", "t"]).to_frame("v")
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(panel, fh=[1])
    spans = est.predict(fh=pd.to_timedelta(["1h", "2h"]), y=panel)
    steps = est.predict(fh=[1, 2], y=panel)
    pd.testing.assert_frame_equal(spans, steps)
    assert list(spans.index.get_level_values(-1)[:2]) == list(pd.date_range(y.index[-1], periods=3, freq="h")[1:])


@pytest.mark.parametrize("fh", [[0, 1], [-2, 3], range(3)], ids=["zero", "negative", "range-from-zero"])
def test_fit_refuses_in_sample_steps_before_training(fh, monkeypatch):
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    monkeypatch.setattr(_engine, "train", lambda *args, **kwargs: pytest.fail("fit trained"))
    with pytest.raises(InSampleError, match=r"^fh must name future steps 1, 2, \.\.\. after the end of the data"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y, fh=fh)
