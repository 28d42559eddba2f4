"""Every registered estimator's network keeps its tensors on the input's device: checked on ``meta``.

Run as a script in a fresh process (``test_device_placement.py`` does): it patches
``torch.Tensor`` for the run. A tensor that a network makes on the CPU inside ``forward`` (a
``torch.arange`` or ``torch.zeros`` without ``device=``) breaks training on a GPU; this machine
has none, but PyTorch's ``meta`` device, which computes shapes and no values, refuses to mix
with CPU tensors the same way CUDA does. Each estimator is fitted for one epoch on tiny data on
the CPU; its network is then moved to ``meta`` and runs its training loss with a backward pass,
and its forecast or prediction path. Meta tensors hold no values, so the few value reads the
networks make (input checks, a norm's guard) read as "finite" and "false" here.

Prints one line per estimator, ``ok`` or ``FAIL`` with the error, and a count line.
"""

from __future__ import annotations

import sys
import traceback
import warnings

import numpy as np
import pandas as pd
import torch

META = torch.device("meta")


def read_meta_values_as_harmless() -> None:
    """Value reads of meta tensors: ``bool`` False, ``float``/``item`` 1.0, ``isfinite`` True."""
    for method, value in (("__bool__", False), ("__float__", 1.0), ("item", 1.0)):
        original = getattr(torch.Tensor, method)
        setattr(torch.Tensor, method, (lambda o, v: lambda self: v if self.is_meta else o(self))(original, value))
    original_isfinite = torch.isfinite
    torch.isfinite = lambda x: torch.ones((), dtype=torch.bool) if x.is_meta else original_isfinite(x)


def tiny_params(cls: type) -> dict:
    small = cls.get_test_params()[0] if hasattr(cls, "get_test_params") else {}
    return {**small, **getattr(cls, "_test_params", {}), "max_epochs": 1, "random_state": 0, "accelerator": "cpu"}


def check_forecaster(cls: type) -> str:
    rng = np.random.default_rng(0)
    index = pd.date_range("2020-01-01", periods=160, freq="h")
    y = pd.DataFrame(rng.normal(size=(160, 2)).cumsum(axis=0), index=index, columns=["a", "b"])
    est = cls(**tiny_params(cls))
    horizon = est.get_params().get("horizon", 4)
    est.fit(y, fh=list(range(1, horizon + 1)))
    net = est.network_.to(META)
    if hasattr(net, "generator"):  # torch has no meta random generators; sampling draws without one
        net.generator = lambda device="cpu": None
    lookback, horizon = est._lookback_length(), est._horizon_length()
    x, target = torch.randn(3, lookback, 2, device=META), torch.randn(3, horizon, 2, device=META)
    position = torch.zeros(3, dtype=torch.int64, device=META)
    net.train()
    loss, _ = est._loss()(net, (x, target, position))
    loss.backward()
    est.network_ = net.eval()
    with torch.no_grad():
        path = est._forecast_path(x, position, 2 * horizon + 1)
    assert path.device == META and path.shape[0] == 3 and path.shape[1] >= 2 * horizon + 1, path.shape
    return f"loss and backward, forecast path {tuple(path.shape)}"


def check_classifier(cls: type) -> str:
    from tsrec.estimators._classifier import classification_loss

    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(24, 2, 30)).astype(np.float32), np.arange(24) % 2
    est = cls(**tiny_params(cls)).fit(X, labels)
    net = est.network_.to(META).train()
    x = torch.randn(4, 30, 2, device=META)  # the networks take (batch, time, channels)
    loss, _ = classification_loss(net, (x, torch.zeros(4, dtype=torch.int64, device=META)))
    loss.backward()
    with torch.no_grad():
        logits = net.eval()(x)
    assert logits.device == META and tuple(logits.shape) == (4, 2), logits.shape
    return f"loss and backward, logits {tuple(logits.shape)}"


def main() -> int:
    warnings.filterwarnings("ignore")
    read_meta_values_as_harmless()
    from tsrec.registry import all_estimators

    failed = 0
    estimators = all_estimators()
    for name, cls in estimators:
        try:
            done = check_classifier(cls) if name in dict(all_estimators("classifier")) else check_forecaster(cls)
            print(f"ok   {name}: {done}", flush=True)
        except Exception as err:  # report every estimator, not only the first failure
            failed += 1
            frames = traceback.extract_tb(err.__traceback__)
            where = [f"{f.filename.split('/tsrec/')[-1]}:{f.lineno}" for f in frames if "/tsrec/" in f.filename]
            print(f"FAIL {name}: {type(err).__name__}: {str(err).splitlines()[0][:300]} at {where[-3:]}", flush=True)
    print(f"{len(estimators) - failed} of {len(estimators)} estimators keep to the input's device")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
