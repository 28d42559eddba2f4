"""Batch quantiles' shared walk of LS4's sample paths (``_sharing_walks``): a chunk's point forecast keeps
its paths' noisy draws for the quantile forecast after it. These pin what the single-pass, single-thread
test in tests/batch/test_quantiles.py leaves open: chunks of several passes, other threads, a failing
chunk, and which draws a quantile forecast may take (a mutation round found each open)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_panel
from tsrec.estimators import LS4Forecaster


def _panel(n_series: int = 3) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=60, freq="h")
    frames = {f"s{k}": pd.DataFrame({"load": np.sin(np.arange(60.0) / (3 + k)) + k,
                                     "temp": np.cos(np.arange(60.0) / (4 + k)) - k}, index=t)
              for k in range(n_series)}
    return pd.concat(frames, names=["unique_id", "ds"])


def _fit(random_state: int = 0) -> LS4Forecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LS4Forecaster(lookback=12, horizon=4, max_epochs=1, d_model=8, n_layers=1, n_samples=40,
                             random_state=random_state).fit(_panel())


@pytest.fixture(scope="module")
def est():
    return _fit()


@pytest.fixture
def walks(est, monkeypatch):
    """The series of each walk of the paths (one entry per pass)."""
    seen, walk = [], type(est.network_)._walk
    monkeypatch.setattr(type(est.network_), "_walk", lambda *args: seen.append(args[1].shape[0]) or walk(*args))
    return seen


def _assert_batch_equals_predict(est, out, panel, steps, levels):
    point, quantiles = est.predict(fh=steps, y=panel), est.predict_quantiles(fh=steps, y=panel, alpha=levels)
    for variate in ("load", "temp"):
        np.testing.assert_array_equal(out[f"{variate}_hat"], point[variate])
        for level in levels:
            np.testing.assert_array_equal(out[f"{variate}_q{level}"], quantiles[(variate, level)])


@pytest.mark.parametrize("fh", [3, [2, 5]])
def test_a_chunk_of_several_passes_shares_each_pass_with_its_own_draws(est, walks, monkeypatch, fh):
    # 2048 // 700 = 2 series a pass: 5 series go through in passes of 2, 2 and 1, each kept and read once,
    # and each pass's quantiles come from that pass's draws (the single-pass test cannot tell them apart)
    monkeypatch.setattr(est, "n_samples", 700)
    panel = _panel(5)
    out = forecast_panel(est, panel, fh=fh, quantiles=[0.1, 0.9], chunk_size=5)
    assert walks == [2, 2, 1]
    _assert_batch_equals_predict(est, out, panel, [1, 2, 3] if fh == 3 else fh, [0.1, 0.9])


def test_another_thread_leaving_its_block_does_not_end_this_ones(est, walks):
    # Dask's threads share one model: each thread's kept draws are its own
    panel, steps = _panel(), [1, 2, 3]
    entered, left = threading.Event(), threading.Event()

    def other():
        entered.wait()
        with est._sharing_walks(steps):
            pass
        left.set()

    thread = threading.Thread(target=other)
    thread.start()
    with est._sharing_walks(steps):
        entered.set()
        left.wait()
        point = est.predict(fh=steps, y=panel)
        quantiles = est.predict_quantiles(fh=steps, y=panel, alpha=[0.5])
    thread.join()
    assert len(walks) == 1
    pd.testing.assert_frame_equal(point, est.predict(fh=steps, y=panel))
    pd.testing.assert_frame_equal(quantiles, est.predict_quantiles(fh=steps, y=panel, alpha=[0.5]))


def test_a_failing_chunk_leaves_nothing_shared_after_it(est, walks, monkeypatch):
    # the block ends however the chunk does: a later predict keeps no draws and its quantiles walk again
    import tsrec.batch._chunks as chunks

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(chunks, "with_quantiles", fail)
    panel, steps = _panel(), [1, 2]
    with pytest.raises(RuntimeError, match="boom"):
        forecast_panel(est, panel, fh=2, quantiles=[0.5])
    walks.clear()
    est.predict(fh=steps, y=panel)
    est.predict_quantiles(fh=steps, y=panel, alpha=[0.5])
    assert len(walks) == 2


def test_forecasts_at_other_steps_than_the_blocks_walk_their_own_paths(est):
    # the kept draws are those of the block's steps: quantiles at [2, 3] must not read the draws at [1, 2, 3],
    # and a point forecast of fewer steps than the block's keeps none (it has no draws at step 3)
    panel = _panel()
    alone, point = est.predict_quantiles(fh=[2, 3], y=panel, alpha=[0.5]), est.predict(fh=[1, 2], y=panel)
    with est._sharing_walks([1, 2, 3]):
        est.predict(fh=[1, 2, 3], y=panel)
        pd.testing.assert_frame_equal(est.predict_quantiles(fh=[2, 3], y=panel, alpha=[0.5]), alone)
    with est._sharing_walks([1, 2, 3]):
        pd.testing.assert_frame_equal(est.predict(fh=[1, 2], y=panel), point)


def test_the_blocks_steps_may_come_in_any_order_and_repeat(est, walks):
    # they are the relative steps of fh, as a list of them names them: sorted and made unique first
    panel = _panel()
    with est._sharing_walks([3, 1, 2, 2]):
        point = est.predict(fh=[1, 2, 3], y=panel)
        quantiles = est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5])
    assert len(walks) == 1
    pd.testing.assert_frame_equal(point, est.predict(fh=[1, 2, 3], y=panel))
    pd.testing.assert_frame_equal(quantiles, est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5]))


def test_quantiles_read_the_draws_of_their_own_contexts(est):
    # a pass's draws are found by its contexts: another panel's, kept before (or alone), are not theirs
    panel, other = _panel(), _panel(4).loc[["s3"]]  # s3 alone, unlike any series of panel
    expected = est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5])
    with est._sharing_walks([1, 2, 3]):
        est.predict(fh=[1, 2, 3], y=other)
        pd.testing.assert_frame_equal(est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5]), expected)
    with est._sharing_walks([1, 2, 3]):
        est.predict(fh=[1, 2, 3], y=_panel(4).loc[["s1", "s2", "s3"]])  # s1..s3: three series, as panel's pass
        est.predict(fh=[1, 2, 3], y=panel)
        pd.testing.assert_frame_equal(est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5]), expected)


def test_another_models_quantiles_walk_their_own_paths(est):
    # the kept draws are one model's: another LS4 forecasting the same contexts has other paths
    panel, second = _panel(), _fit(random_state=1)
    expected = second.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5])
    with est._sharing_walks([1, 2, 3]):
        est.predict(fh=[1, 2, 3], y=panel)
        pd.testing.assert_frame_equal(second.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5]), expected)
    expected = est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5])
    with est._sharing_walks([1, 2, 3]):  # the other model's point forecast inside this one's block keeps nothing
        second.predict(fh=[1, 2, 3], y=panel)
        est.predict(fh=[1, 2, 3], y=panel)
        pd.testing.assert_frame_equal(est.predict_quantiles(fh=[1, 2, 3], y=panel, alpha=[0.5]), expected)


def test_a_point_only_batch_keeps_no_draws(est, monkeypatch):
    # without quantiles nothing would read them: the point forecast walks for its mean alone
    def keeps(*args, **kwargs):
        raise AssertionError("sample_with_mean kept draws that no quantile forecast reads")

    monkeypatch.setattr(type(est.network_), "sample_with_mean", keeps)
    panel = _panel()
    out, point = forecast_panel(est, panel, fh=2), est.predict(fh=[1, 2], y=panel)
    for variate in ("load", "temp"):
        np.testing.assert_array_equal(out[f"{variate}_hat"], point[variate])
