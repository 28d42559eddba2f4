"""CycleNet: the learned cycle, cycle-length inference, phase alignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.datasets import make_seasonal
from tsrec.estimators import CycleNetForecaster
from tsrec.nn import CycleNet


def test_recovers_a_known_daily_cycle():
    # noise as strong as the cycle: the backbone cannot explain the cycle from the lookback
    # alone, so the learned Q must carry it (with weak noise Q and the backbone share it)
    y, cycle = make_seasonal(n_samples=3000, period=24, n_channels=2, noise=1.0, random_state=0)
    est = CycleNetForecaster(lookback=48, horizon=24, max_epochs=15, batch_size=64, random_state=0).fit(y)
    learned = est.cycle_
    assert learned.shape == (24, 2)
    for channel in range(2):
        corr = np.corrcoef(learned[:, channel], cycle[:, channel])[0, 1]
        assert corr > 0.95, f"channel {channel}: correlation {corr:.3f}"


@pytest.mark.parametrize(
    "freq,expected",
    [("h", 24), ("15min", 96), ("10min", 144), ("30min", 48), ("5min", 288), ("2h", 12), ("6h", 4), ("D", 7),
     ("B", 5), ("W", 52), ("MS", 12), ("ME", 12), ("QS", 4),
     ("period M", 12), ("period Q", 4)],
)
def test_cycle_length_inferred_from_frequency(freq, expected):
    if freq.startswith("period"):
        index = pd.period_range("1990-01", periods=400, freq=freq.split()[1])
    else:
        index = pd.date_range("1990-01-01", periods=400, freq=freq)
    y = pd.Series(np.sin(np.arange(400.0)), index=index)
    est = CycleNetForecaster(lookback=8, horizon=4, max_epochs=1).fit(y)
    assert est.network_meta_["cycle_length"] == expected


def test_a_given_cycle_length_wins_over_the_one_the_step_implies():
    # the paper's weekly cycle of hourly Electricity and Traffic data: 168, where hourly steps imply 24
    y = pd.Series(np.sin(np.arange(400.0)), index=pd.date_range("1990-01-01", periods=400, freq="h"))
    est = CycleNetForecaster(lookback=24, horizon=24, cycle_length=168, max_epochs=1).fit(y)
    assert est.network_meta_["cycle_length"] == 168 and est.cycle_.shape == (168, 1)


@pytest.mark.parametrize("freq", ["YS", "7min", "5h", "24h", "1440min"])  # no entry; no step of a day
def test_unknown_frequency_asks_for_cycle_length(freq):
    y = pd.Series(np.arange(100.0), index=pd.date_range("1900-01-01", periods=100, freq=freq))
    with pytest.raises(ValueError, match="cycle_length"):
        CycleNetForecaster(lookback=8, horizon=4, max_epochs=1).fit(y)
    CycleNetForecaster(lookback=8, horizon=4, max_epochs=1, cycle_length=2).fit(y)


def test_phase_follows_the_time_index_not_the_row_number():
    # the same values shifted by 5 hours must be read with a cycle shifted by 5 phases
    net = CycleNet(lookback=4, horizon=2, n_channels=1, cycle_length=24, use_revin=False)
    with torch.no_grad():
        net.cycle.data.copy_(torch.arange(24.0).view(24, 1))
        net.backbone.weight.zero_()
        net.backbone.bias.zero_()
    out = net(torch.zeros(2, 4, 1), position=torch.tensor([0, 29]))
    # output window starts at phase (position + lookback) mod 24
    assert out[:, :, 0].tolist() == [[4.0, 5.0], [9.0, 10.0]]


def test_a_numpy_context_of_a_model_fitted_on_positions_is_refused():
    # an array cannot say where its rows lie: read as positions 0, 1, ... it would restart the phase
    values = 5 + np.sin(2 * np.pi * np.arange(101) / 24)
    est = CycleNetForecaster(lookback=24, horizon=6, cycle_length=24, max_epochs=1, val_size=0.0, random_state=0)
    est.fit(values, fh=range(1, 7))
    with pytest.raises(ValueError, match="NumPy array.*pd.RangeIndex"):
        est.predict(y=values[-24:])
    with pytest.raises(ValueError, match="NumPy array.*pd.RangeIndex"):
        est.forecast_windows(values[-40:])
    same_rows = pd.Series(values[-24:], index=pd.RangeIndex(77, 101))
    np.testing.assert_allclose(est.predict(y=same_rows).to_numpy().ravel(), np.asarray(est.predict()).ravel())


def test_mlp_backbone_and_no_revin_train():
    y, _ = make_seasonal(n_samples=600, period=24)
    est = CycleNetForecaster(lookback=48, horizon=24, backbone="mlp", d_model=16, use_revin=False, max_epochs=2)
    pred = est.fit(y, fh=[1, 2]).predict()
    assert pred.shape == (2, 1) and np.isfinite(pred.to_numpy()).all()
    # both options reach the network: Linear(48 -> 16), ReLU, Linear(16 -> 24), and no normalisation
    layers = est.network_.backbone
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Linear"]
    assert (layers[0].in_features, layers[0].out_features, layers[2].out_features) == (48, 16, 24)
    assert est.network_.norm.enabled is False


@pytest.mark.parametrize(
    "params,expected",
    [({}, 0.01), ({"lookback": 336}, 0.005), ({"lookback": 720}, 0.005), ({"backbone": "mlp"}, 0.005),
     ({"backbone": "mlp", "lookback": 336}, 0.002), ({"backbone": "mlp", "lookback": 720}, 0.0005),
     ({"backbone": "mlp", "lookback": 168}, 0.002), ({"backbone": "mlp", "lr": 0.03}, 0.03)],
)
def test_learning_rate_follows_the_papers_scripts_by_backbone_and_lookback(params, expected):
    from tsrec.estimators._params import training_config

    assert training_config(CycleNetForecaster(**params)).lr == expected


@pytest.mark.parametrize(("cycle_length", "untrained"), [
    (41, "phase 40 of the cycle is never trained and stays 0"),  # one row short: the edge
    (50, "phases 40 to 49 of the cycle are never trained and stay 0"),
])
def test_a_cycle_longer_than_the_data_warns_of_its_untrained_phases(cycle_length, untrained):
    y = np.sin(np.arange(40) / 3.0)
    est = CycleNetForecaster(lookback=8, horizon=4, cycle_length=cycle_length, max_epochs=2, val_size=0, random_state=0)
    with pytest.warns(UserWarning, match=rf"cycle_length={cycle_length} is longer than the training data \(40 rows\): "
                                         + untrained):
        est.fit(y, fh=[1])
    assert np.abs(est.cycle_[:40]).max() > 0
    np.testing.assert_array_equal(est.cycle_[40:], 0.0)  # what the warning says


@pytest.mark.parametrize("freq,expected", [("BME", 12), ("BMS", 12), ("QE", 4), ("BQE", 4), ("BQS", 4)])
def test_business_and_quarter_end_steps_get_a_yearly_cycle(freq, expected):
    # _cycles._CYCLE_BY_FREQ: every monthly and quarterly alias the table lists (one year)
    y = pd.Series(np.sin(np.arange(60.0)), index=pd.date_range("1990-01-01", periods=60, freq=freq))
    est = CycleNetForecaster(lookback=8, horizon=4, max_epochs=1).fit(y)
    assert est.network_meta_["cycle_length"] == expected


def test_each_forecast_step_reads_the_cycle_at_its_own_stamps_phase():
    # the paper's alignment at predict time: the step at stamp s adds Q[s mod W] (phases count hours since
    # 1970, so an hour's phase is its hour of day), past one horizon too, where forecasts are fed back
    index = pd.date_range("2024-01-01 05:00", periods=200, freq="h")
    y = pd.Series(np.sin(np.arange(200) * 2 * np.pi / 24) + 3, index=index, name="load")
    est = CycleNetForecaster(lookback=24, horizon=4, use_revin=False, max_epochs=1, random_state=0).fit(y)
    with torch.no_grad():  # the forecast is then the cycle alone: Q[phase] = phase
        est.network_.cycle.data.copy_(torch.arange(24.0).view(24, 1))
        est.network_.backbone.weight.zero_()
        est.network_.backbone.bias.zero_()
    forecast = est.predict(fh=range(1, 11))
    scaled = (forecast.to_numpy() - est.scaler_.mean_[0]) / est.scaler_.scale_[0]
    np.testing.assert_allclose(scaled, forecast.index.hour, atol=1e-4)
