"""``scaler="robust"`` in more detail (from a mutation round over it): saved scalers, overflow at
float64's edge, affine equivariance, windows of series not fitted, the trivial loss's mean square, and
the range checks of batches and updates."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import RobustScaler

import tsrec
from tsrec.estimators import ARNetForecaster
from tsrec.errors import LoadError

from saved_configs import edit_config
from scaling_panels import arnet, panel


def _robust_global(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = arnet(scaling="global", scaler="robust", max_epochs=1).fit(panel(rows=120))
    return est, est.save(tmp_path / "m")


@pytest.mark.parametrize("scale", [[-1.0], [0.0]])
def test_a_saved_robust_scaler_with_a_scale_not_positive_is_refused(tmp_path, scale):
    _, folder = _robust_global(tmp_path)

    def change(config):
        config["fitted"]["scaler"]["scale"] = scale

    edit_config(folder, change)
    with pytest.raises(LoadError, match="positive scales"):
        tsrec.load(folder)


def test_a_saved_robust_scaler_keeps_its_centre_apart_from_its_scale(tmp_path):
    est, folder = _robust_global(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["fitted"]["scaler"]["kind"] == "robust"
    np.testing.assert_array_equal(config["fitted"]["scaler"]["center"], est.scaler_.center_)
    np.testing.assert_array_equal(config["fitted"]["scaler"]["scale"], est.scaler_.scale_)


def test_the_fitted_and_loaded_robust_scaler_is_unit_variance(tmp_path):
    est, folder = _robust_global(tmp_path)
    assert isinstance(est.scaler_, RobustScaler) and est.scaler_.unit_variance
    assert tsrec.load(folder).scaler_.unit_variance


def test_an_interquartile_range_past_float64s_largest_falls_back_to_the_standard_deviation():
    from tsrec.estimators._scale_statistics import own_scales, robust_scaler

    # quartiles near -+1.6e308: (high - low) / 1.349 is past float64's largest (1.8e308)
    rows = np.tile([-1.7e308, -1.6e308, -1.5e308, 1.5e308, 1.6e308, 1.7e308], 5)[:, None]
    own = own_scales([rows], "robust")
    assert np.isfinite(own.scale).all() and (own.scale > 0).all()
    expected = own_scales([rows]).scale  # the standard deviation, computed without overflowing
    np.testing.assert_allclose(own.scale, expected, rtol=1e-12)
    np.testing.assert_allclose(robust_scaler(rows).scale_, expected[0], rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaler="robust").fit(
            pd.Series(rows[:, 0]))
    assert np.isfinite(est.scaler_.scale_).all()
    assert np.isfinite(est.predict(fh=[1, 2])).all()


@pytest.mark.parametrize("scaling", ["series", "global"])
@pytest.mark.parametrize("single", [True, False], ids=["one series", "panel"])
def test_robust_forecasts_are_affine_equivariant(scaling, single):
    """Forecasting a * y + b gives a * (the forecast of y) + b: the median and quartile scale move with y."""
    wave = np.sin(np.arange(80) / 3.0) + 0.1 * np.cos(np.arange(80) * 1.7)
    hours = pd.date_range("2021-01-01", periods=80, freq="h")
    y = pd.DataFrame({"v": wave}, index=hours)
    if not single:
        y = pd.concat({"a": y, "b": 3.0 * y + 2.0}, names=["id", "time"])
    params = dict(n_lags=4, horizon=2, max_epochs=2, random_state=0, scaler="robust", scaling=scaling)
    base = ARNetForecaster(**params).fit(y).predict(fh=[1, 2])
    moved = ARNetForecaster(**params).fit(y * 1e3 + 5e4).predict(fh=[1, 2])
    np.testing.assert_allclose(moved.to_numpy(), base.to_numpy() * 1e3 + 5e4, rtol=1e-9, atol=1e-6)


def _wave_panel(rows: int = 80, shift: float = 0.0) -> pd.DataFrame:
    hours = pd.date_range("2021-01-01", periods=rows, freq="h")
    wave = np.sin(np.arange(rows) / 3.0) + 0.3 * np.sign(np.sin(np.arange(rows) * 0.7))  # not normal: median != mean
    return pd.concat({"a": pd.DataFrame({"v": wave + shift}, index=hours),
                      "b": pd.DataFrame({"v": 2.0 * wave + 1.0 + shift}, index=hours)}, names=["id", "time"])


def test_forecast_windows_of_a_series_not_fitted_are_the_predicts_of_each_windows_context():
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaler="robust").fit(_wave_panel())
    skew = np.exp(np.sin(np.arange(30) / 2.0)) ** 3  # a skewed series: its median and quartiles far from its moments
    new = pd.concat({"z": pd.DataFrame({"v": skew}, index=pd.date_range("2021-03-01", periods=30, freq="h"))},
                    names=["id", "time"])
    windows = est.forecast_windows(new)
    for i in (0, 7, len(windows) - 1):
        context = new.iloc[i : i + 4]
        np.testing.assert_allclose(windows[i].ravel(), est.predict(fh=[1, 2], y=context).to_numpy().ravel(),
                                   rtol=1e-5)


def test_a_panels_context_far_from_the_training_data_is_told_in_robust_scales():
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaler="robust").fit(_wave_panel())
    far = _wave_panel(shift=1e9).groupby(level=0).tail(10)
    with pytest.warns(UserWarning, match=r"robust training scales from the training median, where float32"):
        est.predict(fh=[1, 2], y=far)


def test_the_trivial_losss_mean_square_is_of_the_training_rows_only():
    from tsrec.estimators._network_training import _training_rows

    # (standardised values, positions, cut): the rows past the cut are validation rows
    series = [(np.array([[0.0], [2.0], [100.0]]), None, 2), (np.array([[2.0], [-50.0]]), None, 1)]
    assert _training_rows(series, "robust").mean_loss("mse") == pytest.approx((0.0 + 4.0 + 4.0) / 3)
    assert _training_rows(series, "standard").mean_loss("mse") == 1.0  # taken as 1, whatever the rows


def _with_a_constant_variate_at(level: float) -> pd.DataFrame:
    hours = pd.date_range("2021-01-01", periods=60, freq="h")
    frame = pd.DataFrame({"v": np.sin(np.arange(60) / 3.0), "c": np.full(60, level)}, index=hours)
    return pd.concat({"a": frame, "b": frame.assign(v=2.0 * frame["v"])}, names=["id", "time"])


@pytest.mark.parametrize("scaling", ["series", "global"])
def test_a_batch_and_an_update_take_a_constant_variate_past_float32s_range(scaling):
    """Standardised by its median (and scale 1), a constant variate at 1e39 is 0 for the network:
    the batch's and update's range checks must take the centre away too."""
    from tsrec.batch import forecast_panel

    y = _with_a_constant_variate_at(1e39)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the constant variate's warning
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaler="robust",
                             scaling=scaling).fit(y.groupby(level=0).head(50))
        out = forecast_panel(est, y.groupby(level=0).head(50), fh=[1, 2])
        assert np.isfinite(out[["v_hat", "c_hat"]].to_numpy()).all()
        est.update(y, update_params=False)
    assert np.isfinite(est.predict(fh=[1, 2]).to_numpy()).all()


def test_a_saved_robust_scaler_with_a_value_per_channel_missing_is_refused(tmp_path):
    _, folder = _robust_global(tmp_path)

    def change(config):
        config["fitted"]["scaler"]["center"] = config["fitted"]["scaler"]["center"] * 2

    edit_config(folder, change)
    with pytest.raises(LoadError, match="one value for each of the 1 channels"):
        tsrec.load(folder)


def test_a_loaded_robust_scaler_is_a_fitted_scikit_learn_scaler_of_the_channels(tmp_path):
    est, folder = _robust_global(tmp_path)
    back = tsrec.load(folder).scaler_
    assert back.n_features_in_ == est.scaler_.n_features_in_ == 1
    rows = np.array([[0.5], [2.0]])
    np.testing.assert_array_equal(back.transform(rows), est.scaler_.transform(rows))


def test_an_update_that_refits_checks_the_scaler_again():
    y = _wave_panel()
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaler="robust").fit(
        y.groupby(level=0).head(60))
    est.scaler = "minmax"  # set as an attribute, past set_params' reset
    with pytest.raises(ValueError, match=r"scaler must be one of \('standard', 'robust'\)"):
        est.update(y, update_params=True)


def test_an_unknown_scaler_is_refused_before_the_data_is_read():
    y = pd.Series([1.0, np.nan, 3.0] * 10)  # data fit would refuse too
    with pytest.raises(ValueError, match=r"scaler must be one of \('standard', 'robust'\)"):
        ARNetForecaster(n_lags=3, horizon=1, max_epochs=1, scaler="minmax").fit(y)


@pytest.mark.parametrize("scaler", ["standard", "robust"])
def test_values_near_float64s_largest_standardise_without_overflow(scaler):
    # a sine of amplitude 1.7e308 has its median far from 0: x - median overflowed to -inf, and fit refused its
    # own training rows as "too far from the training data's scale"; one value in six at -1.7e308 did so for the
    # mean; dividing first standardises them, and the forecasts are the unit data's times 1.7e308
    hours = pd.date_range("2020-01-01", periods=60, freq="h")
    wave = np.sin(np.arange(60) / 3.0) if scaler == "robust" else np.where(np.arange(60) % 6 == 0, -1.0, 1.0)
    params = dict(n_lags=3, horizon=2, max_epochs=1, random_state=0, scaler=scaler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the standard fit on a two-valued series may warn
        far = ARNetForecaster(**params).fit(pd.Series(wave * 1.7e308, index=hours), fh=[1, 2]).predict()
        unit = ARNetForecaster(**params).fit(pd.Series(wave, index=hours), fh=[1, 2]).predict()
    np.testing.assert_allclose(far.to_numpy(), unit.to_numpy() * 1.7e308, rtol=1e-6)


def test_a_narrow_series_at_a_large_level_keeps_its_digits():
    from tsrec.estimators._scale_statistics import standardised

    # the difference is exact there; dividing first would leave about 1e-4 of rounding in each value
    values = 1e9 + 1e-3 * np.sin(np.arange(8.0))[:, None]
    np.testing.assert_allclose(standardised(values, np.array([1e9]), np.array([1e-3])), (values - 1e9) / 1e-3,
                               rtol=0, atol=0)
