"""forecast_files and forecast_panel: how the inputs and the model's variates are given (iterators, numbered
variates), and the chunks: how many Dask tasks, which scheduler, every chunk's forecasts, a failing chunk's note."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec.batch.forecast as forecast_module
from tsrec.batch import forecast_files, forecast_panel
from tsrec.estimators import ARNetForecaster, InputError
from tsrec.estimators._forecaster import DeepForecaster


def hourly_panel(n_series: int = 3, n: int = 20) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    frames = {f"s{k}": pd.DataFrame({"y": np.sin(np.arange(n) / (2 + k)) + k}, index=t) for k in range(n_series)}
    return pd.concat(frames, names=["unique_id", "ds"])


@pytest.fixture(scope="module")
def arnet():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(hourly_panel())


def test_inputs_may_be_an_iterator_such_as_path_glob(arnet, tmp_path):
    panel = hourly_panel()
    panel.loc[["s0"]].reset_index().to_csv(tmp_path / "jan.csv", index=False)
    panel.loc[["s1", "s2"]].reset_index().to_csv(tmp_path / "feb.csv", index=False)
    expected = forecast_files(arnet, sorted(tmp_path.glob("*.csv")), tmp_path / "list.parquet")
    got = forecast_files(arnet, tmp_path.glob("*.csv"), tmp_path / "glob.parquet")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["unique_id"].unique().tolist() == ["s0", "s1", "s2"]
    with pytest.raises(InputError, match="no input files were given"):
        forecast_files(arnet, tmp_path.glob("*.none"), tmp_path / "empty.csv")
    assert not (tmp_path / "empty.csv").exists()


@pytest.mark.parametrize("inputs, output, message", [
    (None, "out.csv", r"the input files are None; pass a path to a \.csv or \.parquet file, or a list of them"),
    ([None], "out.csv", r"the input files include None; give each as a path to a \.csv or \.parquet file"),
    ("in.csv", None, r"the output file is None; pass a path ending in \.csv or \.parquet"),
])
def test_none_for_a_path_is_named_not_a_type_error_from_inside(arnet, tmp_path, inputs, output, message):
    # list(None) and Path(None) raised "'NoneType' object is not iterable" and pathlib's TypeError
    hourly_panel().reset_index().to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InputError, match=message):
        forecast_files(arnet, tmp_path / inputs if isinstance(inputs, str) else inputs, output and tmp_path / output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.fixture(scope="module")
def numbered():
    """A two-variate AR-Net fitted on a NumPy array: its variates are numbered 0, 1."""
    data = np.random.default_rng(0).normal(size=(60, 2))
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(data)


def test_a_model_fitted_on_an_array_forecasts_named_columns(numbered, tmp_path):
    assert numbered.columns_ == [0, 1]
    t = pd.date_range("2024-01-01", periods=20, freq="h")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"temp": rng.normal(size=20), "load": rng.normal(size=20)}, index=t).rename_axis("ds")
    frame.reset_index().assign(unique_id="m1").to_csv(tmp_path / "in.csv", index=False)
    out = forecast_files(numbered, tmp_path / "in.csv", tmp_path / "out.csv", columns=["temp", "load"])
    assert list(out.columns) == ["unique_id", "ds", "temp_hat", "load_hat"]
    expected = numbered.predict(fh=[1, 2], y=frame)
    np.testing.assert_allclose(out[["temp_hat", "load_hat"]].to_numpy(), expected.to_numpy(), rtol=1e-6)
    # without columns= there are no names to look for: say so instead of looking for "0" and "1"
    with pytest.raises(InputError, match=r"fitted on an array.*numbered \[0, 1\].*columns= \(CLI: --columns\)"):
        forecast_files(numbered, tmp_path / "in.csv", tmp_path / "none.csv")
    # a wide file: told to read it long, naming the file's columns (it was told columns=[0, 1], the numbers)
    frame.rename_axis("ds").reset_index().to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(InputError, match=r"fitted on an array \(numbered \[0, 1\]\); use layout='long' and name the "
                                         r"file's value columns in the fitted order with columns= \(CLI: --layout "
                                         r"long --columns\)$"):
        forecast_files(numbered, tmp_path / "wide.csv", tmp_path / "none.csv", layout="wide")
    assert not (tmp_path / "none.csv").exists()


def test_numbered_variates_in_another_order_are_refused(numbered, tmp_path):
    t = pd.date_range("2024-01-01", periods=20, freq="h")
    frame = pd.DataFrame({"unique_id": "m1", "ds": t, "1": np.arange(20.0), "0": np.ones(20)})
    frame.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InputError, match=r"\['1', '0'\] are not the model's variates \['0', '1'\] in the same order"):
        forecast_files(numbered, tmp_path / "in.csv", tmp_path / "out.csv", columns=["1", "0"])
    assert len(forecast_files(numbered, tmp_path / "in.csv", tmp_path / "out.csv", columns=["0", "1"])) == 2


def test_a_scheduler_with_a_client_is_refused_before_any_work(tmp_path):
    # the client's cluster runs the tasks: the local scheduler was silently ignored
    message = r"scheduler is only used without a client .*; pass client to run on a cluster, or scheduler"
    with pytest.raises(InputError, match=message):  # before the model, the inputs or the cluster are touched
        forecast_files(object(), tmp_path / "missing.csv", tmp_path / "out.csv", engine="dask", client=object(),
                       scheduler="threads")
    with pytest.raises(InputError, match=message):
        forecast_panel(object(), pd.DataFrame(), engine="dask", client="tcp://127.0.0.1:1", scheduler="threads")
    assert not (tmp_path / "out.csv").exists()


def test_integer_stamps_without_int64_room_for_the_forecasts_are_refused_before_forecasting(tmp_path, monkeypatch):
    largest = int(np.iinfo(np.int64).max)
    model = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))
    rows = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 20), "ds": np.tile(np.arange(20), 2),
                         "y": np.sin(np.arange(40.0))})
    rows.loc[rows["unique_id"] == "b", "ds"] += largest - 20  # b ends at largest - 1: room for one step
    rows.to_csv(tmp_path / "in.csv", index=False)
    assert forecast_files(model, tmp_path / "in.csv", tmp_path / "one.csv", fh=[1])["ds"].max() == largest
    monkeypatch.setattr(ARNetForecaster, "predict", lambda *args, **kwargs: pytest.fail("forecast before the check"))
    with pytest.raises(InputError, match=rf"the input: the forecast's integer time stamps would run to {largest + 1}"):
        forecast_files(model, tmp_path / "in.csv", tmp_path / "two.csv", fh=2)
    assert not (tmp_path / "two.csv").exists()


def test_the_torch_thread_count_is_restored_after_forecasting(arnet):
    # chunks run on one torch thread; the caller's count comes back afterwards
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        forecast_panel(arnet, hourly_panel())
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("npartitions, tasks", [(3, [1, 1, 1]), (2, [2, 1]), (1, [3])])
def test_dask_runs_the_number_of_tasks_asked(arnet, monkeypatch, npartitions, tasks):
    pytest.importorskip("dask")
    import tsrec.batch.forecast as forecast_module

    seen, real = [], forecast_module._forecast_chunks
    monkeypatch.setattr(forecast_module, "_forecast_chunks", lambda chunks, *args: seen.append(len(chunks)) or
                        real(chunks, *args))
    out = forecast_panel(arnet, hourly_panel(), engine="dask", scheduler="synchronous", npartitions=npartitions,
                         chunk_size=1)
    assert sorted(seen) == sorted(tasks)  # the synchronous scheduler runs the tasks in an order of its own
    pd.testing.assert_frame_equal(out, forecast_panel(arnet, hourly_panel()), check_exact=True)
    with pytest.raises(InputError, match="npartitions must be a positive int, got 0"):
        forecast_panel(arnet, hourly_panel(), engine="dask", scheduler="synchronous", npartitions=0)


def test_an_empty_panel_is_refused_in_its_own_words(arnet):
    with pytest.raises(InputError, match="the panel is empty; give at least one series"):
        forecast_panel(arnet, hourly_panel().iloc[:0])


@pytest.mark.parametrize("scaling", ["global", "series"])
def test_a_value_before_the_rows_the_network_reads_does_not_refuse_the_forecast(scaling, tmp_path):
    # a value too large to scale, one row before the lookback: predict(y=...) never reads it, and neither does
    # the panel's scale check
    model = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaling=scaling).fit(hourly_panel())
    panel = hourly_panel()
    panel.loc[("s1", panel.loc["s1"].index[-5]), "y"] = 1e39
    got = forecast_panel(model, panel)
    expected = model.predict(fh=[1, 2], y=panel.loc[["s1"]])
    np.testing.assert_allclose(got[got["unique_id"] == "s1"]["y_hat"], expected["y"], rtol=1e-6)


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
