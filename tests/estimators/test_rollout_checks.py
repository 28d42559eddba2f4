"""Forecasts that overflow or grow without bound say why (numerical robustness audit).

Before, a closed-loop roll-out far past the horizon returned 1e10 silently, then failed with a
message blaming the context; a finite context far off the training scale reached the kernels'
"contains NaN or inf; clean the input" about an input without NaN.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators._newdata import ROLLOUT_GROWTH, check_forecast
from tsrec.estimators.errors import InputError

HORIZON = 4


def path(growth: float = 1.0, overflow_at: int | None = None, rows: int = 2) -> np.ndarray:
    """Scaled forecasts (rows, 12 steps, 1): values near 1 within the horizon, then ``growth`` times
    that from step 9 on in the last row, and inf from ``overflow_at`` (0-based) on."""
    values = np.ones((rows, 12, 1))
    values[-1, 8:] *= growth
    if overflow_at is not None:
        values[-1, overflow_at:] = np.inf
    return values


def test_a_stable_forecast_passes_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_forecast(path(growth=0.5 * ROLLOUT_GROWTH), keys=["a", "b"], horizon=HORIZON)


def test_a_roll_out_that_grows_warns_how_many_steps_are_sound():
    with pytest.warns(RuntimeWarning,
                      match=re.escape("the forecast (series 'b') grows past the horizon: from step 9 on")
                      + r".*\(4 steps\).*trust at most 8 steps"):
        check_forecast(path(growth=2 * ROLLOUT_GROWTH), keys=["a", "b"], horizon=HORIZON)


def test_an_overflow_past_the_horizon_says_how_many_steps_to_ask_for():
    with pytest.raises(InputError, match=re.escape("the forecast (series 'b') overflows past the horizon (4 steps)")
                       + r".*from step 11; forecast at most 10 steps"):
        check_forecast(path(overflow_at=10), keys=["a", "b"], horizon=HORIZON)
    # the growth before the overflow counts: the sound steps end where it began
    with pytest.raises(InputError, match="from step 9; forecast at most 8 steps"):
        check_forecast(path(growth=2 * ROLLOUT_GROWTH, overflow_at=10), keys=["a", "b"], horizon=HORIZON)


def test_an_overflow_within_the_horizon_blames_the_context():
    with pytest.raises(InputError, match=r"the forecast \(series 'b'\) is not finite: the network overflowed on this "
                                         r"context"):
        check_forecast(path(overflow_at=2), keys=["a", "b"], horizon=HORIZON)


def _hourly(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), freq="h"), name="y")


def test_an_unstable_closed_loop_warns_then_refuses_past_its_sound_steps():
    # a small companion state (kernel_dim=3): the decoder's A + b k^T is not kept stable by its norms
    rng = np.random.default_rng(0)
    y = _hourly(np.sin(2 * np.pi * np.arange(400) / 24) + 0.1 * rng.standard_normal(400))
    est = SpaceTimeForecaster(lookback=48, horizon=12, width=16, n_kernels=4, kernel_dim=3, max_epochs=3, batch_size=32,
                              random_state=3).fit(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(est.predict(fh=range(1, 13))).all()
    with pytest.warns(RuntimeWarning, match=r"grows past the horizon: from step (\d+) on .* trust at most \d+ steps"):
        est.predict(fh=range(1, 121))
    with pytest.raises(InputError, match=r"overflows past the horizon \(12 steps\).*forecast at most \d+ steps"):
        est.predict(fh=range(1, 1201))


def test_a_finite_context_that_overflows_a_kernel_is_refused_as_input():
    # LS4 without instance normalisation: a context 1e20 times the training scale is finite when
    # standardised (float32 holds it) and overflows inside an S4 kernel
    rng = np.random.default_rng(0)
    y = _hourly(np.sin(np.arange(80) / 3) + 0.1 * rng.standard_normal(80))
    est = LS4Forecaster(**{**LS4Forecaster.get_test_params()[0], "max_epochs": 1}).fit(y)
    with pytest.raises(InputError, match="the forecast is not finite: the network overflowed on this context") as info:
        est.predict(fh=[1, 2], y=y * 1e20)
    assert "clean the input" not in str(info.value)


def test_a_roll_out_larger_than_the_machines_memory_is_refused_before_it_starts(monkeypatch):
    from tsrec.estimators import ARNetForecaster, _horizon

    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**30)  # a 1 GiB machine
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    # sktime's int fh=n is the steps 1..n: 2**26 rows, a roll-out through all of them
    with pytest.raises(InputError, match=r"fh reaches step 67,108,864: 1 series would give 67,108,864 rows"):
        est.predict(fh=2**26)
    assert est.predict(fh=[1, 2]).shape == (2,)  # small horizons are untouched


@pytest.mark.parametrize("fh", [10**12, range(1, 10**12 + 1), np.int64(10**12)])
def test_a_huge_int_or_range_fh_is_refused_before_sktime_builds_its_steps(fh):
    # sktime's ForecastingHorizon(10**12) allocates every step: numpy's bare "Unable to allocate"
    from tsrec.estimators import ARNetForecaster

    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    with pytest.raises(InputError, match=r"fh reaches step 1,000,000,000,000: 1 series would give"):
        est.predict(fh=fh)
    with pytest.raises(InputError, match=r"fh reaches step 1,000,000,000,000: 1 series would give"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y, fh=fh)  # fit's fh, too


@pytest.mark.parametrize("new", [False, True], ids=["stored", "new-context"])
def test_a_listed_step_past_memory_is_refused_without_the_slow_roll_out_warning(new, monkeypatch):
    # fh=[10**9] warned "which can take minutes", then refused for memory (an int fh was refused alone)
    from tsrec.estimators import ARNetForecaster, _horizon

    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**30)  # a 1 GiB machine
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    with warnings.catch_warnings(), pytest.raises(InputError, match=r"fh reaches step 1,000,000,000: 1 series"):
        warnings.simplefilter("error")
        est.predict(fh=[10**9], y=y.iloc[-10:] if new else None)


@pytest.mark.parametrize("fh", [[10**9], np.array([3, 10**9]), pd.Index([10**9])], ids=["list", "array", "index"])
def test_a_listed_step_past_memory_is_refused_in_fit_before_training(fh, monkeypatch):
    # was refused only at predict, after the training
    from tsrec.estimators import ARNetForecaster, _engine, _horizon

    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    panel = pd.concat({"a": y, "b": y}, names=["id", "t"]).to_frame("v")
    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**30)  # a 1 GiB machine
    monkeypatch.setattr(_engine, "train", lambda *args: pytest.fail("fit trained"))
    with pytest.raises(InputError, match=r"fh reaches step 1,000,000,000: 2 series would give 2,000,000,000 rows"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(panel, fh=fh)


def test_a_roll_out_counts_what_a_step_was_measured_to_hold(monkeypatch):
    from tsrec.estimators import ARNetForecaster, _horizon

    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    # 10**4 steps of 8 + ROLLOUT_ROW_BYTES bytes (2.96 MB) exceed 1 MB; a value, id and stamp a step (240 kB) do not
    monkeypatch.setattr(_horizon, "physical_memory", lambda: 10**6)
    with pytest.raises(InputError, match=r"fh reaches step 10,000: 1 series"):
        est.predict(fh=[10**4])
    assert est.predict(fh=[1, 2]).shape == (2,)


def test_ls4_holds_a_path_per_sample_only_at_the_steps_it_returns(monkeypatch):
    from tsrec.estimators import _horizon

    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    ls4 = LS4Forecaster(lookback=8, horizon=4, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=64,
                        max_epochs=1).fit(y)
    # 64 paths x 300 steps of 24 bytes (460,800) do not fit, 64 paths x 1 step or 1 mean x 300 steps do
    monkeypatch.setattr(_horizon, "physical_memory", lambda: 100_000)
    for forecast in (lambda: ls4.sample_paths(300), lambda: ls4.predict_quantiles(fh=range(1, 301), alpha=[0.5])):
        with pytest.raises(InputError, match=r"64 sample paths would give 19,200 rows.*lower n_samples"):
            forecast()
    far = ls4.predict_quantiles(fh=[300], alpha=[0.5])
    point = ls4.predict(fh=[300])
    monkeypatch.undo()
    assert far.equals(ls4.predict_quantiles(fh=[299, 300], alpha=[0.5]).iloc[1:])
    assert point.equals(ls4.predict(fh=range(1, 301)).iloc[-1:])


def test_covariances_that_grow_past_memory_with_the_square_of_the_steps_are_refused(monkeypatch):
    from tsrec.estimators import _horizon

    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**24)  # 16 MiB
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    ls4 = LS4Forecaster(lookback=8, horizon=4, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=8,
                        max_epochs=1).fit(y)
    fh = range(1, 2049)  # 8 paths x 2048 steps: 0.4 MB; 2048 x 2048 covariances: 34 MB
    assert ls4.predict_var(fh=fh).shape == (2048, 1)
    with pytest.raises(InputError, match=r"1 series' covariance would give 2,048 rows.*ask for cov=False"):
        ls4.predict_var(fh=fh, cov=True)


def test_sample_paths_that_overflow_are_refused_as_the_point_forecast_is():
    # the stored context ends far off the training scale: the paths overflow inside the network
    rng = np.random.default_rng(0)
    y = _hourly(np.sin(np.arange(80) / 3) + 0.1 * rng.standard_normal(80))
    for instance_norm in (False, True):
        est = LS4Forecaster(**{**LS4Forecaster.get_test_params()[0], "max_epochs": 1, "instance_norm": instance_norm})
        later = pd.Series(np.r_[np.full(7, 20.0), 1e20], name="y",
                          index=pd.date_range(y.index[-1], periods=9, freq="h")[1:])
        est.fit(y).update(later, update_params=False)
        for forecast in (lambda: est.predict(fh=[1, 2]), lambda: est.predict_quantiles(fh=[1, 2], alpha=[0.5]),
                         lambda: est.predict_interval(fh=[1, 2]), lambda: est.predict_var(fh=[1, 2]),
                         lambda: est.predict_var(fh=[1, 2], cov=True), lambda: est.sample_paths(2)):
            with pytest.raises(InputError, match="the forecast is not finite: the network overflowed"):
                forecast()


def test_a_roll_out_over_a_million_steps_warns_that_it_may_take_minutes(monkeypatch):
    from tsrec.estimators import ARNetForecaster, _horizon

    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    monkeypatch.setattr(_horizon, "LONG_ROLLOUT_STEPS", 500)  # the rule, at a size a test can roll out
    steps = r"fh reaches step 2,000 after the end of the data, 1,000 times the model's horizon of 2: .*minutes; ask"
    with pytest.warns(UserWarning, match=steps):
        assert est.predict(fh=[2000]).shape == (1,)
    with pytest.warns(UserWarning, match=steps):  # from a new context too
        est.predict(fh=[2000], y=y)
    panel = pd.concat({"a": y, "b": y}).to_frame()
    panel_est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(panel)
    with pytest.warns(UserWarning, match=steps):  # and from a panel's, read in one pass
        panel_est.predict(fh=[2000], y=panel)
    # a stamp 2,000 hours on (a mistyped year, say) weighs the same, with other advice
    far = ForecastingHorizon(pd.DatetimeIndex([y.index[-1] + pd.Timedelta(hours=2000)]), is_relative=False)
    stamps = r"fh's stamps reach step 2,000 after the end of the data, .*minutes; check the stamps"
    for forecast in (lambda: est.predict(fh=far), lambda: est.predict(fh=far, y=y),
                     lambda: panel_est.predict(fh=far), lambda: panel_est.predict(fh=far, y=panel)):
        with pytest.warns(UserWarning, match=stamps):
            assert len(forecast()) in (1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(fh=[1999])  # under 1,000 horizons
        monkeypatch.setattr(_horizon, "LONG_ROLLOUT_STEPS", 10**6)
        est.predict(fh=[2000])  # under a million steps: the default passes silently
        est.predict(fh=ForecastingHorizon(pd.DatetimeIndex([y.index[-1] + pd.Timedelta(hours=1999)]),
                                          is_relative=False))  # stamps under 1,000 horizons
    # stamps warn from 1,000 horizons on however few the steps (a year mistyped by decades forecast in seconds),
    # without the claim of minutes
    with pytest.warns(UserWarning, match=r"fh's stamps reach step 2,000 after the end of the data, 1,000 times the "
                                         r"model's horizon of 2: .* feeding on earlier forecasts; check the stamps"):
        est.predict(fh=far)


def test_growth_is_measured_against_each_series_own_scale():
    # _newdata._sound_steps: "each series' own scale": series 'a' lies near 5000 within the horizon,
    # which must not hide that 'b' (near 1) grows 2000 times past it
    values = path(growth=2 * ROLLOUT_GROWTH)
    values[0] *= 5 * ROLLOUT_GROWTH
    with pytest.warns(RuntimeWarning, match=re.escape("the forecast (series 'b') grows past the horizon")):
        check_forecast(values, keys=["a", "b"], horizon=HORIZON)


def test_a_huge_descending_range_fh_is_refused_by_its_largest_step():
    # _horizon.check_step_count: a range's largest step is its first when it counts down
    from tsrec.estimators._horizon import check_step_count

    with pytest.raises(InputError, match=r"fh reaches step 1,000,000,000,000: 1 series would give"):
        check_step_count(range(10**12, 0, -1), lambda: 1, 1)
