"""``predict`` at absolute time stamps, of the stored panel and of ``y=panel``, read from the panel's
arrays (``_onepass.stored_fh``, ``forecast_stored``, ``forecast_new_context``): the forecasts must be
those of a frame per series, to the bit, and stamps the arrays cannot place must be left to that
path, which names what is wrong with them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

import tsrec
from tsrec.estimators import ARNetForecaster, LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators import _evaluate, _onepass
from tsrec.estimators.errors import InputError, InSampleError

from onepass_panels import hours, panel_of  # tests/estimators/onepass_panels.py


# series ending 2024-01-02 15:00, 17:00 and 13:00: the same stamps are other steps after each end
PANEL = {"a": hours("2024-01-01", 40), "b": hours("2024-01-01 04:00", 38), "c": hours("2023-12-31 20:00", 42)}
SMALL = {"max_epochs": 1, "random_state": 0}
MODELS = {
    "AR-Net, each series scaled": lambda p: ARNetForecaster(n_lags=4, horizon=3, **SMALL).fit(p),
    "AR-Net, one scaler": lambda p: ARNetForecaster(n_lags=4, horizon=3, scaling="global", **SMALL).fit(p),
    "SpaceTime (a closed loop)": lambda p: SpaceTimeForecaster(lookback=4, horizon=3, width=8, n_kernels=2,
                                                               kernel_dim=4, **SMALL).fit(p),
    "LS4 (a sampler)": lambda p: LS4Forecaster(lookback=4, horizon=3, z_dim=2, d_model=8, d_state=4, n_layers=1,
                                               n_samples=5, **SMALL).fit(p),
}
STAMPS = {
    "the next hours": hours("2024-01-02 18:00", 3),
    "past the horizon, unsorted": pd.DatetimeIndex(["2024-01-03 02:00", "2024-01-02 19:00", "2024-01-02 22:00"]),
    "in seconds": hours("2024-01-02 18:00", 2, unit="s"),
}


def per_series(est, fh, y=None) -> pd.DataFrame:
    """``predict`` as it was: the stamps aligned and forecast series by series."""
    if y is not None:
        return _evaluate.predict_new_context(est, fh, y)
    fast = _onepass.stored_fh, _onepass.forecast_stored
    _onepass.stored_fh = _onepass.forecast_stored = lambda *args: None
    try:
        return est.predict(fh=fh)
    finally:
        _onepass.stored_fh, _onepass.forecast_stored = fast


def taken(monkeypatch, name: str) -> list:
    """What ``_onepass.<name>`` returns while the test runs (None: the per-series path was taken)."""
    calls, original = [], getattr(_onepass, name)
    monkeypatch.setattr(_onepass, name, lambda *args: calls.append(original(*args)) or calls[-1])
    return calls


@pytest.fixture(scope="module")
def models():
    return {name: fit(panel_of(PANEL)) for name, fit in MODELS.items()}


@pytest.mark.parametrize("stamps", list(STAMPS))
@pytest.mark.parametrize("model", list(MODELS))
def test_stored_panels_forecast_stamps_as_a_frame_per_series_does(models, model, stamps, monkeypatch):
    est = models[model]
    aligned, forecasts = taken(monkeypatch, "stored_fh"), taken(monkeypatch, "forecast_stored")
    fast = est.predict(fh=STAMPS[stamps])
    assert aligned[0] is not None and forecasts[0] is not None, "the panel should be forecast from its arrays"
    pd.testing.assert_frame_equal(fast, per_series(est, STAMPS[stamps]), check_exact=True)


@pytest.mark.parametrize("stamps", list(STAMPS))
@pytest.mark.parametrize("model", list(MODELS))
def test_new_contexts_forecast_stamps_as_a_frame_per_series_does(models, model, stamps, monkeypatch):
    est, context = models[model], panel_of({"x": hours("2024-01-01", 12), "b": hours("2024-01-01 03:00", 15)}, seed=1)
    fh = STAMPS[stamps] - pd.Timedelta("1D") + pd.Timedelta("2h")  # the context ends a day earlier
    forecasts = taken(monkeypatch, "forecast_new_context")
    fast = est.predict(fh=fh, y=context)
    assert forecasts[0] is not None, "the panel should be forecast from its arrays"
    pd.testing.assert_frame_equal(fast, per_series(est, fh, context), check_exact=True)


def test_integer_stamps_and_a_loaded_model_forecast_as_before(monkeypatch, tmp_path):
    est = ARNetForecaster(n_lags=4, horizon=2, **SMALL).fit(
        panel_of({"x": pd.RangeIndex(0, 30), "y": pd.RangeIndex(3, 35)}))
    forecasts = taken(monkeypatch, "forecast_stored")
    for stamps in (pd.Index([36, 38]), pd.Index([36, 38], dtype="uint64"), pd.Index([40], dtype="int32")):
        fh = ForecastingHorizon(stamps, is_relative=False)
        pd.testing.assert_frame_equal(est.predict(fh=fh), per_series(est, fh), check_exact=True)
    est.save(tmp_path / "model")
    fh = ForecastingHorizon([37], is_relative=False)
    pd.testing.assert_frame_equal(tsrec.load(tmp_path / "model").predict(fh=fh), per_series(est, fh), check_exact=True)
    assert len(forecasts) == 4 and all(out is not None for out in forecasts)


BAD_STAMPS = {
    "between two steps": (pd.DatetimeIndex(["2024-01-02 18:30"]), InputError, "not on the time grid"),
    "at a series' end": (pd.DatetimeIndex(["2024-01-02 16:00", "2024-01-02 18:00"]), InSampleError, "not after"),
    "in a time zone": (hours("2024-01-02 18:00", 2).tz_localize("UTC"), InputError, "naive"),
    "integers": (ForecastingHorizon([50, 51], is_relative=False), InputError, "integer"),
    "none": (pd.DatetimeIndex([]), InputError, "fh is empty"),
}


@pytest.mark.parametrize("case", list(BAD_STAMPS))
def test_stamps_the_arrays_cannot_place_are_refused_as_before(models, case, monkeypatch):
    est, (fh, error, words) = models["AR-Net, each series scaled"], BAD_STAMPS[case]
    aligned = taken(monkeypatch, "stored_fh")
    with pytest.raises(error, match=words):
        est.predict(fh=fh)
    assert aligned == [None]
    with pytest.raises(error, match=words):
        est.predict(fh=fh, y=panel_of(PANEL, seed=1))


def test_periods_and_stamps_finer_than_the_grid_are_aligned_per_series(monkeypatch):
    seconds = ARNetForecaster(n_lags=4, horizon=2, **SMALL).fit(
        panel_of({key: t.as_unit("s") for key, t in PANEL.items()}))
    fine = pd.DatetimeIndex(["2024-01-02 18:00:00.000000001"])  # no whole second: as_unit would round it
    with pytest.raises(InputError, match="not on the time grid"):
        seconds.predict(fh=fine)
    periods = pd.period_range("2024-01-02 18:00", periods=2, freq="h")
    aligned, forecasts = taken(monkeypatch, "stored_fh"), taken(monkeypatch, "forecast_stored")
    pd.testing.assert_frame_equal(seconds.predict(fh=periods), per_series(seconds, periods), check_exact=True)
    # periods stand for stamps, which the per-series look aligns; forecasts at those stamps take the arrays
    assert aligned == [None] and forecasts[0] is not None


def test_stamps_near_int64_limits_are_not_read_as_steps():
    grid = _onepass.Grid(1, np.array([0, 5], dtype=np.int64), 1, None)
    top = np.iinfo(np.int64).max
    assert _onepass._stamp_steps(grid, pd.Index([top])) is None  # past 2**62: a gap could wrap
    assert _onepass._stamp_steps(grid, pd.Index([top + 1], dtype="uint64")) is None
    assert _onepass._stamp_steps(grid, pd.Index([7, 9])).tolist() == [[7, 9], [2, 4]]
    assert _onepass._stamp_steps(grid, pd.Index([5, 9])) is None  # at the second series' end
    two = _onepass.Grid(2, np.array([0, 6], dtype=np.int64), 2, None)
    assert _onepass._stamp_steps(two, pd.Index([8], dtype="uint64")).tolist() == [[4], [1]]
    assert _onepass._stamp_steps(two, pd.Index([9])) is None  # off the grid


def test_stamps_past_2262_in_seconds_are_forecast_on_both_paths(monkeypatch):
    # the per-series look counted fixed steps in nanoseconds, whose range ends in 2262: it refused
    # these stamps (which seconds hold, and relative steps reached) where the arrays forecast them
    seconds = {"a": hours("2262-04-01", 20, unit="s"), "b": hours("2262-04-01 02:00", 20, unit="s")}
    est = ARNetForecaster(n_lags=3, horizon=2, **SMALL).fit(panel_of(seconds))
    fh = pd.DatetimeIndex(["2262-04-12 00:00"]).as_unit("s")
    fast = est.predict(fh=fh)
    pd.testing.assert_frame_equal(fast, per_series(est, fh), check_exact=True)
    as_steps = est.predict(fh=[245]).loc[["a"]]  # the same stamp for a, a step count
    pd.testing.assert_frame_equal(fast.loc[["a"]], as_steps, check_exact=True)
    context = panel_of({"a": seconds["a"]}, seed=1)
    pd.testing.assert_frame_equal(est.predict(fh=fh, y=context), per_series(est, fh, context), check_exact=True)


def test_a_forecast_further_than_int64_nanoseconds_reach_is_refused_not_wrapped():
    # _onepass.check_room_on_grid: when the furthest step alone (220,000 days) passes int64's range of
    # nanoseconds, every series is refused; the stamps must not wrap round to a date in 2040
    index = pd.date_range("2020-01-01", periods=1100, freq="D").as_unit("ns")
    y = pd.concat({k: pd.DataFrame({"v": np.sin(np.arange(1100) / 3) + 3}, index=index) for k in "ab"},
                  names=["id", "time"])
    est = ARNetForecaster(n_lags=4, horizon=1000, max_epochs=1, random_state=0).fit(y, fh=[1])
    with pytest.raises(InputError, match="past 2262-04-11"):
        est.predict(fh=[220_000])
