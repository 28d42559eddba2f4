"""``predict()`` of a stored panel on the fitted step's grid, read from its arrays
(``_onepass.forecast_stored``): the forecasts must be those of a frame per series, to the bit."""

from __future__ import annotations

import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, LS4Forecaster, SpaceTimeForecaster
from tsrec.estimators import _onepass

from onepass_panels import hours, panel_of  # tests/estimators/onepass_panels.py


PANEL = {"a": hours("2024-01-01", 40), "b": hours("2024-01-03", 36), "c": hours("2024-02-01", 30)}
SMALL = {"max_epochs": 1, "random_state": 0}


def predicts_per_series(est, monkeypatch, **kwargs) -> pd.DataFrame:
    """``predict`` as it was: a frame per series."""
    with monkeypatch.context() as m:
        m.setattr(_onepass, "forecast_stored", lambda *args: None)
        return est.predict(**kwargs)


def assert_as_per_series(est, monkeypatch, fh) -> None:
    calls, forecast_stored = [], _onepass.forecast_stored

    def recorded(*args):
        calls.append(forecast_stored(*args))
        return calls[-1]

    with monkeypatch.context() as m:
        m.setattr(_onepass, "forecast_stored", recorded)
        fast = est.predict(fh=fh)
    assert calls and calls[0] is not None, "the panel should be forecast from its arrays"
    pd.testing.assert_frame_equal(fast, predicts_per_series(est, monkeypatch, fh=fh), check_exact=True)


MODELS = {
    "AR-Net, each series scaled": lambda: ARNetForecaster(n_lags=4, horizon=3, **SMALL).fit(panel_of(PANEL)),
    "AR-Net, one scaler": lambda: ARNetForecaster(n_lags=4, horizon=3, scaling="global", **SMALL).fit(panel_of(PANEL)),
    "AR-Net, two variates": lambda: ARNetForecaster(n_lags=4, horizon=3, **SMALL).fit(panel_of(PANEL, 2)),
    "SpaceTime (a closed loop)": lambda: SpaceTimeForecaster(lookback=4, horizon=3, width=8, n_kernels=2,
                                                             kernel_dim=4, **SMALL).fit(panel_of(PANEL)),
    "LS4 (a sampler)": lambda: LS4Forecaster(lookback=4, horizon=3, z_dim=2, d_model=8, d_state=4, n_layers=1,
                                             n_samples=5, **SMALL).fit(panel_of(PANEL)),
}


@pytest.mark.parametrize("fh", [[1, 2, 3], [2, 5, 7]], ids=["the horizon", "steps past it"])
@pytest.mark.parametrize("model", list(MODELS))
def test_stored_panels_forecast_as_a_frame_per_series_does(model, fh, monkeypatch):
    assert_as_per_series(MODELS[model](), monkeypatch, fh)


def test_integer_stamps_updated_and_loaded_models_forecast_as_before(monkeypatch, tmp_path):
    stamps = {"x": pd.RangeIndex(0, 30), "y": pd.RangeIndex(100, 124)}
    est = ARNetForecaster(n_lags=4, horizon=2, **SMALL).fit(panel_of(stamps))
    assert_as_per_series(est, monkeypatch, [1, 3])
    est.update(panel_of({"x": pd.RangeIndex(30, 33), "y": pd.RangeIndex(124, 126)}, seed=1), update_params=False)
    assert_as_per_series(est, monkeypatch, [1, 2])
    est.save(tmp_path / "model")
    assert_as_per_series(tsrec.load(tmp_path / "model"), monkeypatch, [2])


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_other_panels_are_forecast_per_series():  # stamps as fh: tests/estimators/test_onepass_stamps.py
    two_steps = ARNetForecaster(n_lags=4, horizon=2, **SMALL).fit(
        panel_of({"a": hours("2024-01-01", 30), "c": hours("2024-01-01", 30, "2h")}))
    assert _onepass.forecast_stored(two_steps, two_steps._checked_fh([1])) is None  # the series' steps differ
    one = ARNetForecaster(n_lags=4, horizon=2, **SMALL).fit(panel_of(PANEL).loc["a"])
    assert _onepass.forecast_stored(one, one._checked_fh([1])) is None  # one series: no panel
    cycle = CycleNetForecaster(lookback=8, horizon=2, cycle_length=24, **SMALL).fit(panel_of(PANEL))
    assert _onepass.forecast_stored(cycle, cycle._checked_fh([1])) is None  # reads the stamps
