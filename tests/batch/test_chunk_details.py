"""Chunks of a batch forecast: how many tasks, which scheduler, every chunk's forecasts, and the note
that names a failing chunk's series (tsrec/batch/_chunks.py, tsrec/batch/forecast.py)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import tsrec.batch.forecast as forecast_module
from tsrec.batch import forecast_panel
from tsrec.estimators import ARNetForecaster, InputError
from tsrec.estimators._forecaster import DeepForecaster


def hourly_panel(n_series: int = 3, n: int = 20) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    frames = {f"s{k}": pd.DataFrame({"y": np.sin(np.arange(n) / (2 + k)) + k}, index=t) for k in range(n_series)}
    return pd.concat(frames, names=["unique_id", "ds"])


@pytest.fixture(scope="module")
def arnet():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(hourly_panel())


@pytest.mark.parametrize("chunk_size, failing, note", [
    (1, "s1", "raised while forecasting the series 's1'"),
    (3, "s1", "raised while forecasting the 3 series 's0' to 's2'"),
])
def test_a_failing_chunk_is_named_by_its_one_series_or_its_first_and_last(arnet, monkeypatch, chunk_size, failing,
                                                                          note):
    """A Dask worker's traceback does not say which series failed: the note must name a lone series as itself,
    and a chunk of three or more by its first and last (not its second) series."""
    original = DeepForecaster.predict

    def fail(self, *args, y, **kwargs):
        if failing in y.index.get_level_values(0):
            raise RuntimeError("worker lost")
        return original(self, *args, y=y, **kwargs)

    monkeypatch.setattr(DeepForecaster, "predict", fail)
    with pytest.raises(RuntimeError, match="worker lost") as info:
        forecast_panel(arnet, hourly_panel(4), chunk_size=chunk_size)
    assert info.value.__notes__ == [note]


def test_a_panel_of_exactly_two_chunks_forecasts_both(arnet):
    """Two chunks are concatenated like any other number: every series gets its forecasts."""
    panel = hourly_panel(4)
    two = forecast_panel(arnet, panel, fh=3, chunk_size=2)
    assert two["unique_id"].tolist() == [f"s{k}" for k in range(4) for _ in range(3)]
    pd.testing.assert_frame_equal(two, forecast_panel(arnet, panel, fh=3), check_exact=True)


@pytest.mark.parametrize("bad", [lambda p: p["y"], lambda p: p.loc["s0"]], ids=["series", "one-level frame"])
def test_a_panel_that_is_no_two_level_frame_is_refused_in_its_own_words(arnet, bad):
    """A Series or a single series' frame gets the fix (read_series), not an AttributeError from inside."""
    with pytest.raises(InputError, match=r"panel must be a DataFrame with a \(series id, time\) MultiIndex"):
        forecast_panel(arnet, bad(hourly_panel()))


def test_dask_never_runs_more_tasks_than_chunks(arnet, monkeypatch):
    """npartitions is documented as never more than the number of chunks: empty tasks would each still load
    the model on a worker."""
    pytest.importorskip("dask")
    seen, real = [], forecast_module._forecast_chunks
    monkeypatch.setattr(forecast_module, "_forecast_chunks", lambda chunks, *args: seen.append(len(chunks)) or
                        real(chunks, *args))
    forecast_panel(arnet, hourly_panel(), engine="dask", scheduler="synchronous", npartitions=5, chunk_size=1)
    assert sorted(seen) == [1, 1, 1]


def test_the_local_dask_scheduler_asked_is_the_one_that_runs_the_tasks(arnet, monkeypatch):
    """scheduler= is documented as Dask's local scheduler: "synchronous" (for debugging) must run every task in
    the calling thread, not on Dask's default thread pool."""
    pytest.importorskip("dask")
    seen, real = [], forecast_module._forecast_chunks
    monkeypatch.setattr(forecast_module, "_forecast_chunks", lambda chunks, *args: seen.append(threading.get_ident())
                        or real(chunks, *args))
    forecast_panel(arnet, hourly_panel(), engine="dask", scheduler="synchronous", npartitions=3, chunk_size=1)
    assert seen and set(seen) == {threading.get_ident()}
