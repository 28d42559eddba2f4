"""Calendar features in torch agree with pandas' calendar fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.nn.timefeatures import calendar_features, n_calendar_features


class Marks(torch.nn.Module):
    """A network that returns the time features it is given."""

    def forward(self, x, x_mark):
        return x_mark


def pandas_fields(index: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """The same fields straight from pandas, scaled the same way."""
    cols = [index.dayofweek / 6, (index.day - 1) / 30, (index.dayofyear - 1) / 365]
    if freq in ("min", "h"):
        cols.insert(0, index.hour / 23)
    if freq == "min":
        cols.insert(0, index.minute / 59)
    return np.stack(cols, axis=1) - 0.5


@pytest.mark.parametrize("freq,step", [("min", "15min"), ("h", "h"), ("D", "D")])
def test_features_match_pandas_across_centuries_and_leap_days(freq, step):
    rng = np.random.default_rng(0)
    # random stamps from 1800 to 2200, plus leap days and year ends
    ns = rng.integers(pd.Timestamp("1800-01-01").value, pd.Timestamp("2200-01-01").value, 2000)
    index = pd.DatetimeIndex(ns).floor(step).append(
        pd.DatetimeIndex(["2000-02-29", "1900-03-01", "2024-12-31 23:00", "1970-01-01", "1969-12-31"])
    )
    step_ns = {"15min": 15 * 60, "h": 3600, "D": 86400}[step] * 10**9
    got = calendar_features(torch.as_tensor(index.asi8 // step_ns), step_ns).numpy()
    np.testing.assert_allclose(got, pandas_fields(index, freq), atol=1e-6)


def test_feature_count_follows_the_step():
    assert [n_calendar_features(pd.Timedelta(s).value)
            for s in ("1min", "30min", "1h", "6h", "1D", "7D")] == [5, 5, 4, 4, 3, 3]
    with pytest.raises(ValueError, match="positive"):
        n_calendar_features(0)


def test_stamps_between_multiples_of_the_step_keep_their_hour():
    # 2-hourly stamps at odd hours: positions count whole steps, the offset puts the hour back
    index = pd.date_range("2024-01-01 01:00", periods=50, freq="2h").as_unit("ns")
    step_ns = 2 * 3600 * 10**9
    positions = torch.as_tensor(index.asi8 // step_ns)
    got = calendar_features(positions, step_ns, offset_ns=int(index.asi8[0] % step_ns)).numpy()
    np.testing.assert_allclose(got, pandas_fields(index, "h"), atol=1e-6)
    assert not np.allclose(calendar_features(positions, step_ns).numpy(), got)


def test_calendar_input_reads_each_steps_own_position_when_given():
    from tsrec.nn.timefeatures import CalendarInput

    hour = 3600 * 10**9
    net = CalendarInput(Marks(), 4, hour)
    start = torch.tensor([480000])
    torch.testing.assert_close(net(torch.zeros(1, 4, 1), start[:, None] + torch.arange(6)),
                               net(torch.zeros(1, 4, 1), start), rtol=0, atol=0)
    skipped = torch.tensor([[480000, 480001, 480003, 480004, 480005]])  # one more than the lookback: ignored
    expected = calendar_features(skipped[:, :4], hour, 0)
    torch.testing.assert_close(net(torch.zeros(1, 4, 1), skipped), expected, rtol=0, atol=0)



def test_with_calendar_hands_the_offset_to_the_features():
    # 2-hourly stamps at odd hours: without the offset the network would read hours 0, 2, 4
    from tsrec.nn.timefeatures import with_calendar

    hour = 3600 * 10**9
    net = with_calendar(lambda n_features: Marks(), 3, 2 * hour, offset_ns=hour)
    index = pd.date_range("2024-01-01 01:00", periods=3, freq="2h").as_unit("ns")
    got = net(torch.zeros(1, 3, 1), torch.as_tensor(index.asi8[:1] // (2 * hour))).numpy()[0]
    np.testing.assert_allclose(got, pandas_fields(index, "h"), atol=1e-6)
    np.testing.assert_allclose((got[:, 0] + 0.5) * 23, [1, 3, 5], atol=1e-5)


def test_calendar_features_take_the_dtype_of_a_double_input():
    # the features follow x's dtype: a float64 network on float64 input must not get float32 features
    import torch

    from tsrec.nn import TPGN
    from tsrec.nn.timefeatures import CalendarInput

    torch.manual_seed(0)
    net = CalendarInput(TPGN(4, 2, 3, 2, hidden=4, n_time_features=4), 4, 3600 * 10**9).double()
    out = net(torch.randn(2, 4, 3, dtype=torch.float64), torch.tensor([0, 5]))
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
