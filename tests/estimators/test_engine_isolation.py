"""A fit leaves the process as it found it, and fits in threads give the results of sequential fits."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec
from tsrec.estimators import ARNetForecaster, PGNClassifier, PGNForecaster, SMambaClassifier


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


def test_a_fit_runs_with_deterministic_algorithms_and_then_restores_the_callers_setting():
    # same random_state, same result rests on it on a GPU (cuDNN, cuBLAS), where CPU fits cannot tell
    import lightning

    seen = []

    class Spy(lightning.Callback):
        def on_train_batch_start(self, *args) -> None:
            seen.append((torch.are_deterministic_algorithms_enabled(), os.environ.get("CUBLAS_WORKSPACE_CONFIG")))

    before = torch.are_deterministic_algorithms_enabled()
    X, y = _data()
    PGNClassifier(hidden=4, max_epochs=1, batch_size=20, trainer_kwargs={"callbacks": [Spy()]}).fit(X, y)
    assert seen and set(seen) == {(True, ":4096:8")}
    assert torch.are_deterministic_algorithms_enabled() == before


SERIES = np.sin(np.arange(120) / 4.0) + 2


def _fitted_models() -> list:
    X, y = _data()
    return [
        PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, y),
        SMambaClassifier(d_model=8, d_ff=8, e_layers=1, max_epochs=1, random_state=0).fit(X, y),
        ARNetForecaster(n_lags=6, horizon=2, max_epochs=1, random_state=0).fit(SERIES, fh=[1, 2]),
        PGNForecaster(lookback=8, horizon=4, period=4, max_epochs=1, random_state=0).fit(SERIES, fh=[1, 2]),
    ]


def _outputs(models: list) -> list:
    X, _ = _data()
    return [m.predict_proba(X) if hasattr(m, "classes_") else np.asarray(m.predict()) for m in models]


def test_a_float64_torch_default_changes_neither_the_weights_nor_the_results():
    # the precision parameter says what networks compute in; float64 weights met float32 batches
    expected = _outputs(_fitted_models())
    torch.set_default_dtype(torch.float64)
    try:
        models = _fitted_models()
        got = _outputs(models)
        default_after = torch.get_default_dtype()
    finally:
        torch.set_default_dtype(torch.float32)
    assert default_after == torch.float64  # the caller's default is back after each fit and predict
    assert all(p.dtype == torch.float32 for m in models for p in m.network_.parameters())
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)


def test_a_callers_autocast_changes_neither_the_weights_nor_the_results():
    # precision says what networks compute in; inside a bfloat16 autocast block an AR-Net's forecasts moved
    # by 1.1 when it was fitted there, by 1e-3 when it predicted there
    models = _fitted_models()
    expected = _outputs(models)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert all(np.array_equal(g, e) for g, e in zip(_outputs(models), expected))
        refitted = _fitted_models()
    for got, e in zip(_outputs(refitted), expected):
        np.testing.assert_array_equal(got, e)


def test_a_callers_autocast_changes_no_sample_path():
    # LS4's intervals and paths were sampled under the caller's bfloat16 autocast (0.002-0.004 off)
    from tsrec.estimators import LS4Forecaster

    est = LS4Forecaster(lookback=8, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, max_epochs=1,
                        n_samples=10, random_state=0).fit(SERIES, fh=[1, 2])
    expected = est.predict_interval(coverage=0.5), est.sample_paths(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = est.predict_interval(coverage=0.5), est.sample_paths(3)
    pd.testing.assert_frame_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("which", [0, 2], ids=["classifier", "forecaster"])
def test_loading_a_model_draws_none_of_the_callers_random_numbers(tmp_path, which):
    model = _fitted_models()[which]
    model.save(tmp_path / "model")
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    tsrec.load(tmp_path / "model")
    assert torch.equal(torch.rand(3), expected)


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
