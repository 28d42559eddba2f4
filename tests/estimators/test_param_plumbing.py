"""Each architecture or loss parameter reaches the model: changing it changes the fitted model's output.

A parameter the estimator stores but never hands to its network (or loss, or schedule) passes every
contract test; mutation testing found about twenty such places untested, listed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.registry import get_estimator

HOURLY = pd.Series(np.sin(np.arange(96) / 3.0) + 0.1 * np.random.default_rng(0).normal(size=96),
                   index=pd.date_range("2024-01-01", periods=96, freq="h"))
rng = np.random.default_rng(1)
LABELS = np.array(["down", "up"] * 12)
PANEL = rng.normal(size=(24, 1, 12)) + np.where(LABELS == "up", 1.0, 0.0)[:, None, None] * np.linspace(0, 1, 12)

# (estimator, parameters of both fits, the parameter, a value other than its default)
CASES = [
    ("ARNetForecaster", {"max_epochs": 3, "sparsity": 0.9}, "reg_lambda", 0.5),
    ("SpaceTimeForecaster", {}, "norm_order", 2),
    ("SpaceTimeForecaster", {}, "criterion_weights", (1.0, 0.5, 0.2)),
    ("SpaceTimeForecaster", {"max_epochs": 2, "lr": 0.05}, "warmup_epochs", 0),
    ("LTCForecaster", {}, "ode_unfolds", 3),
    ("LTCForecaster", {}, "norm", False),
    ("LTCForecaster", {"cell": "cfc"}, "backbone_units", 8),
    ("LS4Forecaster", {}, "sigma", 0.5),
    ("LS4Forecaster", {}, "condition_on_x", True),
    ("LS4Forecaster", {}, "s4_mode", "diag"),
    ("PGNForecaster", {}, "norm", False),
    ("ChimeraForecaster", {}, "selective", False),
    ("ChimeraForecaster", {}, "norm", False),
    ("LS4Forecaster", {}, "instance_norm", True),
    ("SMambaForecaster", {}, "d_state", 4),
    ("SMambaForecaster", {}, "dropout", 0.4),
    ("SMambaForecaster", {}, "time_features", False),
    ("SpaceTimeClassifier", {}, "norm_order", 2),
    ("LTCClassifier", {"cell": "cfc"}, "mode", "pure"),
    ("LTCClassifier", {}, "ode_unfolds", 3),
    ("SpaceTimeClassifier", {}, "dropout", 0.0),
    ("LS4Classifier", {}, "dropout", 0.3),
    ("LS4Classifier", {}, "s4_mode", "diag"),
    ("PGNClassifier", {}, "pool", "mean"),
    ("PGNClassifier", {}, "dropout", 0.4),
    ("ChimeraClassifier", {}, "selective", False),
    ("SMambaClassifier", {}, "d_state", 4),
    ("SMambaClassifier", {}, "e_layers", 2),
    # mutation round 12 (the estimator classes): each of these could be dropped on its way to the network
    ("PGNClassifier", {}, "n_layers", 2),
    ("PGNForecaster", {}, "hidden", 8),
    ("LTCForecaster", {"cell": "cfc"}, "mode", "pure"),
    ("LTCClassifier", {"cell": "cfc"}, "backbone_units", 8),
    ("LTCForecaster", {}, "units", 8),
    ("LS4Forecaster", {}, "dropout", 0.3),
    ("LS4Forecaster", {}, "n_samples", 3),
    ("ChimeraForecaster", {}, "dropout", 0.4),
    ("ChimeraClassifier", {}, "e_layers", 2),
    ("SMambaForecaster", {}, "d_ff", 16),
    ("SMambaForecaster", {}, "e_layers", 2),
    ("SMambaClassifier", {}, "dropout", 0.4),
    ("SpaceTimeForecaster", {}, "n_blocks", 2),
    ("SpaceTimeClassifier", {}, "n_blocks", 2),
]


def _estimator(name: str, params: dict):
    cls = get_estimator(name)
    if name.endswith("Forecaster"):
        small = cls.get_test_params()[0]
        window = {"lookback": 24} if "lookback" in small else {}  # a day of hours: time features matter
        return cls(**{**small, **window, "random_state": 0, **params})
    return cls(**{**cls._test_params, "max_epochs": 2, "random_state": 0, **params})


def _output(est) -> np.ndarray:
    if type(est).__name__.endswith("Forecaster"):
        return est.fit(HOURLY).predict(fh=[1, 2]).to_numpy()
    return est.fit(PANEL, LABELS).predict_proba(PANEL)


@pytest.mark.parametrize("name, base, param, value", CASES, ids=[f"{n}-{p}" for n, _, p, _ in CASES])
def test_the_parameter_changes_the_fitted_model(name, base, param, value):
    first = _estimator(name, base)
    assert first.get_params()[param] != value  # a change from the first fit's value
    before, after = _output(first), _output(_estimator(name, {**base, param: value}))
    assert np.isfinite(after).all()
    assert not np.allclose(before, after, rtol=1e-6, atol=1e-9), f"{name}({param}={value!r}) left the output as it was"


def test_ls4_draws_its_sample_paths_with_the_seed_of_random_state():
    # the network's own generator seed: with 0 in its place, every random_state drew the same paths
    est = _estimator("LS4Forecaster", {"random_state": 7}).fit(HOURLY)
    assert est.network_.seed == 7
