"""A fit leaves the process as it found it, and fits in threads give the results of sequential fits."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from tsrec.estimators import PGNClassifier


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 24))
    y = np.where(X[:, 0, :12].mean(axis=1) > 0, "a", "b")
    return X, y


def _fit_proba(seed: int) -> np.ndarray:
    X, y = _data()
    clf = PGNClassifier(hidden=8, dropout=0.5, max_epochs=3, batch_size=4, random_state=seed).fit(X, y)
    return clf.predict_proba(X)


def test_fits_in_threads_match_sequential_fits():
    sequential = [_fit_proba(seed) for seed in (0, 1, 0, 1)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(_fit_proba, (0, 1, 0, 1)))
    for got, expected in zip(threaded, sequential):
        np.testing.assert_array_equal(got, expected)


def test_fit_restores_the_callers_torch_settings():
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.benchmark, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = True
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        X, y = _data()
        PGNClassifier(hidden=4, max_epochs=1).fit(X, y)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.benchmark
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[2]
        if before[3] is not None:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = before[3]


def test_a_child_forked_during_a_fit_can_fit():
    from tsrec.estimators import _seeding

    holding, release = threading.Event(), threading.Event()

    def fit_in_thread():
        with _seeding.seeded(0):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=fit_in_thread)
    thread.start()
    holding.wait(30)
    pid = os.fork()
    if pid == 0:  # the child: its copy of the lock must be free
        os._exit(0 if _seeding._FIT_LOCK.acquire(timeout=5) else 1)
    release.set()
    thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
