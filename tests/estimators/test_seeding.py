"""Seeded fits and loads start CUDA only where they may run on it.

Forking CUDA's generators (to leave the caller's alone) starts CUDA, and a process forked after
that (``multiprocessing``'s default on Linux) cannot start it again: on a machine with a GPU, a
fit with ``accelerator="cpu"`` or a load in such a child failed with "Cannot re-initialize CUDA in
forked subprocess" (review of the GPU paths).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec
from tsrec.estimators import ARNetForecaster, PGNClassifier
from tsrec.estimators._seeding import seeded


@pytest.fixture
def cuda_that_cannot_start(monkeypatch):
    """A machine with a GPU whose CUDA has not started and cannot (a forked child's)."""
    def cannot_start(*args, **kwargs):
        raise RuntimeError("Cannot re-initialize CUDA in forked subprocess")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    for name in ("get_rng_state", "set_rng_state", "manual_seed_all", "manual_seed"):
        monkeypatch.setattr(torch.cuda, name, cannot_start)


def test_cpu_fits_and_loads_do_not_start_cuda(cuda_that_cannot_start, tmp_path):
    y = pd.Series(np.sin(np.arange(120.0) / 4), index=pd.date_range("2024-01-01", periods=120, freq="h"))
    forecaster = ARNetForecaster(n_lags=8, horizon=2, max_epochs=1, accelerator="cpu", random_state=0).fit(y)
    forecaster.save(tmp_path / "forecaster")
    loaded = tsrec.load(tmp_path / "forecaster")
    pd.testing.assert_series_equal(loaded.predict(fh=[1, 2]), forecaster.predict(fh=[1, 2]))
    X, labels = np.random.default_rng(0).normal(size=(12, 10)), np.array(["a", "b"] * 6)
    classifier = PGNClassifier(hidden=4, max_epochs=1, accelerator="cpu", random_state=0).fit(X, labels)
    classifier.save(tmp_path / "classifier")
    np.testing.assert_array_equal(tsrec.load(tmp_path / "classifier").predict_proba(X), classifier.predict_proba(X))


def test_a_cpu_block_still_seeds_and_restores_the_cpu_generator():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with seeded(5):
        inside = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's state is left as it was
    with seeded(5):
        assert torch.equal(torch.rand(3), inside)
    with seeded(6):  # the seed reaches the generator: one fixed seed for all passed the lines above
        assert not torch.equal(torch.rand(3), inside)


def test_random_state_draws_the_initial_weights():
    # a learning rate too small to move them leaves the initial weights: another seed, other weights
    y = pd.Series(np.sin(np.arange(80) / 3.0))
    weights = [torch.cat([p.detach().flatten() for p in ARNetForecaster(
        n_lags=4, max_epochs=1, lr=1e-12, random_state=seed).fit(y, fh=[1]).network_.parameters()]) for seed in (7, 8)]
    assert (weights[0] - weights[1]).abs().max() > 1e-3


@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_the_training_shuffle_is_seeded_by_random_state(monkeypatch, kind):
    # the batch order is part of a fit's randomness: a fixed seed there would pass every test that
    # compares two seeds, since the weights' initialisation already differs
    from tsrec.estimators import _batches

    seeds = []
    drawn = _batches.EpochPermutation.__init__

    def spy(self, n, seed):
        seeds.append(seed)
        drawn(self, n, seed)

    monkeypatch.setattr(_batches.EpochPermutation, "__init__", spy)
    for random_state in (7, 8):
        if kind == "forecaster":
            y = pd.Series(np.sin(np.arange(80) / 3.0))
            ARNetForecaster(n_lags=4, max_epochs=1, random_state=random_state).fit(y, fh=[1])
        else:
            X = np.random.default_rng(0).normal(size=(12, 1, 10))
            PGNClassifier(hidden=4, max_epochs=1, random_state=random_state).fit(X, [0, 1] * 6)
    assert seeds == [7, 8]


def test_the_default_random_state_is_one_fixed_seed():
    # random_state=None is seed 0, as documented: two default fits are the same fit
    y = pd.Series(np.sin(np.arange(80) / 3.0))
    first, second = (ARNetForecaster(n_lags=4, max_epochs=1).fit(y, fh=[1, 2]).predict() for _ in range(2))
    pd.testing.assert_series_equal(first, second, check_exact=True)
