"""Every estimator trains under Lightning's mixed and double precision and then predicts."""

from __future__ import annotations

import numpy as np
import pytest

from tsrec import all_estimators

ESTIMATORS = all_estimators()
IDS = [n for n, _ in ESTIMATORS]


def tiny(cls, precision: str):
    params = dict(cls.get_test_params()[0]) if hasattr(cls, "get_test_params") else {}
    params.update(getattr(cls, "_test_params", {}))
    return cls(**{**params, "max_epochs": 1, "precision": precision, "random_state": 0})


@pytest.mark.parametrize("precision", ["bf16-mixed", "64-true"])
@pytest.mark.parametrize("name,cls", ESTIMATORS, ids=IDS)
def test_trains_and_predicts_in_other_precisions(name, cls, precision, hourly_frame):
    est = tiny(cls, precision)
    if name.endswith("Classifier"):
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((16, 2, 12)), np.arange(16) % 2
        proba = est.fit(X, y).predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        forecast = est.fit(hourly_frame.iloc[:120], fh=[1, 2]).predict()
        assert forecast.shape == (2, 2) and np.isfinite(forecast.to_numpy()).all()
