"""Roll-outs past the horizon: they feed on the latest forecasts, the memory refusal's bound is the machine's
memory, and the long roll-out warning's step bound is inclusive (a mutation round over _rollout.py and _horizon.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.estimators import ARNetForecaster, _horizon
from tsrec.estimators.errors import InputError


def test_steps_past_the_horizon_are_forecast_from_the_context_extended_by_the_first_horizon():
    y = pd.Series(np.sin(np.arange(80) / 3.0) + 3, index=pd.date_range("2024-01-01", periods=80, freq="h"), name="v")
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    far = est.predict(fh=[1, 2, 3, 4])
    extended = pd.concat([y, far.iloc[:2]])
    np.testing.assert_allclose(far.iloc[2:].to_numpy(), est.predict(fh=[1, 2], y=extended).to_numpy(), rtol=1e-5)
    assert not np.allclose(far.iloc[2:].to_numpy(), far.iloc[:2].to_numpy())  # not the first horizon repeated


def test_a_roll_out_needing_just_over_the_memory_is_refused_and_one_fitting_it_is_not(monkeypatch):
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    need = 1000 * (8 + _horizon.ROLLOUT_ROW_BYTES)  # one series, one variate, 1,000 steps
    monkeypatch.setattr(_horizon, "physical_memory", lambda: need - 1)
    with pytest.raises(InputError, match=r"fh reaches step 1,000: 1 series would give 1,000 rows"):
        est.predict(fh=[1000])
    monkeypatch.setattr(_horizon, "physical_memory", lambda: need)
    assert est.predict(fh=[1000]).shape == (1,)


def test_a_roll_out_of_exactly_the_step_bound_warns(monkeypatch):
    y = pd.Series(np.sin(np.arange(80.0)), index=pd.date_range("2024-01-01", periods=80, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    monkeypatch.setattr(_horizon, "LONG_ROLLOUT_STEPS", 2000)  # the rule at a size a test can roll out
    with pytest.warns(UserWarning, match=r"fh reaches step 2,000 after the end of the data, 1,000 times .*minutes"):
        est.predict(fh=[2000])


def test_a_float64_models_forecasts_are_unscaled_from_its_float64_outputs(monkeypatch):
    """precision="64-true" is chosen for its digits: the standardised forecasts must reach the unscaling as
    float64 (rounded to float32 first, a series of scale 1e9 lost about ten units of each forecast)."""
    y = pd.Series(1e9 * np.sin(np.arange(60) / 3.0), index=pd.date_range("2024-01-01", periods=60, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, precision="64-true").fit(y)

    def forecast_of(value: float) -> float:  # every standardised step of every series is `value`
        monkeypatch.setattr(est, "_forecast_path",
                            lambda x, position, n: torch.full((len(x), max(n, 2), 1), value, dtype=torch.float64))
        return float(est.predict(fh=[1]).iloc[0])

    centre, one = forecast_of(0.0), forecast_of(1.0)
    np.testing.assert_allclose(forecast_of(1 / 3), centre + (one - centre) / 3, rtol=1e-12)
