"""LS4's probabilistic forecasts from a new context ``y``, as ``predict(y=...)`` reads one: the
training series as context gives the forecasts of the fit exactly, another series its own
forecasts at its own stamps, and nothing in the estimator changes."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import ARNetForecaster, LS4Forecaster
from tsrec.estimators.errors import InputError

SMALL = {"lookback": 8, "horizon": 3, "z_dim": 2, "d_model": 4, "d_state": 4, "n_layers": 1, "n_samples": 8,
         "max_epochs": 1, "batch_size": 8, "random_state": 0}
FH = [1, 2, 4]
METHODS = ["predict_interval", "predict_quantiles", "predict_var", "predict_proba"]


def hourly_series(start: str, n: int, level: float, name: str = "v") -> pd.Series:
    return pd.Series(np.sin(np.arange(n) / 3.0) + level, index=pd.date_range(start, periods=n, freq="h"), name=name)


def panel(ids: list, start: str, n: int, shift: int = 0) -> pd.DataFrame:
    """Series of two variates, series ``k`` ending ``k * shift`` hours before the first."""
    t = np.arange(n)[:, None]
    index = pd.date_range(start, periods=n, freq="h")
    frames = {key: pd.DataFrame(np.sin(t / (3.0 + k) + [0, 1]) * [1, 5] + [0, 10 + k], index=index,
                                columns=["a", "b"]).iloc[: n - k * shift]
              for k, key in enumerate(ids)}
    return pd.concat(frames, names=["id", "time"])


@pytest.fixture(scope="module")
def single():
    y = hourly_series("2024-01-01", 60, 2.0)
    return LS4Forecaster(**SMALL).fit(y), y


@pytest.fixture(scope="module")
def multi():
    y = panel([0, 1], "2024-01-01", 40)
    return LS4Forecaster(**SMALL).fit(y), y


@pytest.fixture(scope="module", params=["series", "panel"])
def fitted(request, single, multi):
    return single if request.param == "series" else multi


def forecasts(est, **kwargs) -> dict:
    """Every probabilistic forecast at ``FH``, as frames (a distribution by its mean and variance)."""
    proba = est.predict_proba(fh=FH, **kwargs)
    return {
        "interval": est.predict_interval(fh=FH, coverage=[0.5, 0.8], **kwargs),
        "quantiles": est.predict_quantiles(fh=FH, alpha=[0.1, 0.5, 0.9], **kwargs),
        "default quantiles": est.predict_quantiles(fh=FH, **kwargs),
        "variance": est.predict_var(fh=FH, **kwargs),
        "covariance": est.predict_var(fh=FH, cov=True, **kwargs),
        "mean": proba.mean(),
        "distribution variance": proba.var(),
    }


def assert_context_gives_the_stored_forecasts(est, y) -> None:
    """Every probabilistic forecast of context ``y`` equals that of ``est``'s stored series, exactly."""
    expected, given = forecasts(est), forecasts(est, y=y)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(given[name], frame, check_exact=True, obj=name)


def test_the_training_series_as_context_gives_the_fits_forecasts_exactly(fitted):
    assert_context_gives_the_stored_forecasts(*fitted)


def test_the_point_forecast_is_the_mean_of_the_paths_whose_quantiles_are_given(single):
    est, y = single
    other = hourly_series("2025-03-01", 30, -4.0)
    for context in ({}, {"y": other}):  # the relation of the fit's forecasts holds for a new context
        noisy, means = est.sample_paths(4, **context)[:, 0], est.sample_paths(4, noise=False, **context)[:, 0]
        point = est.predict(fh=[1, 2, 3, 4], **context)
        np.testing.assert_allclose(point.to_numpy(), means.mean(axis=0)[:, 0], rtol=1e-9)
        quantiles = est.predict_quantiles(fh=[1, 2, 3, 4], alpha=[0.1, 0.9], **context)
        np.testing.assert_allclose(quantiles.to_numpy(), np.quantile(noisy[..., 0], [0.1, 0.9], axis=0).T, rtol=1e-9)
        variance = est.predict_var(fh=[1, 2, 3, 4], **context)
        np.testing.assert_allclose(variance.to_numpy()[:, 0], noisy[..., 0].var(axis=0), rtol=1e-9)
        assert quantiles.index.equals(point.index) and variance.index.equals(point.index)
    assert not np.allclose(est.predict(fh=[1]).to_numpy(), point.to_numpy()[:1])  # the context was read


def assert_unchanged(est, before) -> None:
    assert est.cutoff.equals(before.cutoff)
    pd.testing.assert_frame_equal(est._y, before._y, check_exact=True)
    assert est._fh is before._fh or str(est._fh) == str(before._fh)
    assert est.__dict__.get("_fh_given") == before.__dict__.get("_fh_given")


def check_quantiles(quantiles: pd.DataFrame, columns: pd.Index, index: pd.Index) -> None:
    """Finite quantiles, ordered along the levels of each variate, at ``index`` in sktime's columns."""
    assert quantiles.columns.equals(columns) and quantiles.index.equals(index)
    values = quantiles.to_numpy().reshape(len(index), -1, 3)  # (rows, variates, levels)
    assert np.isfinite(values).all() and (np.diff(values, axis=-1) >= 0).all()
    assert (values[..., -1] > values[..., 0]).all()


def test_another_series_gets_ordered_quantiles_at_its_own_stamps_and_nothing_changes(single):
    est, _ = single
    fitted = est.predict_quantiles(fh=FH, alpha=[0.05, 0.5, 0.95])
    est.predict(fh=[1, 2])  # a last fh given, which a context must not replace
    before = copy.deepcopy(est)
    other = hourly_series("2025-03-01", 30, -4.0)
    quantiles = est.predict_quantiles(fh=FH, alpha=[0.05, 0.5, 0.95], y=other)
    stamps = pd.date_range("2025-03-02 06:00", periods=4, freq="h")[[0, 1, 3]]
    check_quantiles(quantiles, fitted.columns, stamps)
    assert not np.allclose(quantiles.to_numpy(), fitted.to_numpy())
    pd.testing.assert_frame_equal(est.predict_quantiles(fh=FH, alpha=[0.05, 0.5, 0.95], y=other.to_frame()),
                                  quantiles, check_exact=True)
    interval = est.predict_interval(fh=FH, y=other)
    assert interval.index.equals(stamps) and (interval.iloc[:, 0] < interval.iloc[:, 1]).all()
    assert est.predict_var(fh=FH, y=other).index.equals(stamps)
    assert est.predict_proba(fh=FH, y=other).index.equals(stamps)
    assert_unchanged(est, before)


def test_another_panel_gets_each_series_quantiles_at_its_own_stamps_and_nothing_changes(multi):
    est, _ = multi
    before = copy.deepcopy(est)
    other = panel(["x", "y"], "2025-03-01", 20, shift=2)  # series "y" ends two hours before "x"
    quantiles = est.predict_quantiles(fh=[1, 2], alpha=[0.05, 0.5, 0.95], y=other)
    ends = {"x": pd.Timestamp("2025-03-01 19:00"), "y": pd.Timestamp("2025-03-01 17:00")}
    index = pd.MultiIndex.from_tuples([(key, end + pd.Timedelta(hours=k)) for key, end in ends.items() for k in (1, 2)],
                                      names=["id", "time"])
    check_quantiles(quantiles, pd.MultiIndex.from_product([["a", "b"], [0.05, 0.5, 0.95]]), index)
    assert est.predict_interval(fh=[1, 2], y=other).index.equals(index)
    variance = est.predict_var(fh=[1, 2], y=other)
    assert variance.index.equals(index) and list(variance.columns) == ["a", "b"] and (variance.to_numpy() > 0).all()
    assert est.predict_proba(fh=[1, 2], y=other).index.equals(index)
    assert_unchanged(est, before)


def test_a_model_restored_by_tsrec_load_gives_intervals_for_a_new_series(single, tmp_path):
    import tsrec

    est, _ = single
    other = hourly_series("2025-03-01", 30, -4.0)
    restored = tsrec.load(est.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(restored.predict_interval(fh=FH, y=other), est.predict_interval(fh=FH, y=other),
                                  check_exact=True)


def bad_contexts(y: pd.Series) -> dict:
    nan = y.copy()
    nan.iloc[-2] = np.nan
    two = pd.DataFrame({"v": y, "w": y})
    return {"too short": y.iloc[:5], "other variates": two, "NaN": nan}


@pytest.mark.parametrize("bad, message", [("too short", "has 5 rows but needs at least"),
                                          ("other variates", "variates"), ("NaN", "contains NaN or inf")])
def test_bad_contexts_give_the_errors_predict_gives(single, bad, message):
    est, y = single
    context = bad_contexts(y)[bad]
    with pytest.raises(InputError, match=message) as expected:
        est.predict(fh=[1], y=context)
    for method in METHODS:
        with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
            getattr(est, method)(fh=[1], y=context)


def test_forecasters_without_intervals_refuse_a_context_as_sktime_does():
    y = hourly_series("2024-01-01", 40, 2.0)
    est = ARNetForecaster(n_lags=3, hidden_layers=(4,), max_epochs=1, random_state=0).fit(y)
    for method in METHODS:
        with pytest.raises(NotImplementedError, match="makes point forecasts only"):
            getattr(est, method)(fh=[1], y=y)


def variables(frames: dict) -> dict:
    """The variates each forecast of :func:`forecasts` names (its columns' first level)."""
    return {name: frame.columns.get_level_values(0).unique().tolist() for name, frame in frames.items()}


@pytest.mark.parametrize("name", ["load2", None])
def test_a_renamed_context_names_the_probabilistic_forecasts_as_predict_names_it(single, name):
    # they named the fitted variate, so that they did not line up with predict(y=...) beside them
    est, y = single
    variate = 0 if name is None else name  # an unnamed Series' variate is 0, as sktime names that of a fit on one
    fitted = variables(forecasts(est))
    assert est.predict(fh=FH, y=y.rename(name)).name == name
    assert list(est.predict(fh=FH, y=y.rename(name).to_frame()).columns) == [variate]
    for context in (y.rename(name), y.rename(name).to_frame()):
        assert variables(forecasts(est, y=context)) == dict.fromkeys(fitted, [variate])


def test_a_panel_with_other_names_than_a_numbered_fit_names_every_forecast_by_its_own():
    # numbered variates (a fit on an array's) take any names, which predict(y=...) keeps
    est = LS4Forecaster(**SMALL).fit(panel([0, 1], "2024-01-01", 40).set_axis([0, 1], axis=1))
    context = panel(["x", "y"], "2025-03-01", 20)
    assert list(est.predict(fh=FH, y=context).columns) == ["a", "b"]
    assert set(map(tuple, variables(forecasts(est, y=context)).values())) == {("a", "b")}
    assert set(map(tuple, variables(forecasts(est)).values())) == {(0, 1)}
    # but those same numbers in another order are the fitted variates swapped: refused, as names are
    with pytest.raises(InputError, match=r"y has the variates \[1, 0\] but the forecaster was fitted on \[0, 1\]"):
        est.predict(fh=FH, y=context.set_axis([1, 0], axis=1))


def test_an_array_context_names_every_forecast_by_the_fitted_variates(single):
    est, y = single  # the distribution named it 0, as sktime numbers an array's columns
    assert set(map(tuple, variables(forecasts(est, y=y.to_numpy())).values())) == {("v",)}


def test_updated_stored_series_keep_their_fitted_statistics_as_a_context_of_the_same_rows_does(multi):
    # after update(update_params=False) the stored panel's sample paths were free to be scaled by the
    # stored rows' own statistics (the new rows lie 5 higher), not each fitted series' as documented
    est = copy.deepcopy(multi[0])
    later = panel([0, 1], "2024-01-01", 52).groupby(level="id").tail(12) + 5.0
    est.update(later, update_params=False)
    assert_context_gives_the_stored_forecasts(est, pd.concat([multi[1], later]).sort_index())


def test_series_ending_apart_get_their_own_steps_quantiles_at_absolute_stamps(multi):
    # at the same absolute stamps, series "y" (ending two hours before "x") needs steps 3 and 4, "x" steps
    # 1 and 2: reading the paths at each series' first steps gave "y" the quantiles of steps 1 and 2
    est, _ = multi
    other = panel(["x", "y"], "2025-03-01", 20, shift=2)
    stamps = ForecastingHorizon(pd.date_range("2025-03-01 20:00", periods=2, freq="h"), is_relative=False)
    for method in ("predict_quantiles", "predict_var"):
        together = getattr(est, method)(fh=stamps, y=other)
        for key in ("x", "y"):
            alone = getattr(est, method)(fh=stamps, y=other.loc[[key]])
            pd.testing.assert_frame_equal(together.loc[[key]], alone, obj=f"{method}, {key}")
