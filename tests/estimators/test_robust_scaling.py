"""``scaler="robust"``: each series centred by its median and divided by its interquartile range in
a normal distribution's standard deviations (scikit-learn's ``RobustScaler(unit_variance=True)``),
so that a few outliers do not set the scale the network sees."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import RobustScaler

import tsrec
from tsrec.estimators import ARNetForecaster, LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators._losses import StandardisedRows
from tsrec.estimators._scale_statistics import NORMAL_IQR, own_scales, run_scales, window_scales
from tsrec.estimators._scaling import scales_of
from tsrec.registry import all_estimators

from scaling_panels import arnet, panel  # tests/estimators/scaling_panels.py

RNG = np.random.default_rng(0)


def quartile_scale(values: np.ndarray) -> np.ndarray:
    low, high = np.percentile(values, [25, 75], axis=0)
    return (high - low) / NORMAL_IQR


def test_normal_iqr_is_the_normal_distributions_interquartile_range():
    from scipy.stats import norm

    assert NORMAL_IQR == pytest.approx(norm.ppf(0.75) - norm.ppf(0.25), rel=1e-15)


def test_one_series_gets_scikit_learns_robust_statistics():
    rows = RNG.normal(5.0, 2.0, (300, 3))
    sklearn = RobustScaler(unit_variance=True).fit(rows)
    own = own_scales([rows], "robust")
    np.testing.assert_allclose(own.centre[0], sklearn.center_, rtol=1e-12)
    np.testing.assert_allclose(own.scale[0], sklearn.scale_, rtol=1e-12)


@pytest.mark.parametrize("counts", [[40, 40, 40], [30, 50, 7]], ids=["equal runs", "unequal runs"])
def test_each_run_gets_its_own_median_and_quartile_scale(counts):
    flat = RNG.normal(size=(sum(counts), 2)) * np.repeat([1.0, 30.0, 0.01], counts)[:, None]
    scales = run_scales(flat, np.array(counts), "robust")
    for i, run in enumerate(np.split(flat, np.cumsum(counts)[:-1])):
        np.testing.assert_allclose(scales.centre[i], np.median(run, axis=0), rtol=1e-12)
        np.testing.assert_allclose(scales.scale[i], quartile_scale(run), rtol=1e-12)


def test_windows_are_scaled_each_on_its_own():
    windows = RNG.normal(size=(5, 24, 2)) * np.arange(1, 6)[:, None, None]
    scales = window_scales(windows, "robust")
    for i, window in enumerate(windows):
        np.testing.assert_allclose(scales.centre[i], np.median(window, axis=0), rtol=1e-12)
        np.testing.assert_allclose(scales.scale[i], quartile_scale(window), rtol=1e-12)


def test_an_intermittent_series_falls_back_to_its_standard_deviation():
    # the middle half of the values is 0: an interquartile range of 0 (scikit-learn gives scale 1,
    # which leaves the spikes in the data's units); a constant series keeps scale 1
    spikes = np.zeros((100, 1))
    spikes[::10] = 500.0
    constant = np.full((50, 1), 7.0)
    scales = own_scales([spikes, constant], "robust")
    assert scales.centre[0, 0] == 0.0 and scales.scale[0, 0] == pytest.approx(spikes.std(), rel=1e-12)
    assert scales.centre[1, 0] == 7.0 and scales.scale[1, 0] == 1.0


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_any_magnitude_of_finite_values_gets_the_same_robust_statistics(factor):
    rows = RNG.normal(size=(200, 1))
    base, far = own_scales([rows], "robust"), own_scales([rows * factor], "robust")
    np.testing.assert_allclose(far.centre, base.centre * factor, rtol=1e-12)
    np.testing.assert_allclose(far.scale, base.scale * factor, rtol=1e-12)
    assert np.isfinite(own_scales([np.array([[-1.7e308], [0.0], [1.7e308]])], "robust").scale).all()


def spiked(n: int = 420) -> pd.Series:
    """A daily-cycle wave of spread 0.7 with one reading of 1e4 (a sensor fault) early on."""
    y = pd.Series(np.sin(2 * np.pi * np.arange(n) / 24) + 0.05 * RNG.standard_normal(n),
                  index=pd.date_range("2024-01-01", periods=n, freq="h"))
    y.iloc[50] = 1e4
    return y


def test_an_outlier_does_not_set_the_robust_scale_nor_the_forecasts_level():
    y = spiked()
    forecasts, scales = {}, {}
    for scaler in ("standard", "robust"):
        est = ARNetForecaster(n_lags=24, horizon=4, max_epochs=8, val_size=0, random_state=0, scaler=scaler)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the standard fit is told its loss is far above 1
            est.fit(y.iloc[:400])
        forecasts[scaler] = est.predict(fh=[1, 2, 3, 4]).to_numpy()
        scales[scaler] = est.scaler_.scale_[0]
    # the spike makes the standard deviation about 500, and the wave, squeezed to +-0.002, comes back
    # with the network's small errors times 500: forecasts near 30; the quartiles still see the wave
    assert scales["standard"] > 300 and 0.5 < scales["robust"] < 1.5
    errors = {scaler: np.abs(f - y.iloc[400:404].to_numpy()).mean() for scaler, f in forecasts.items()}
    assert np.abs(forecasts["robust"]).max() < 1.5 and errors["standard"] > 10 * errors["robust"]


def test_an_outlier_raises_the_trivial_loss_a_robust_fit_is_judged_by():
    # the spike's windows put the training loss far above 1 in robust units, as they do the loss of
    # forecasting the median: no "diverged" warning (both fits below warned before the baseline said so)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = ARNetForecaster(n_lags=24, horizon=4, max_epochs=8, val_size=0, random_state=0, scaler="robust")
        est.fit(spiked().iloc[:400])
    assert est.history_["train_loss"][-1] > 1e4
    with pytest.warns(RuntimeWarning, match=r"over 10 times the .* of forecasting the training median"):
        ARNetForecaster(n_lags=24, horizon=4, max_epochs=2, val_size=0, lr=1e4, random_state=0,
                        scaler="robust").fit(spiked(200).iloc[60:])


def test_each_trivial_loss_grows_with_the_mean_square_of_the_standardised_rows():
    rows = StandardisedRows((np.full((3, 1), 2.0), np.full((1, 2), -2.0)), "robust")  # a mean square of 4
    robust = ARNetForecaster(scaler="robust")._trivial_loss(rows)
    assert robust == (4.0, "forecasting the training median")
    assert ARNetForecaster()._trivial_loss(StandardisedRows(rows.series, "standard")) == (
        1.0, "forecasting the training mean")
    weights = SpaceTimeForecaster().criterion_weights
    assert SpaceTimeForecaster(scaler="robust")._trivial_loss(rows) == pytest.approx(
        (2.0 * sum(weights), "forecasting the training median (an RMSE of 2 a term)"))
    ls4 = LS4Forecaster(sigma=0.5)
    ls4.n_channels_ = 3
    per_variate = 0.5 * np.log(2 * np.pi * 0.25) + 0.5 * 4.0 / 0.25
    assert ls4._trivial_loss(rows)[0] == pytest.approx(3 * per_variate, rel=1e-12)



def test_the_global_robust_scaler_is_scikit_learns_of_the_training_rows():
    y = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the panel's spreads differ: scaling='series' advised
        est = arnet(scaling="global", scaler="robust", val_size=0.25).fit(y)
    train = np.concatenate([y.loc[key]["v"].to_numpy()[:300] for key in y.index.unique(0)])[:, None]
    expected = RobustScaler(unit_variance=True).fit(train)
    assert isinstance(est.scaler_, RobustScaler) and est.series_scales_ is None
    np.testing.assert_allclose(est.scaler_.center_, expected.center_, rtol=1e-12)
    np.testing.assert_allclose(est.scaler_.scale_, expected.scale_, rtol=1e-12)


def test_the_global_robust_scaler_of_an_intermittent_series_keeps_the_standard_deviation():
    y = pd.Series(np.where(np.arange(200) % 10 == 0, 50.0, 0.0), index=pd.RangeIndex(200))
    est = ARNetForecaster(n_lags=10, horizon=2, max_epochs=1, val_size=0, scaler="robust").fit(y)
    assert est.scaler_.center_[0] == 0.0 and est.scaler_.scale_[0] == pytest.approx(y.std(ddof=0), rel=1e-9)


def test_each_series_gets_its_training_median_and_quartile_scale():
    y = panel()
    est = arnet(scaler="robust", val_size=0.25).fit(y)
    frame = est.series_scales_
    assert list(frame.columns.get_level_values(0).unique()) == ["median", "scale"] and est.scaler_ is None
    for key in frame.index:
        train = y.loc[key]["v"].to_numpy()[:300]
        np.testing.assert_allclose(frame.loc[key, ("median", "v")], np.median(train), rtol=1e-12)
        np.testing.assert_allclose(frame.loc[key, ("scale", "v")], quartile_scale(train), rtol=1e-12)


def test_a_series_not_fitted_gets_the_robust_statistics_of_its_rows():
    est = arnet(scaler="robust").fit(panel())
    new = panel().loc[["small"]].rename(index={"small": "new"})
    new.iloc[10] = 1e6  # one outlier among the rows given for it
    scales = scales_of(est, [("new", new.loc["new"])])
    values = new["v"].to_numpy()
    assert scales.centre[0, 0] == pytest.approx(np.median(values), rel=1e-12)
    assert scales.scale[0, 0] == pytest.approx(quartile_scale(values), rel=1e-12)
    # forecast windows of a series not fitted: each window by its own context's robust statistics
    moved = new * 1e3 + 7.0
    np.testing.assert_allclose(est.forecast_windows(moved), est.forecast_windows(new) * 1e3 + 7.0, rtol=1e-6)


@pytest.mark.parametrize("scaling", ["series", "global"])
def test_save_load_and_pickle_keep_the_robust_statistics(tmp_path, scaling):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = arnet(scaling=scaling, scaler="robust").fit(panel())
    expected = est.predict(fh=[1, 2, 5])
    for back in (tsrec.load(est.save(tmp_path / "m")), pickle.loads(pickle.dumps(est))):
        assert back.get_params()["scaler"] == "robust"
        if scaling == "global":
            assert isinstance(back.scaler_, RobustScaler)
            np.testing.assert_array_equal(back.scaler_.center_, est.scaler_.center_)
            np.testing.assert_array_equal(back.scaler_.scale_, est.scaler_.scale_)
        else:
            pd.testing.assert_frame_equal(back.series_scales_, est.series_scales_)
        np.testing.assert_array_equal(back.predict(fh=[1, 2, 5]), expected)


@pytest.mark.parametrize("value", ["minmax", None, "Robust", ["robust"]])
def test_an_unknown_scaler_is_refused_at_fit(value):
    est = arnet(scaler=value)  # __init__ only stores it
    with pytest.raises(ValueError, match=r"scaler must be one of \('standard', 'robust'\)"):
        est.fit(panel())


def test_every_forecaster_takes_a_scaler_defaulting_to_standard():
    forecasters = [cls for _, cls in all_estimators("forecaster")]
    assert len(forecasters) >= 8
    for cls in forecasters:
        assert cls().get_params()["scaler"] == "standard", cls.__name__


def test_distances_from_the_training_data_are_told_in_robust_scales():
    wave = pd.Series(np.sin(np.arange(200) / 3.0))
    est = ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, random_state=0, scaler="robust").fit(wave)
    with pytest.warns(RuntimeWarning, match=r"^the context lies \d+(\.\d)? robust training scales from the "
                                            r"training median on average"):
        est.predict(fh=[1, 2], y=wave.iloc[-20:] + 50.0)
    with pytest.warns(UserWarning, match=r"^the context lies \d\.\d+e\+08 robust training scales from the training "
                                         r"median, where float32"):
        est.predict(fh=[1, 2], y=wave.iloc[-20:] + 1e9)
