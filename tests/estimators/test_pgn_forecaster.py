"""PGNForecaster (TPGN): period checks and the calendar features the paper feeds beside values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.errors import TsrecError
from tsrec.estimators import PGNForecaster
from tsrec.nn.timefeatures import CalendarInput


@pytest.fixture(scope="module")
def hourly() -> pd.Series:
    rng = np.random.default_rng(0)
    t = np.arange(24 * 30)
    values = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(len(t))
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(t), freq="h"))


def fit(y: pd.Series, **params) -> PGNForecaster:
    return PGNForecaster(lookback=48, horizon=24, hidden=4, max_epochs=2, random_state=0, **params).fit(y)


def test_forecasts_read_the_calendar_of_the_context(hourly):
    est = fit(hourly)
    assert isinstance(est.network_, CalendarInput) and est.network_.network.n_time_features == 4
    context = hourly.iloc[-48:]
    moved = context.copy()
    moved.index = context.index + pd.Timedelta(days=3)  # same values, other weekdays and dates
    a = est.predict(fh=range(1, 25), y=context).to_numpy()
    b = est.predict(fh=range(1, 25), y=moved).to_numpy()
    assert not np.allclose(a, b)


def test_without_time_features_only_values_matter(hourly):
    est = fit(hourly, time_features=False)
    context = hourly.iloc[-48:]
    moved = context.copy()
    moved.index = context.index + pd.Timedelta(days=3)
    np.testing.assert_array_equal(
        est.predict(fh=range(1, 25), y=context).to_numpy(), est.predict(fh=range(1, 25), y=moved).to_numpy()
    )


def test_integer_index_fits_without_calendar():
    y = pd.Series(np.sin(np.arange(200) * 2 * np.pi / 12))
    est = PGNForecaster(lookback=24, horizon=12, period=12, hidden=4, max_epochs=1).fit(y)
    assert not isinstance(est.network_, CalendarInput)
    assert est.predict(fh=[1, 2]).shape == (2,)


@pytest.mark.parametrize(
    "params,message",
    [
        ({"lookback": 50, "horizon": 24}, "lookback=50 is not a multiple of period=24; use lookback=48 or 72"),
        ({"lookback": 48, "horizon": 30}, "horizon=30 is not a multiple of period=24; use horizon=24 or 48"),
        ({"lookback": 24, "horizon": 24}, "at least two periods"),
        ({"time_features": "yes"}, "time_features must be True or False"),
    ],
)
def test_bad_periods_and_flags_are_explained(hourly, params, message):
    full = {"lookback": 48, "horizon": 24, **params}
    with pytest.raises(TsrecError, match=message):  # tsrec's own, which a caller can catch as such
        PGNForecaster(**full, max_epochs=1).fit(hourly)


def test_ten_minute_data_infers_a_day_and_period_24_follows_the_paper():
    index = pd.date_range("2024-01-01", periods=400, freq="10min")
    y = pd.Series(np.sin(np.arange(400) * 2 * np.pi / 24), index=index)
    with pytest.raises(ValueError, match="lookback=168 is not a multiple of period=144; use lookback=288"):
        PGNForecaster(hidden=2, max_epochs=1).fit(y)
    est = PGNForecaster(period=24, hidden=2, max_epochs=1, val_size=0).fit(y)  # TPGN's setting, defaults 168/168
    assert est.network_meta_["period"] == 24
    assert est.predict(fh=[1, 168]).index[-1] == index[-1] + 168 * pd.Timedelta("10min")
