"""LS4Forecaster is a calibrated probabilistic forecaster; LS4Classifier learns an easy problem."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import LS4Classifier, LS4Forecaster
from tsrec.estimators.errors import InputError

PERIOD, HORIZON, LENGTH, NOISE = 12, 12, 160, 0.3


@pytest.fixture(scope="module")
def noisy_sines():
    """24 sines of period 12 with random phases plus N(0, 0.3^2) noise; the last 12 rows held out."""
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH)
    index = pd.date_range("2024-01-01", periods=LENGTH, freq="h")
    frames = {
        f"s{i}": pd.DataFrame({"y": np.sin(2 * np.pi * (t + rng.uniform(0, PERIOD)) / PERIOD)
                               + NOISE * rng.standard_normal(LENGTH)}, index=index)
        for i in range(24)
    }
    panel = pd.concat(frames, names=["id", "time"])
    return panel.groupby(level=0).head(LENGTH - HORIZON), panel.groupby(level=0).tail(HORIZON)["y"].to_numpy()


@pytest.fixture(scope="module", params=["nplr", "diag"])
def fitted(noisy_sines, request):
    train, _ = noisy_sines
    est = LS4Forecaster(lookback=36, horizon=HORIZON, z_dim=4, d_model=16, d_state=16, n_layers=1, n_samples=50,
                        max_epochs=5, batch_size=32, lr=3e-3, random_state=0, s4_mode=request.param)
    return est.fit(train)


FH = list(range(1, HORIZON + 1))


def test_an_80_percent_interval_covers_about_80_percent_of_held_out_points(fitted, noisy_sines):
    _, truth = noisy_sines
    interval = fitted.predict_interval(fh=FH, coverage=0.8)
    lower, upper = interval.iloc[:, 0].to_numpy(), interval.iloc[:, 1].to_numpy()
    coverage = np.mean((truth >= lower) & (truth <= upper))
    # measured over 288 points: nplr 0.826 (mean width 0.83), diag 0.774 (0.76); the noise alone needs 0.77
    assert 0.6 <= coverage <= 0.97


def test_the_point_forecast_beats_repeating_the_last_value(fitted, noisy_sines):
    train, truth = noisy_sines
    pred = fitted.predict(fh=FH)["y"].to_numpy()
    last = train.groupby(level=0).tail(1)["y"].to_numpy().repeat(HORIZON)
    mse, naive = np.mean((pred - truth) ** 2), np.mean((last - truth) ** 2)
    assert mse < 0.5 * naive  # measured nplr 0.098, diag 0.102, vs 0.980 (the noise variance is 0.09)


def test_quantiles_are_ordered_and_reproducible(fitted):
    q = fitted.predict_quantiles(fh=FH, alpha=[0.05, 0.25, 0.5, 0.75, 0.95]).to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and np.all(q[:, -1] - q[:, 0] > 0)
    again = pickle.loads(pickle.dumps(fitted)).predict_quantiles(fh=FH, alpha=[0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_array_equal(again.to_numpy(), q)


def test_sample_paths_depend_only_on_the_random_state():
    y = pd.Series(np.sin(np.arange(80) / 3.0) + 0.1 * np.random.default_rng(1).standard_normal(80))

    def paths(seed):
        est = LS4Forecaster(lookback=12, horizon=4, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=7,
                            max_epochs=1, random_state=seed).fit(y)
        return est.sample_paths(6), est.predict_interval(fh=[1, 2, 3], coverage=0.5).to_numpy()

    (first, iv1), (second, iv2), (other, _) = paths(3), paths(3), paths(4)
    assert first.shape == (7, 1, 6, 1)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(iv1, iv2)
    assert not np.allclose(first, other)
    # the paths really differ from each other (it samples), and past the training horizon too
    assert first[:, 0, 5, 0].std() > 0


@pytest.fixture(scope="module")
def tiny_fit():
    y = pd.Series(np.sin(np.arange(60) / 3.0) + 2)
    return LS4Forecaster(lookback=8, horizon=4, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=4,
                         max_epochs=1, random_state=0).fit(y)


@pytest.mark.parametrize("n_steps", [0, -2, 2.7, "3", True, None])
def test_sample_paths_needs_a_whole_number_of_steps(tiny_fit, n_steps):
    with pytest.raises(ValueError, match=f"n_steps must be an integer >= 1, got {n_steps!r}"):
        tiny_fit.sample_paths(n_steps)


def test_sample_paths_takes_numpy_integers_and_a_boolean_noise(tiny_fit):
    np.testing.assert_array_equal(tiny_fit.sample_paths(np.int64(3)), tiny_fit.sample_paths(3))
    assert tiny_fit.sample_paths(2, noise=np.bool_(False)).shape == (4, 1, 2, 1)
    with pytest.raises(TypeError, match="noise must be True or False, got 'no'"):
        tiny_fit.sample_paths(2, noise="no")


@pytest.mark.parametrize("n_samples", [0, 1, 2.5])
def test_n_samples_set_after_fit_is_checked_at_each_forecast(tiny_fit, n_samples):
    est = pickle.loads(pickle.dumps(tiny_fit))
    est.n_samples = n_samples  # 0 was a ZeroDivisionError inside the sampler
    for forecast in (lambda: est.predict(fh=[1, 2]), lambda: est.predict_interval(fh=[1]), lambda: est.sample_paths(2)):
        with pytest.raises(ValueError, match=rf"n_samples must be an integer >= 2 \(sample paths per forecast\), "
                                             rf"got {n_samples!r}"):
            forecast()
    est.n_samples = np.int64(6)
    assert est.sample_paths(2).shape == (6, 1, 2, 1)


@pytest.mark.parametrize("bad", [{"sigma": 0.0}, {"n_samples": 0}, {"z_dim": 0}, {"d_state": 1},
                                 {"d_state": 3}, {"s4_mode": "s4d"}])
def test_bad_model_parameters_raise_a_clear_error(bad):
    y = pd.Series(np.arange(40.0))
    with pytest.raises(ValueError, match=next(iter(bad))):
        LS4Forecaster(lookback=8, horizon=2, max_epochs=1, **bad).fit(y)


def test_classifier_tells_two_frequencies_apart():
    rng = np.random.default_rng(0)
    t = np.arange(32)

    def series(period, n):
        phase = rng.uniform(0, period, (n, 1))
        return np.sin(2 * np.pi * (t + phase) / period) + 0.2 * rng.standard_normal((n, 32))

    X = np.concatenate([series(4, 40), series(12, 40)])
    y = np.array([0] * 40 + [1] * 40)
    order = rng.permutation(80)
    X, y = X[order], y[order]
    clf = LS4Classifier(d_model=16, d_state=16, n_layers=1, max_epochs=30, lr=3e-3, random_state=0)
    clf.fit(X[:60], y[:60])
    # same mean and variance in both classes: only the temporal pattern separates them
    assert clf.score(X[60:], y[60:]) >= 0.9  # measured 1.0


@pytest.fixture(scope="module")
def berlin_fit():
    index = pd.date_range("2024-01-01", periods=60, freq="h", tz="Europe/Berlin")
    y = pd.Series(np.sin(np.arange(60) / 3.0) + 3, index=index, name="v")
    return LS4Forecaster(lookback=4, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=8,
                         max_epochs=1, batch_size=8, random_state=0).fit(y)


def test_intervals_quantiles_and_variances_read_fh_as_predict_does(berlin_fit):
    from sktime.forecasting.base import ForecastingHorizon

    last = berlin_fit.cutoff[0]
    stamps = pd.date_range(last + pd.Timedelta("1h"), periods=2, freq="h")
    forms = {
        "same instants in UTC": ForecastingHorizon(stamps.tz_convert("UTC"), is_relative=False),
        "periods": ForecastingHorizon(pd.period_range(stamps[0].tz_localize(None), periods=2, freq="h"),
                                      is_relative=False),
        "time spans": ForecastingHorizon(pd.to_timedelta([1, 2], unit="h")),
    }
    interval = berlin_fit.predict_interval(fh=[1, 2], coverage=0.8)
    quantiles = berlin_fit.predict_quantiles(fh=[1, 2], alpha=[0.5])
    variance = berlin_fit.predict_var(fh=[1, 2])
    for label, fh in forms.items():
        assert berlin_fit.predict(fh=fh).index.equals(stamps), label
        pd.testing.assert_frame_equal(berlin_fit.predict_interval(fh=fh, coverage=0.8), interval)
        pd.testing.assert_frame_equal(berlin_fit.predict_quantiles(fh=fh, alpha=[0.5]), quantiles)
        pd.testing.assert_frame_equal(berlin_fit.predict_var(fh=fh), variance)
        assert berlin_fit.predict_proba(fh=fh).index.equals(stamps)


def test_intervals_refuse_in_sample_steps_and_stamps_off_the_grid_with_tsrecs_messages(berlin_fit):
    from sktime.forecasting.base import ForecastingHorizon

    from tsrec.estimators.errors import InputError, InSampleError

    with pytest.raises(InSampleError, match="fh must name future steps 1, 2, ..."):
        berlin_fit.predict_interval(fh=[0, 1])
    half = berlin_fit.cutoff[0] + pd.Timedelta("30min")
    with pytest.raises(InputError, match="not on the time grid"):
        berlin_fit.predict_quantiles(fh=ForecastingHorizon(pd.DatetimeIndex([half]), is_relative=False))


def test_intervals_quantiles_and_variances_at_a_step_do_not_depend_on_the_other_steps_asked_for(berlin_fit):
    # the observation noise was drawn after the sampling loop, its layout set by the last step asked for
    short, long = [1, 2, 3], list(range(1, 13))
    for method, kwargs in [("predict_interval", {"coverage": [0.5, 0.8]}), ("predict_quantiles", {"alpha": [0.1, 0.9]}),
                           ("predict_var", {})]:
        first = getattr(berlin_fit, method)(fh=short, **kwargs)
        pd.testing.assert_frame_equal(getattr(berlin_fit, method)(fh=long, **kwargs).iloc[:3], first, check_exact=True)
    assert np.all(berlin_fit.predict_var(fh=short).to_numpy() > 0)


@pytest.fixture(scope="module")
def panel_fit():
    """Two series of two variates ending at the same stamp, and the model fitted on them."""
    index = pd.date_range("2024-01-01", periods=50, freq="h")
    t = np.arange(50)[:, None]
    frames = {k: pd.DataFrame(np.sin(t / (3.0 + k) + [0, 1]) * [1, 5] + [0, 10], index=index, columns=["a", "b"])
              for k in range(2)}
    y = pd.concat(frames, names=["id", "time"])
    est = LS4Forecaster(lookback=4, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=6, max_epochs=1,
                        batch_size=8, random_state=1)
    return est.fit(y), y


def test_predict_var_is_the_variance_of_the_sample_paths_and_predict_proba_uses_it(panel_fit, berlin_fit):
    est, _ = panel_fit
    paths = est.sample_paths(4)  # (samples, series, steps, variates), the draws the quantiles read
    variance = est.predict_var(fh=[2, 4])
    # sktime's default was (IQR of the 50% interval / 1.349)^2, not the paths' variance
    np.testing.assert_allclose(variance.to_numpy(), paths[:, :, [1, 3]].var(axis=0).reshape(4, 2), rtol=1e-9)
    assert list(variance.columns) == ["a", "b"] and variance.index.equals(est.predict(fh=[2, 4]).index)
    single = berlin_fit.predict_proba(fh=[1, 2])  # sktime's default: a Normal with predict's mean
    pd.testing.assert_frame_equal(single.var(), berlin_fit.predict_var(fh=[1, 2]), check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(single.mean(), berlin_fit.predict(fh=[1, 2]).to_frame(), check_exact=False,
                                  rtol=1e-12)


def test_predict_var_with_cov_gives_sktimes_layout_of_the_paths_covariances(panel_fit):
    est, y = panel_fit
    fh = [1, 3, 4]
    cov = est.predict_var(fh=fh, cov=True)
    stamps = pd.date_range(y.index.get_level_values("time")[-1], periods=5, freq="h")[fh]
    assert cov.columns.equals(pd.MultiIndex.from_product([["a", "b"], stamps]))
    assert cov.index.equals(est.predict(fh=fh).index)
    paths = est.sample_paths(4)[:, :, np.array(fh) - 1]
    marginal = est.predict_var(fh=fh)
    for b, key in enumerate([0, 1]):
        for c, name in enumerate(["a", "b"]):
            block = cov.loc[key, name].to_numpy()
            np.testing.assert_allclose(block, np.cov(paths[:, b, :, c], rowvar=False, bias=True), rtol=1e-9)
            np.testing.assert_allclose(np.diag(block), marginal.loc[key, name].to_numpy(), rtol=1e-12)
            assert abs(block[0, 1]) > 0  # the steps of a path really are correlated
    with pytest.raises(TypeError, match="cov must be True or False"):
        est.predict_var(fh=fh, cov="yes")


def test_predict_var_with_cov_on_a_panel_of_different_stamps_says_why_it_cannot(panel_fit):
    from tsrec.estimators.errors import InputError

    fitted, y = panel_fit
    ragged = pd.concat([y.loc[[0]], y.loc[[1]].iloc[:-1]])  # series 1 ends an hour earlier
    est = LS4Forecaster(**fitted.get_params()).fit(ragged)
    assert est.predict_var(fh=[1, 2]).shape == (4, 2)
    with pytest.raises(InputError, match=r"cov=True\) on a panel needs every series to forecast the same time"):
        est.predict_var(fh=[1, 2], cov=True)


def test_predict_proba_keeps_the_stamps_after_an_update_in_numpy(berlin_fit):
    # sktime's default built the distribution from the public predict: NumPy after a NumPy update,
    # whose rows 0, 1, ... then indexed it (CRPS against the truth at its stamps failed)
    import copy

    est = copy.deepcopy(berlin_fit)
    context = est.predict(fh=[1, 2, 3, 4, 5]).to_numpy()
    est.update(context, update_params=False)
    proba, interval = est.predict_proba(fh=[1, 3]), est.predict_interval(fh=[1, 3])
    assert proba.index.equals(interval.index) and isinstance(proba.index, pd.DatetimeIndex)
    np.testing.assert_allclose(proba.var().to_numpy(), est.predict_var(fh=[1, 3]).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(proba.mean().to_numpy(), est.predict(fh=[1, 3]).reshape(-1, 1), rtol=1e-12)


def test_covariances_past_memory_are_refused_before_any_step_is_sampled(panel_fit, monkeypatch):
    from tsrec.estimators import _horizon
    from tsrec.estimators.errors import InputError
    from tsrec.nn.ls4 import LS4

    est, _ = panel_fit
    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**20)  # 1 MiB: 2 x 300 x 300 x 2 covariances do not fit
    monkeypatch.setattr(LS4, "sample", lambda *args, **kwargs: pytest.fail("sampled before the size check"))
    with pytest.raises(InputError, match=r"series' covariance would give 600 rows.*ask for cov=False"):
        est.predict_var(fh=range(1, 301), cov=True)


def test_variances_show_no_warning_of_torch_internals(tiny_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warned that the statistics' array was not writable
        assert tiny_fit.predict_var(fh=[1, 2]).shape == (2, 1)
        assert tiny_fit.predict_var(fh=[1, 2], cov=True).shape == (2, 2)


def test_an_odd_state_size_names_the_even_ones():
    # d_state // 2 complex modes: 3 built the network of 2, silently
    with pytest.raises(ValueError, match=r"d_state must be even .*d_state=5 would build the network of 4\); "
                                         r"use 4 or 6$"):
        LS4Classifier(d_state=5, max_epochs=1).fit(np.zeros((4, 8)), [0, 1, 0, 1])


def test_sample_paths_too_many_for_memory_are_refused_before_sampling():
    y = pd.Series(np.sin(np.arange(60) / 3.0))
    est = LS4Forecaster(lookback=4, horizon=2, z_dim=1, d_model=2, d_state=2, n_layers=1, n_samples=4, max_epochs=1,
                        random_state=0).fit(y)
    est.n_samples = 10**9  # the walk carries each path's context and latents: killed by the OS before
    for forecast in (lambda: est.predict(fh=[1]), lambda: est.predict_interval(fh=[1])):
        with pytest.raises(InputError, match=r"n_samples=1,000,000,000 sample paths would need at least .* GiB while "
                                             r"sampling, .*; lower n_samples$"):
            forecast()


def test_quantile_levels_beyond_what_the_sample_paths_resolve_are_warned_of(tiny_fit):
    # with n_samples=10 a 0.999 interval was the paths' range, and covered 0.80 of an AR(1) without a word
    est = pickle.loads(pickle.dumps(tiny_fit))
    est.n_samples = 10
    with pytest.warns(UserWarning, match=r"quantile level\(s\) \[0\.0005, 0\.9995\] lie beyond what n_samples=10 "
                                         r"sample paths resolve .*raise n_samples \(e\.g\. to 20,000\)"):
        est.predict_interval(fh=[1], coverage=0.999)
    with pytest.warns(UserWarning, match=r"quantile level\(s\) \[0\.01\] lie beyond"):
        est.predict_quantiles(fh=[1], alpha=[0.01, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict_interval(fh=[1], coverage=0.8)  # levels 0.1 and 0.9: ten paths resolve them
    with pytest.warns(UserWarning, match=r"quantile level\(s\) \[0\.05, 0\.95\] lie beyond"):
        est.predict_interval(fh=[1], coverage=0.9)  # just inside the edge: a threshold of 0.5/10 passed it


def test_window_forecasts_average_as_many_paths_as_predict():
    # both the mean of n_samples paths: the network's own count (window forecasts) is the estimator's
    y = pd.Series(np.sin(np.arange(96) / 3.0), index=pd.date_range("2024-01-01", periods=96, freq="h"))
    est = LS4Forecaster(**{**LS4Forecaster.get_test_params()[0], "n_samples": 3, "random_state": 0}).fit(y)
    last_window = est.forecast_windows(y)[-1]
    np.testing.assert_allclose(last_window, est.predict(fh=[1, 2], y=y.iloc[:-2]).to_numpy()[:, None], rtol=1e-5)


@pytest.mark.parametrize("method, kwargs", [("predict_quantiles", {"alpha": [0.9999999999999999]}),
                                             ("predict_quantiles", {"alpha": [1e-20, 0.5]}),
                                             ("predict_interval", {"coverage": 0.9999999999999})])
def test_levels_in_the_far_tails_warn_rather_than_divide_by_zero(tiny_fit, method, kwargs):
    # the tails warning rounded such levels (6 digits: 1.0; 12 digits: a tail of 0) before dividing: ZeroDivisionError
    with pytest.warns(UserWarning, match="beyond what n_samples"):
        out = getattr(tiny_fit, method)(fh=[1, 2], **kwargs)
    assert np.isfinite(out.to_numpy()).all()


def test_the_far_tails_warning_names_each_level_as_given_and_the_samples_the_farthest_needs(tiny_fit):
    # 6 digits round 0.9999999999999999 to 1.0, a level the user did not ask for; the advice must resolve the
    # farthest tail (10 / 1e-3 = 10,000 paths), not the nearest (10 / 0.1 = 100)
    with pytest.warns(UserWarning, match=r"quantile level\(s\) \[0\.9999999999999999\] lie beyond"):
        tiny_fit.predict_quantiles(fh=[1], alpha=[0.9999999999999999])
    with pytest.warns(UserWarning, match=r"quantile level\(s\) \[0\.001, 0\.1\] lie beyond .*e\.g\. to 10,000\)"):
        tiny_fit.predict_quantiles(fh=[1], alpha=[0.001, 0.1])
