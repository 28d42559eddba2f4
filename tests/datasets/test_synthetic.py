"""make_ar and make_seasonal are the processes they document: the tests and tutorials that use them
as known answers rely on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.datasets import make_ar, make_seasonal


@pytest.mark.parametrize("coefficients", [(0.2, 0.3, -0.5), (0.6,), (0.5, -0.25)])
def test_make_ar_follows_its_recursion_and_noise(coefficients):
    y = make_ar(coefficients, n_samples=20_000, noise=0.1, random_state=0).to_numpy()
    p = len(coefficients)
    # least squares of y_t on y_{t-1}, ..., y_{t-p}: lag 1 first, as documented
    lags = np.column_stack([y[p - 1 - i: len(y) - 1 - i] for i in range(p)])
    fitted, *_ = np.linalg.lstsq(lags, y[p:], rcond=None)
    np.testing.assert_allclose(fitted, coefficients, atol=0.03)
    residual = y[p:] - lags @ fitted
    assert residual.std() == pytest.approx(0.1, rel=0.05)
    assert abs(y[:50]).max() > 0  # no zero starting values kept: the burn-in is dropped


def test_make_ar_without_noise_is_zero():
    assert (make_ar(noise=0.0, n_samples=50).to_numpy() == 0).all()


@pytest.mark.parametrize("period, channels", [(24, 1), (7, 3)])
def test_make_seasonal_is_its_cycle_plus_noise_at_each_phase(period, channels):
    y, cycle = make_seasonal(n_samples=5000, period=period, n_channels=channels, noise=0.2, random_state=1)
    assert y.shape == (5000, channels) and cycle.shape == (period, channels)
    phases = np.arange(len(y)) % period
    rest = y.to_numpy() - cycle[phases]
    assert rest.std(axis=0) == pytest.approx(np.full(channels, 0.2), rel=0.05)
    assert abs(rest.mean(axis=0)).max() < 0.02
    exact, same = make_seasonal(n_samples=60, period=period, n_channels=channels, noise=0.0, random_state=1)
    np.testing.assert_array_equal(exact.to_numpy(), same[np.arange(60) % period])
    if period == 24:  # the default start at midnight: the phase is the hour of the day
        assert (y.index.hour == phases).all()


@pytest.mark.parametrize("make, kwargs, what", [
    (make_ar, {"n_samples": 10**13}, r"n_samples=10000000000000 asks for 10,000,000,000,200 values"),
    (make_seasonal, {"n_samples": 10**12, "n_channels": 2}, r"n_samples=1000000000000 x n_channels=2 asks for"),
])
def test_a_series_beyond_memory_is_refused_by_its_arguments(make, kwargs, what):
    # numpy's bare MemoryError named no argument
    with pytest.raises(ValueError, match=rf"^{what}.*GiB of memory this process may use; ask for fewer$"):
        make(**kwargs)


def test_an_anchored_frequency_starts_on_its_first_stamp_after_start():
    y, _ = make_seasonal(n_samples=3, period=2, freq="W-TUE", start="2024-01-01")
    assert y.index[0] == pd.Timestamp("2024-01-02")  # the documented reading of start
