"""Every estimator trains under Lightning's mixed and double precision and then predicts; with
bfloat16 weights ("bf16-true") too, except LS4's complex S4 layers, which refuse it with the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from tsrec import all_estimators
from tsrec.estimators._engine import extra_callbacks

ESTIMATORS = all_estimators()
IDS = [n for n, _ in ESTIMATORS]


def tiny(cls, precision: str):
    params = dict(cls.get_test_params()[0]) if hasattr(cls, "get_test_params") else {}
    params.update(getattr(cls, "_test_params", {}))
    return cls(**{**params, "max_epochs": 1, "precision": precision, "random_state": 0})


class OutputDtypes(Callback):
    """The dtypes the network's modules compute in while training: their outputs' dtypes, and
    autocast's dtype where autocast is on (a module may return float32 after a bf16 product)."""

    def __init__(self) -> None:
        self.dtypes: set[torch.dtype] = set()

    def on_fit_start(self, trainer, pl_module) -> None:
        for layer in pl_module.modules():
            layer.register_forward_hook(self.record)

    def record(self, module, args, out) -> None:
        if torch.is_autocast_enabled("cpu"):
            self.dtypes.add(torch.get_autocast_dtype("cpu"))
        for tensor in out if isinstance(out, tuple) else (out,):
            if isinstance(tensor, torch.Tensor):
                self.dtypes.add(tensor.dtype)


def fit_tiny(name: str, est, hourly_frame):
    """``est`` fitted on tiny data of its kind, and the X to predict from (None for a forecaster)."""
    if name.endswith("Classifier"):
        X, y = np.random.default_rng(0).standard_normal((16, 2, 12)), np.arange(16) % 2
        return est.fit(X, y), X
    return est.fit(hourly_frame.iloc[:120], fh=[1, 2]), None


COMPUTES_IN = {"bf16-mixed": torch.bfloat16, "64-true": torch.float64}


@pytest.mark.parametrize("precision", ["bf16-mixed", "64-true"])
@pytest.mark.parametrize("name,cls", ESTIMATORS, ids=IDS)
def test_trains_and_predicts_in_other_precisions(name, cls, precision, hourly_frame):
    est, seen = tiny(cls, precision), OutputDtypes()
    with extra_callbacks([seen]):
        est, X = fit_tiny(name, est, hourly_frame)
    assert COMPUTES_IN[precision] in seen.dtypes  # the precision was applied while training
    weights = {p.dtype for p in est.network_.parameters()}
    assert weights == ({torch.float64} if precision == "64-true" else {torch.float32})
    if name.endswith("Classifier"):
        np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)
    else:
        forecast = est.predict()
        assert forecast.shape == (2, 2) and np.isfinite(forecast.to_numpy()).all()


@pytest.mark.parametrize("name,cls", ESTIMATORS, ids=IDS)
def test_bfloat16_weights_train_or_are_refused_with_the_fix(name, cls, hourly_frame):
    est = tiny(cls, "bf16-true")
    if name.startswith("LS4"):  # complex S4 layers: it failed inside torch ("Expected ... Half, Float or Double")
        with pytest.raises(ValueError,
                           match="complex numbers, and torch has no complex bfloat16 type; use 'bf16-mixed'"):
            fit_tiny(name, est, hourly_frame)
        return
    est, X = fit_tiny(name, est, hourly_frame)
    assert {p.dtype for p in est.network_.parameters()} == {torch.bfloat16}
    out = est.predict_proba(X) if X is not None else est.predict().to_numpy()
    assert np.isfinite(out).all()
