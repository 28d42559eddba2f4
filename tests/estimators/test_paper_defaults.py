"""The training defaults each forecaster's docstring says follow its paper's scripts (mutation testing
found them stated only in prose: a changed default passed every test)."""

from __future__ import annotations

import pytest

from tsrec.registry import get_estimator

# name -> the values its docstring's "Defaults follow the paper's ..." sentence states
PAPER_DEFAULTS = {
    "CycleNetForecaster": {"max_epochs": 30, "batch_size": 256},
    "LTCForecaster": {"batch_size": 16},
    "PGNForecaster": {"lr": 1e-3, "batch_size": 32, "max_epochs": 25, "patience": 5},
    "SMambaForecaster": {"batch_size": 32, "max_epochs": 10, "patience": 3, "lr": 1e-4},
    "SpaceTimeForecaster": {"batch_size": 50, "lr": 1e-3, "weight_decay": 1e-4, "max_epochs": 500, "patience": 20},
}


@pytest.mark.parametrize("name", sorted(PAPER_DEFAULTS))
def test_the_training_defaults_are_the_papers(name):
    cls = get_estimator(name)
    params = cls().get_params()
    assert {key: params[key] for key in PAPER_DEFAULTS[name]} == PAPER_DEFAULTS[name]
    assert "Defaults follow the paper's" in cls.__doc__
