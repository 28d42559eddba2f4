"""Parameters set away from their defaults that the chosen configuration never reads are named."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import (ARNetForecaster, ChimeraForecaster, CycleNetForecaster, LS4Forecaster, LTCClassifier,
                              LTCForecaster)

TINY = {"max_epochs": 1, "batch_size": 8, "val_size": 0, "patience": None}
UNUSED = [
    (LTCForecaster, {"units": 3, "ode_unfolds": 1, "backbone_units": 4}, ["backbone_units=4"]),
    (LTCForecaster, {"units": 3, "ode_unfolds": 1, "mode": "pure", "backbone_units": 4},
     ["backbone_units=4 and mode='pure'", "have no effect"]),
    (LTCForecaster, {"units": 3, "cell": "cfc", "backbone_units": 4, "ode_unfolds": 3}, ["ode_unfolds=3"]),
    (ChimeraForecaster, {"d_model": 4, "d_state": 2, "d_ff": 4, "e_layers": 1, "decoder_dim": 8},
     ["decoder_dim=8", "decoder='closed_loop'"]),
    (CycleNetForecaster, {"cycle_length": 4, "d_model": 8}, ["d_model=8", "backbone='mlp'"]),
    (ARNetForecaster, {"lambda_delay": 3.0}, ["lambda_delay=3.0", "sparsity"]),
    (ARNetForecaster, {"sparsity": 1.0, "lambda_delay": 3.0}, ["lambda_delay=3.0"]),
    (ChimeraForecaster, {"d_model": 4, "d_state": 2, "d_ff": 4, "e_layers": 1, "selective": False,
                         "gradient_checkpointing": True}, ["gradient_checkpointing=True", "selective=False"]),
    # the start of a weight average that is off: read by nothing, and said by nothing before
    (LS4Forecaster, {"d_model": 4, "d_state": 4, "n_layers": 1, "n_samples": 2, "ema_start_step": 5},
     ["ema_start_step=5", "ema_decay=None"]),
]
USED = [
    (LTCForecaster, {"units": 3, "ode_unfolds": 1}),
    (LTCForecaster, {"units": 3, "cell": "cfc", "backbone_units": 4, "mode": "pure"}),
    (ChimeraForecaster, {"d_model": 4, "d_state": 2, "d_ff": 4, "e_layers": 1, "decoder": "closed_loop",
                         "decoder_dim": 8}),
    (CycleNetForecaster, {"cycle_length": 4, "backbone": "mlp", "d_model": 8}),
    (ARNetForecaster, {"sparsity": 0.5, "lambda_delay": 3.0}),
    (ARNetForecaster, {"reg_lambda": 0.1, "lambda_delay": 3.0}),
    (LS4Forecaster, {"d_model": 4, "d_state": 4, "n_layers": 1, "n_samples": 2, "ema_decay": 0.9, "ema_start_step": 5}),
]


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    t = np.arange(60, dtype=float)
    return pd.DataFrame({"a": np.sin(t / 3), "b": np.cos(t / 5)}, index=pd.date_range("2024", periods=60, freq="h"))


def _fit(cls, params: dict, y: pd.DataFrame):
    est = cls(**{"lookback": 8, "horizon": 2, **params, **TINY} if cls is not ARNetForecaster
              else {"n_lags": 8, "horizon": 2, **params, **TINY})
    return est.fit(y)


@pytest.mark.parametrize(("cls", "params", "phrases"), UNUSED)
def test_a_parameter_the_configuration_never_reads_is_named(cls, params, phrases, series):
    with pytest.warns(UserWarning, match="no effect") as record:
        _fit(cls, params, series)
    text = " ".join(str(w.message) for w in record if "no effect" in str(w.message))
    for phrase in phrases:
        assert phrase in text, text


@pytest.mark.parametrize(("cls", "params"), USED)
def test_parameters_the_configuration_reads_give_no_warning(cls, params, series):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _fit(cls, params, series)
    assert not [w for w in record if "no effect" in str(w.message)]


def test_the_classifier_names_cfc_options_with_an_ltc_cell():
    X = np.random.default_rng(0).normal(size=(16, 1, 6)).astype(np.float32)
    y = np.repeat([0, 1], 8)
    with pytest.warns(UserWarning, match=r"mode='no_gate' has no effect with cell='ltc'"):
        LTCClassifier(units=3, ode_unfolds=1, mode="no_gate", **TINY).fit(X, y)


@pytest.mark.parametrize("warmup, max_epochs, warns", [(100, 2, True), (2, 3, True), (1, 3, False),
                                                       (10, 3, False),  # 10: the paper's, and the default
                                                       (0, 1, False)])  # no warm-up: epoch 0 trains at lr
def test_a_spacetime_warm_up_that_outlasts_training_is_named(warmup, max_epochs, warns):
    from tsrec.estimators import SpaceTimeForecaster

    params = {**SpaceTimeForecaster.get_test_params()[0], "max_epochs": max_epochs, "warmup_epochs": warmup}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SpaceTimeForecaster(**params, val_size=0, patience=None).fit(np.sin(np.arange(24) / 3.0), fh=[1])
    named = [str(w.message) for w in caught if "warm-up" in str(w.message)]
    if warns:  # the ramp from 1e-6 ends at epoch warmup + 1 (epochs 0 and 1 both train at its first rate)
        assert len(named) == 1 and named[0].startswith(
            f"SpaceTimeForecaster: warmup_epochs={warmup} with max_epochs={max_epochs} ends training inside the "
            "warm-up, so the learning rate never reaches lr=0.001 (the last epoch trains at ")
    else:
        assert named == []
