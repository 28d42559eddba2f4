"""``predict(fh, y=panel)`` from the panel's arrays (``_onepass.forecast_runs``, which the batch's
chunks take too): the forecasts must be those of a frame per series (``predict_new_context``), to
the bit, for every panel it takes, and every other panel must be left to that path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_panel
from tsrec.estimators._onepass import fitted_grid, forecast_runs, panel_runs
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators import _evaluate
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators.errors import InputError

from onepass_panels import hours, panel_of  # tests/estimators/onepass_panels.py


FITTED = {"a": hours("2024-01-01", 40), "b": hours("2024-01-03", 40)}
CONTEXTS = {
    "new keys": {"x": hours("2024-02-01", 12), "y": hours("2024-05-01 07:00", 9)},
    "a fitted key and a new one": {"a": hours("2024-03-01", 6), "z": hours("2024-03-01", 30)},
    "seconds resolution": {"x": hours("2024-01-01", 8, unit="s"), "b": hours("2024-01-09", 5, unit="s")},
}
STEPS = {"the horizon": [1, 2, 3], "some steps past it": [2, 5, 7]}


def fitted(cls=ARNetForecaster, variates: int = 1, **params) -> DeepForecaster:
    defaults = {"n_lags": 4, "horizon": 3} if cls is ARNetForecaster else {"lookback": 4, "horizon": 3}
    return cls(**{**defaults, "max_epochs": 1, "random_state": 0, **params}).fit(panel_of(FITTED, variates))


@pytest.fixture(scope="module")
def models():
    return {
        "AR-Net, each series scaled": fitted(),
        "AR-Net, one scaler": fitted(scaling="global"),
        "AR-Net, two variates": fitted(variates=2),
        "AR-Net, robust, each series": fitted(scaler="robust"),
        "AR-Net, robust, one scaler": fitted(scaling="global", scaler="robust"),
        "SpaceTime (a closed loop)": fitted(SpaceTimeForecaster, width=8, n_kernels=2, kernel_dim=4),
        "LS4 (a sampler)": fitted(LS4Forecaster, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=5),
    }


def assert_as_predict(est: DeepForecaster, panel: pd.DataFrame, steps: list[int]) -> None:
    fast = forecast_runs(est, panel, steps)
    assert fast is not None, "the chunk should be forecast from its arrays"
    per_series = _evaluate.predict_new_context(est, steps, panel)
    pd.testing.assert_frame_equal(fast, per_series, check_exact=True)
    pd.testing.assert_frame_equal(est.predict(fh=steps, y=panel), per_series, check_exact=True)


@pytest.mark.parametrize("steps", list(STEPS))
@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("model", ["AR-Net, each series scaled", "AR-Net, one scaler", "AR-Net, two variates",
                                   "AR-Net, robust, each series", "AR-Net, robust, one scaler"])
def test_forecasts_from_arrays_are_predicts(models, model, context, steps):
    est = models[model]
    assert_as_predict(est, panel_of(CONTEXTS[context], est.n_channels_, seed=1), STEPS[steps])


@pytest.mark.parametrize("model", ["SpaceTime (a closed loop)", "LS4 (a sampler)"])
def test_models_that_roll_their_own_state_forecast_as_predict_does(models, model):
    assert_as_predict(models[model], panel_of(CONTEXTS["new keys"], seed=2), STEPS["some steps past it"])


def test_integer_stamps_forecast_as_predict_does():
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))
    context = panel_of({"x": pd.RangeIndex(100, 112), "y": pd.RangeIndex(-3, 5)})
    context.index = context.index.set_levels(context.index.levels[-1].astype(np.int64), level=-1)
    assert_as_predict(est, context.rename(columns={"v0": 0}), [1, 2, 4])


OTHER_PANELS = {
    "a series off the fitted step": {"x": hours("2024-02-01", 8), "y": hours("2024-02-01", 8, "30min")},
    "a context shorter than the lookback": {"x": hours("2024-02-01", 8), "y": hours("2024-02-01", 3)},
}


@pytest.mark.parametrize("case", list(OTHER_PANELS))
def test_other_panels_are_left_to_predict(models, case):
    assert forecast_runs(models["AR-Net, each series scaled"], panel_of(OTHER_PANELS[case]), [1]) is None


def test_models_that_read_the_stamps_are_left_to_predict():
    train = panel_of({"a": hours("2024-01-01", 60)})
    est = CycleNetForecaster(lookback=8, horizon=2, cycle_length=24, max_epochs=1, random_state=0).fit(train)
    assert forecast_runs(est, panel_of(CONTEXTS["new keys"]), [1, 2]) is None


def test_the_usual_panel_is_forecast_without_a_frame_per_series(models, monkeypatch):
    est = models["AR-Net, each series scaled"]
    panel = panel_of({f"s{i}": hours("2024-02-01", 10 + i) for i in range(7)}, seed=3)
    expected = forecast_panel(est, panel, fh=[1, 4], chunk_size=3)

    def refuse(*args, **kwargs):
        raise AssertionError("a frame per series built the forecasts")

    monkeypatch.setattr(_evaluate, "predict_new_context", refuse)
    pd.testing.assert_frame_equal(forecast_panel(est, panel, fh=[1, 4], chunk_size=3), expected, check_exact=True)
    assert len(est.predict(fh=[2, 3], y=panel)) == 2 * 7  # predict(y=panel) itself
    with pytest.raises(AssertionError, match="a frame per series"):  # a panel off the grid still takes that path
        forecast_panel(est, panel_of(OTHER_PANELS["a series off the fitted step"]), fh=1)


def test_the_chunk_is_checked_as_predict_checks_it(models):
    # the up-front checks read only the last lookback rows: a NaN before them reached the network
    est = models["AR-Net, one scaler"]
    panel = panel_of(CONTEXTS["new keys"])
    panel.iloc[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN or inf"):
        forecast_runs(est, panel, [1])
    with pytest.raises(TypeError, match="boolean columns"):
        forecast_runs(est, (panel.fillna(0) > 0), [1])
    with pytest.raises(InputError, match="not evenly spaced"):
        forecast_runs(est, panel_of({"x": hours("2024-02-01", 8).delete(3)}), [1])


def test_stamps_past_the_last_date_time_are_refused_as_predict_refuses_them(models):
    # the stamps after 2262-04-11 23:00 (ns) wrapped round to 1677
    est = models["AR-Net, each series scaled"]
    panel = panel_of({"x": hours("2262-04-11 15:00", 8)})  # the last at 22:00; ns end at 23:47:16
    assert forecast_runs(est, panel, [1]) is not None
    with pytest.raises(InputError) as predicts:
        _evaluate.predict_new_context(est, [1, 2], panel)
    with pytest.raises(InputError, match="past 2262-04-11 23:47:16.854775807") as fast:
        forecast_runs(est, panel, [1, 2])
    assert str(fast.value) == str(predicts.value)
    with pytest.raises(InputError, match="^the input: the forecast's time stamps would run past"):
        forecast_panel(est, panel, fh=[1, 2])  # before any chunk


def test_integer_stamps_that_wrap_past_int64_are_off_the_grid():
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))
    top, bottom = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    panel = panel_of({"x": pd.Index(np.array([top - 1, top, bottom, bottom + 1], dtype=np.int64))})
    assert fitted_grid(est, panel, panel_runs(panel)) is None  # they differ by one step each, but fall


def test_ids_of_several_levels_are_left_to_predict(models):
    panel = pd.concat({"g": panel_of(CONTEXTS["new keys"])}, names=["group"])
    assert forecast_runs(models["AR-Net, each series scaled"], panel, [1]) is None


def test_predicts_steps_are_read_as_its_path_reads_them(models, monkeypatch):
    est = models["AR-Net, each series scaled"]
    panel = panel_of(CONTEXTS["new keys"], seed=4)
    for fh in (2, range(1, 4), np.array([3, 1]), pd.Index([2, 4])):
        pd.testing.assert_frame_equal(est.predict(fh=fh, y=panel), _evaluate.predict_new_context(est, fh, panel),
                                      check_exact=True)
    with pytest.raises(ValueError, match="no fh was given in fit or predict"):  # none here or in fit
        est.predict(y=panel)
    monkeypatch.setattr(_evaluate, "predict_new_context", lambda *args: "per series")
    assert est.predict(fh=pd.DatetimeIndex(["2024-02-02"]), y=panel) == "per series"  # stamps
    for fh in ([0, 1], [1, 1], []):  # that path refuses them, after its checks of the panel
        assert est.predict(fh=fh, y=panel) == "per series"


def test_errors_come_in_the_per_series_paths_order(models):
    # the stamps' room was checked first: a step of 10**12 hours named the 2262 limit and a coarser
    # unit as the fix, where the output's size is what stands in the way
    est = models["AR-Net, each series scaled"]
    panel = panel_of(CONTEXTS["new keys"])
    with pytest.raises(InputError) as per_series:
        _evaluate.predict_new_context(est, [10**12], panel)
    with pytest.raises(InputError) as fast:
        forecast_runs(est, panel, [10**12])
    assert str(fast.value) == str(per_series.value) and "GiB" in str(fast.value)
