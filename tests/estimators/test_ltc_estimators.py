"""LTCForecaster and LTCClassifier on data with known answers (contracts: test_conformance)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.datasets import load_ucr
from tsrec.estimators import LTCClassifier, LTCForecaster


@pytest.mark.parametrize("cell", ["ltc", "cfc"])
def test_forecaster_learns_a_noisy_cycle(cell):
    rng = np.random.default_rng(0)
    y = pd.Series(np.sin(2 * np.pi * np.arange(600) / 20) + 0.1 * rng.normal(size=600))
    cfc_width = {"backbone_units": 16} if cell == "cfc" else {}  # an LTC cell has no backbone (and warns)
    est = LTCForecaster(lookback=20, horizon=5, units=8, cell=cell, max_epochs=8, random_state=0,
                        **cfc_width).fit(y[:500])
    errors, repeat_last = [], []
    for end in range(500, 595, 5):
        truth = y[end:end + 5].to_numpy()
        errors.append(np.mean((est.predict(fh=range(1, 6), y=y[:end]).to_numpy().ravel() - truth) ** 2))
        repeat_last.append(np.mean((y.iloc[end - 1] - truth) ** 2))
    # the noise alone costs 0.01; repeating the last value costs about 0.5
    assert np.mean(errors) < 0.05 < 0.1 * np.mean(repeat_last)


def test_ltc_classifier_on_italy_power_demand():
    X_train, y_train = load_ucr("ItalyPowerDemand")
    X_test, y_test = load_ucr("ItalyPowerDemand", "test")
    # LTC's training on it is sensitive to float rounding (seed 0 scored 0.93 before the input
    # synapses were hoisted out of the time loop, 0.76 after): judge the median of three seeds
    scores = [LTCClassifier(units=16, pool="last", max_epochs=50, random_state=seed)
              .fit(X_train, y_train).score(X_test, y_test) for seed in range(3)]
    assert np.median(scores) >= 0.88  # measured 0.757 / 0.918 / 0.956; ROCKET 0.97


def test_ltc_classifier_mean_pooling_reads_the_whole_series():
    # BasicMotions (100 steps, 6 channels): the activity shows in the whole recording, but an LTC
    # neuron forgets within a few steps, so the last state is a poor summary of it
    X_train, y_train = load_ucr("BasicMotions")
    X_test, y_test = load_ucr("BasicMotions", "test")
    scores = {pool: LTCClassifier(units=16, pool=pool, max_epochs=50, random_state=0)
              .fit(X_train, y_train).score(X_test, y_test) for pool in ("mean", "last")}
    assert scores["mean"] >= 0.85 and scores["mean"] >= scores["last"] + 0.2  # measured 0.975 and 0.575


@pytest.mark.parametrize(
    "params,message",
    [({"cell": "gru"}, "cell must be one of"), ({"mode": "fast"}, "mode must be one of"),
     ({"ode_unfolds": 0}, "ode_unfolds"), ({"units": 2.5}, "units")],
)
def test_bad_cell_parameters_are_named(params, message):
    X, y = np.random.default_rng(0).normal(size=(10, 8)), np.array([0, 1] * 5)
    with pytest.raises((ValueError, TypeError), match=message):
        LTCClassifier(max_epochs=1, **params).fit(X, y)
    with pytest.raises((ValueError, TypeError), match=message):
        LTCForecaster(lookback=4, max_epochs=1, **params).fit(pd.Series(np.arange(30.0)))


def test_learning_rate_follows_the_cell_unless_given():
    from tsrec.estimators._params import training_config

    for liquid in (LTCClassifier, LTCForecaster):
        assert training_config(liquid()).lr == 0.01
        assert training_config(liquid(cell="cfc")).lr == 0.001
    assert training_config(LTCForecaster(cell="cfc", lr=0.02)).lr == 0.02


def test_cfc_classifier_defaults_learn_italy_power_demand():
    # at the LTC rate of 0.01 the CfC cell did not train here (0.499, chance)
    X_train, y_train = load_ucr("ItalyPowerDemand")
    X_test, y_test = load_ucr("ItalyPowerDemand", "test")
    clf = LTCClassifier(cell="cfc", random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.75  # measured 0.814


def test_bad_pool_is_named():
    X, y = np.random.default_rng(0).normal(size=(10, 8)), np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="pool must be one of"):
        LTCClassifier(pool="max", max_epochs=1).fit(X, y)
