"""``scaling="series"`` (the default): each series of a panel standardised by its own statistics
(neuralforecast's ``local_scaler_type``), on every path that scales: training, forecasts, new
contexts, update, window forecasts, probabilistic forecasts; persistence and batch files are in
test_series_scaling_saved.py.

The defining property: with per-series scaling, a series' forecasts follow an affine change of
its values (``a * y + b``) exactly, because the network sees the same standardised numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, LS4Forecaster
from tsrec.estimators.errors import InputError

from scaling_panels import HOURS, WAVE, arnet, panel  # tests/estimators/scaling_panels.py


def test_series_scales_are_each_series_training_mean_and_std():
    y = panel()
    est = arnet(val_size=0.25).fit(y)
    scales = est.series_scales_
    assert list(scales.index) == ["big", "small", "other"] and scales.index.name == "id"
    for key in scales.index:
        train = y.loc[key]["v"].to_numpy()[:300]  # the last quarter is validation data
        np.testing.assert_allclose(scales.loc[key, ("mean", "v")], train.mean(), rtol=1e-12)
        np.testing.assert_allclose(scales.loc[key, ("scale", "v")], train.std(), rtol=1e-12)
    with pytest.warns(RuntimeWarning, match="scaling='series'"):  # one global scaler, which warns
        glob = arnet(scaling="global").fit(y)
    assert glob.series_scales_ is None and glob.scaler_ is not None
    assert est.scaler_ is None  # each series has its own: no scaler of all series


@pytest.mark.parametrize("single", [False, True], ids=["panel", "one series"])
def test_the_global_scaler_reads_the_training_rows_only(single):
    y = panel().loc[["big"]] if single else panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the panel's spreads differ: scaling='series' advised
        est = arnet(scaling="global", val_size=0.25).fit(y.droplevel(0) if single else y)
    train = np.concatenate([y.loc[key]["v"].to_numpy()[:300] for key in y.index.unique(0)])  # not validation
    np.testing.assert_allclose(est.scaler_.mean_, [train.mean()], rtol=1e-12)
    np.testing.assert_allclose(est.scaler_.scale_, [train.std()], rtol=1e-12)


def test_a_constant_series_gets_scale_one_as_scikit_learns_scaler_gives():
    y = panel()
    y.loc["other", "v"] = 1e6
    scales = arnet().fit(y).series_scales_
    assert scales.loc["other", ("scale", "v")] == 1.0 and scales.loc["other", ("mean", "v")] == 1e6


@pytest.mark.parametrize("scaling", ["series", "global"])
@pytest.mark.parametrize("level, spread", [(1e9, 1e-3), (0.0, 1e-170), (1e-170, 1e-171)])
def test_a_narrow_series_far_from_zero_or_tiny_keeps_its_own_scale(scaling, level, spread):
    # scikit-learn's rule called 1e9 + 1e-3 * wave constant at 4,000 rows (not at 1,000), and a
    # variance of 1e-340 underflowed to 0: scale 1, and forecasts hundreds of times too wide
    values = level + spread * np.sin(2 * np.pi * np.arange(4000) / 24)
    one = pd.Series(values, index=pd.date_range("2024-01-01", periods=4000, freq="h"))
    two = pd.concat({"a": one.to_frame("v"), "b": (one * 2).to_frame("v")}, names=["id", "ds"])
    for y in (one, two):
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, val_size=0, scaling=scaling).fit(y)
        scale = est.scaler_.scale_[0] if est.series_scales_ is None else est.series_scales_[("scale", "v")].iloc[0]
        if scaling == "global" and y is two:  # both series: twice the level and spread in half the rows
            continue
        # of the training rows, nearly all (numpy's std of 1e-170s underflows too: scaled first)
        np.testing.assert_allclose(scale, (values / spread).std() * spread, rtol=1e-4)


@pytest.mark.parametrize("factor", [1e-160, 1e-158])
def test_a_variance_underflowed_part_way_is_recomputed(factor):
    # a variance of 6e-321 is a subnormal number with few digits: the scale came out 8e-5 off, and the forecasts with it
    y = np.sin(np.arange(60.0) / 3)
    base, tiny = (ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(series) for series in (y, y * factor))
    assert 0 < tiny.scaler_.var_[0] < np.finfo(np.float64).tiny * 100 or factor == 1e-158
    np.testing.assert_allclose(tiny.scaler_.scale_ / factor, base.scaler_.scale_, rtol=1e-12)
    np.testing.assert_allclose(tiny.predict(fh=[1, 2]) / factor, base.predict(fh=[1, 2]), rtol=1e-9)


def test_the_narrow_series_is_forecast_and_nothing_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the global scaler's spread warning is not given
        est = CycleNetForecaster(lookback=48, horizon=24, max_epochs=20, random_state=0).fit(panel())
    truth = panel(424).loc["small"]["v"].to_numpy()[400:]
    forecast = est.predict(fh=range(1, 25)).loc["small"]["v"].to_numpy()
    assert np.abs(forecast - truth).mean() < 0.02  # its spread is 0.07; one global scaler missed by ~50


def test_forecasts_follow_an_affine_change_of_a_series():
    base = arnet().fit(panel())
    moved = arnet().fit(panel(small=(1e3 * 0.1, 1e3 * 1.0 + 7.0)))
    a, b = 1e3, 7.0
    fh = range(1, 13)  # past the horizon too: fed-back forecasts are standardised alike
    np.testing.assert_allclose(moved.predict(fh=fh).loc["small"], a * base.predict(fh=fh).loc["small"] + b,
                               rtol=1e-5)
    np.testing.assert_allclose(moved.predict(fh=fh).loc["big"], base.predict(fh=fh).loc["big"], rtol=1e-5)
    with pytest.warns(RuntimeWarning, match="scaling='series'"):
        glob = arnet(scaling="global").fit(panel())
        glob_moved = arnet(scaling="global").fit(panel(small=(1e3 * 0.1, 1e3 * 1.0 + 7.0)))
    assert not np.allclose(glob_moved.predict(fh=fh).loc["big"], glob.predict(fh=fh).loc["big"], rtol=1e-3)


def test_probabilistic_forecasts_follow_an_affine_change_of_a_series():
    params = dict(lookback=24, horizon=6, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=16, max_epochs=1,
                  random_state=0)
    base = LS4Forecaster(**params).fit(panel())
    moved = LS4Forecaster(**params).fit(panel(small=(2.0 * 0.1, 2.0 * 1.0 + 5.0)))
    q, q_moved = (est.predict_quantiles(fh=[1, 2, 3], alpha=[0.1, 0.9]) for est in (base, moved))
    np.testing.assert_allclose(q_moved.loc["small"], 2.0 * q.loc["small"] + 5.0, rtol=1e-4)
    np.testing.assert_allclose(q_moved.loc["big"], q.loc["big"], rtol=1e-4)
    v, v_moved = (est.predict_var(fh=[1, 2, 3]) for est in (base, moved))
    np.testing.assert_allclose(v_moved.loc["small"], 4.0 * v.loc["small"], rtol=1e-4)
    c, c_moved = (est.predict_var(fh=[1, 2, 3], cov=True) for est in (base, moved))
    np.testing.assert_allclose(c_moved.loc["small"], 4.0 * c.loc["small"], rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(c_moved.loc["big"], c.loc["big"], rtol=1e-4)
    paths, paths_moved = (est.sample_paths(3) for est in (base, moved))  # (samples, series, steps, variates)
    np.testing.assert_allclose(paths_moved[:, 1], 2.0 * paths[:, 1] + 5.0, rtol=1e-4)


def test_a_new_context_of_a_fitted_series_keeps_its_fitted_statistics():
    est = arnet().fit(panel())
    tail = panel().groupby(level="id").tail(30)  # other statistics than the training rows'
    np.testing.assert_array_equal(est.predict(fh=[1, 2], y=tail), est.predict(fh=[1, 2]))


def test_window_forecasts_of_each_fitted_series_use_its_own_statistics():
    # each series' last window is its forecast from the rows before that window's targets, by the
    # series' fitted statistics; series 'big' first, so one series' statistics for all would show
    y = panel()
    est = arnet().fit(y)
    windows = est.forecast_windows(y)  # (windows, horizon, variates), series after series
    per_series = len(y.loc["big"]) - 6 - 24 + 1
    for i, key in enumerate(["big", "small", "other"]):
        context = y.loc[[key]].groupby(level="id").head(len(y.loc[key]) - 6)
        forecast = est.predict(fh=range(1, 7), y=context).to_numpy()
        last = windows[(i + 1) * per_series - 1]
        np.testing.assert_allclose(last, forecast, rtol=1e-5, atol=1e-9 * abs(forecast).max())


def test_a_series_not_fitted_is_standardised_by_the_rows_given_for_it():
    est = arnet().fit(panel())
    new = panel().loc[["small"]].rename(index={"small": "new"})
    moved = new * 1e45 - 4e45  # beyond float32 once standardised by any fitted statistics
    forecast = est.predict(fh=[1, 2, 3], y=new)
    np.testing.assert_allclose(est.predict(fh=[1, 2, 3], y=moved), forecast * 1e45 - 4e45, rtol=1e-6)
    np.testing.assert_allclose(est.forecast_windows(moved), est.forecast_windows(new) * 1e45 - 4e45, rtol=1e-6)
    with pytest.warns(RuntimeWarning, match="scaling='series'"):
        glob = arnet(scaling="global").fit(panel())
    with pytest.raises(InputError, match="too far from the training data's scale"):
        glob.predict(fh=[1], y=moved)  # one global scaler cannot place it


def test_a_panel_of_one_series_scales_a_series_not_fitted_by_its_own_rows():
    # a one-series panel had one global scaler: a new series 990 higher was standardised by the fitted
    # series' statistics and forecast far off (-602 where the series stood near 1000)
    one = panel().loc[["small"]]
    est = arnet().fit(one)
    assert est.scaler_ is None and list(est.series_scales_.index) == ["small"]
    shifted = (one + 990.0).rename(index={"small": "new"})
    np.testing.assert_allclose(est.predict(fh=[1, 2, 3], y=shifted).to_numpy(),
                               est.predict(fh=[1, 2, 3]).to_numpy() + 990.0, rtol=1e-9)


def test_update_keeps_the_statistics_and_a_refit_recomputes_them():
    full = panel(424)
    est = arnet(val_size=0).fit(panel())
    fitted = est.series_scales_.copy()
    new_rows = full.groupby(level="id").tail(24) + 100.0
    est.update(new_rows, update_params=False)
    pd.testing.assert_frame_equal(est.series_scales_, fitted)
    refit = arnet(val_size=0).fit(panel())
    refit.update(new_rows, update_params=True)
    stored = pd.concat([panel(), new_rows]).sort_index(level="id", sort_remaining=True)
    np.testing.assert_allclose(refit.series_scales_.loc["small", ("mean", "v")],
                               stored.loc["small"]["v"].mean(), rtol=1e-12)


def test_one_series_has_one_scaler_whichever_scaling():
    y = panel().loc["small"]
    series, glob = arnet().fit(y), arnet(scaling="global").fit(y)
    assert series.series_scales_ is None
    np.testing.assert_array_equal(series.scaler_.mean_, glob.scaler_.mean_)
    np.testing.assert_array_equal(series.predict(fh=[1, 2, 9]), glob.predict(fh=[1, 2, 9]))


def test_hierarchical_panels_are_scaled_by_key():
    hier = pd.concat({"region": panel()}, names=["top"])
    scales = arnet().fit(hier).series_scales_
    assert scales.index.names == ["top", "id"] and ("region", "small") in scales.index


@pytest.mark.parametrize("value", ["local", None, 1, ["series"]])
def test_an_unknown_scaling_is_refused_at_fit(value):
    est = arnet(scaling=value)  # __init__ only stores it
    with pytest.raises(ValueError, match=r"scaling must be one of \('global', 'series'\)"):
        est.fit(panel())


def test_window_forecasts_of_a_series_not_fitted_read_no_later_rows():
    est = arnet().fit(panel())
    new = panel().loc[["small"]].rename(index={"small": "new"})
    changed = new.copy()
    changed.iloc[60:] *= 50.0  # rows after the first window's context and targets
    first, first_changed = est.forecast_windows(new)[0], est.forecast_windows(changed)[0]
    np.testing.assert_array_equal(first, first_changed)
    context = new.iloc[100:124]  # window 100 forecasts what predict does from its context
    # to float32 rounding: a network's output can change in the last bits with the batch it is in
    np.testing.assert_allclose(est.forecast_windows(new)[100], est.predict(fh=range(1, 7), y=context).to_numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("factor", [1e-170, 1e150])
def test_any_magnitude_of_finite_values_standardises_alike(factor):
    base = arnet().fit(panel())
    tiny = panel(small=(factor * 0.1, factor * 1.0))
    moved = arnet().fit(tiny)
    np.testing.assert_allclose(moved.predict(fh=[1, 2]).loc["small"], factor * base.predict(fh=[1, 2]).loc["small"],
                               rtol=1e-5)


def test_values_from_minus_to_plus_1e308_fit_without_numpys_overflow_warnings():
    # their spread (max - min) overflows to inf: still not constant, and no "overflow encountered" from numpy
    wave = np.sin(np.arange(200) / 4)
    y = pd.Series(1.5e308 * np.sign(wave + 1e-9) * (0.5 + 0.5 * np.abs(wave)), index=HOURS[:200])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = arnet().fit(y)
    assert np.isfinite(est.predict(fh=[1, 2])).all()


def test_values_too_large_for_one_scaler_standardise_and_warn_of_the_series_it_squeezes():
    y = panel(small=(0.1, 2e154))  # the scaler's variance overflowed float64 (and fit refused)
    with pytest.warns(RuntimeWarning, match="nearly constant .* scaling='series'"):
        est = arnet(scaling="global").fit(y)
    assert np.isfinite(est.scaler_.mean_).all() and np.isfinite(est.scaler_.scale_).all()
    assert np.isfinite(est.predict(fh=[1]).to_numpy()).all()
    assert np.isfinite(arnet().fit(y).predict(fh=[1]).to_numpy()).all()


def test_update_rows_off_the_scale_name_their_series():
    est = arnet().fit(panel())
    rows = panel(424).groupby(level="id").tail(24)
    rows.loc["other", "v"] = 1e45
    with pytest.raises(InputError, match=r"update's y's values \(series 'other'\) lie too far"):
        est.update(rows, update_params=False)


@pytest.mark.parametrize("mtype", ["numpy3D", "df-list"])
def test_an_id_less_panel_of_fewer_series_is_standardised_as_series_not_fitted(mtype):
    from sktime.datatypes import convert_to

    y = panel()
    est = arnet().fit(convert_to(y, to_type=mtype))  # big, small, other numbered 0, 1, 2
    alone = convert_to(y.loc[["small"]], to_type=mtype)  # "small" alone is numbered 0, which names "big"
    # as the same rows under an id the model was not fitted on: standardised by themselves
    unseen = y.loc[["small"]].rename(index={"small": "new"})
    expected = est.predict(fh=[1, 2], y=unseen)["v"].to_numpy()
    got = est.predict(fh=[1, 2], y=alone)
    np.testing.assert_array_equal(np.asarray(got if mtype == "numpy3D" else got[0]).ravel(), expected)
    np.testing.assert_array_equal(est.forecast_windows(alone), est.forecast_windows(unseen))
    all_three = est.predict(fh=[1, 2], y=convert_to(y, to_type=mtype))  # series i is fitted series i
    np.testing.assert_array_equal(np.asarray(all_three if mtype == "numpy3D" else np.stack(all_three)),
                                  np.asarray(est.predict(fh=[1, 2]) if mtype == "numpy3D"
                                             else np.stack(est.predict(fh=[1, 2]))))


def _constant_warnings(est, y) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(y, fh=[1, 2])
    return [str(w.message) for w in caught if "constant over the training rows" in str(w.message)]


def test_a_constant_variate_is_warned_of_with_its_series():
    # degenerate-data audit: a series of 1e-9 was forecast near 0.3 without a word (scale 1, the
    # network's leftover output in the data's units); the warning says so and names the variate
    arnet = lambda **kw: ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, random_state=0, **kw)  # noqa: E731
    y = pd.DataFrame({"wave": WAVE[:100], "flat": 1e-9}, index=HOURS[:100])
    messages = _constant_warnings(arnet(), y)
    assert len(messages) == 1 and messages[0].startswith(
        "variate 'flat' of y is constant over the training rows (every value 1e-09): standardised, it is all zeros")
    assert _constant_warnings(arnet(), y[["wave"]]) == []
    two = pd.concat({"a": y, "b": y.assign(flat=np.linspace(0, 1, 100))}, names=["id", "time"])
    [series] = _constant_warnings(arnet(scaling="series"), two)
    assert series.startswith("variate 'flat' of y (series 'a') is constant")
    assert _constant_warnings(arnet(scaling="global"), two) == []  # constant in one series, not in all rows
    [both] = _constant_warnings(arnet(scaling="series"), pd.concat({"a": y, "b": y}, names=["id", "time"]))
    assert both.startswith("variate 'flat' of y (series 'a') (and 1 more) is constant")


def test_a_constant_series_not_fitted_is_warned_of_at_forecast_time():
    # extreme-values audit: a new series constant at 1e-9 was forecast near -0.1 by ARNet, with no word (scale 1,
    # the network's output for zeros in the data's units); fit warns of the same in its training rows
    est = arnet().fit(panel())
    flat = panel().loc[["small"]].rename(index={"small": "flat"}) * 0 + 1e-9
    with pytest.warns(RuntimeWarning, match=r"a series of y \(series 'flat'\), not one the model was fitted on, is "
                                            r"constant in variate 'v' over the rows given for it \(every value 1e-09"):
        est.predict(fh=[1, 2], y=flat)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.predict(fh=[1, 2], y=panel().loc[["small"]].rename(index={"small": "new"}))  # varies: no warning
        est.predict(fh=[1, 2], y=panel().loc[["small"]] * 0 + 1.0)  # fitted: its training statistics
