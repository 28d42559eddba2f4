"""forecast_files: the same forecasts as predict(y=series), from every format and both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.batch import forecast_files, forecast_panel, read_series
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, InputError

from batch_files import IDS, series, write_files  # tests/batch/batch_files.py


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fitted CycleNet, its saved folder, and the same five series as long/wide CSV and Parquet."""
    return write_files(tmp_path_factory.mktemp("batch"))


def test_long_csv_matches_predict_per_series(files, tmp_path):
    model, folder = files["model"], files["dir"]
    out = forecast_files(folder / "model", folder / "long.csv", tmp_path / "f.csv")
    assert list(out.columns) == ["unique_id", "ds", "y_hat"] and out["unique_id"].unique().tolist() == IDS
    for key, frame in files["frames"].items():
        expected = model.predict(fh=list(range(1, 13)), y=frame)
        got = out[out["unique_id"] == key]
        assert (got["ds"].to_numpy() == expected.index.to_numpy()).all()
        # one panel call vs one call per series: equal up to float32 rounding of the batched network
        np.testing.assert_allclose(got["y_hat"].to_numpy(), expected["y"].to_numpy(), rtol=1e-5, atol=1e-6)
    written = pd.read_csv(tmp_path / "f.csv", parse_dates=["ds"], float_precision="round_trip")
    # forecasts are float32; their shortest repr in the CSV reads back to the same float32
    np.testing.assert_array_equal(written["y_hat"].to_numpy(out["y_hat"].dtype), out["y_hat"].to_numpy())


def test_wide_csv_and_parquet_give_identical_forecasts(files, tmp_path):
    folder = files["dir"]
    reference = forecast_files(files["model"], folder / "long.csv", tmp_path / "a.csv")
    wide = forecast_files(folder / "model", folder / "wide.csv", tmp_path / "b.parquet", layout="wide")
    parquet = forecast_files(folder / "model", folder / "long.parquet", tmp_path / "c.parquet")
    pd.testing.assert_frame_equal(wide, reference, check_exact=True)
    pd.testing.assert_frame_equal(parquet, reference, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), reference, check_exact=True)


def test_fh_as_count_past_the_horizon_or_as_steps(files, tmp_path):
    folder = files["dir"]
    long = forecast_files(files["model"], folder / "long.csv", tmp_path / "a.csv", fh=15)
    assert long.groupby("unique_id").size().tolist() == [15] * 5
    some = forecast_files(files["model"], folder / "long.csv", tmp_path / "b.csv", fh=[1, 13])
    first_and_13th = long[long.groupby("unique_id").cumcount().isin([0, 12])]
    np.testing.assert_array_equal(some["y_hat"].to_numpy(), first_and_13th["y_hat"].to_numpy())
    with pytest.raises(InputError, match="fh must be"):
        forecast_files(files["model"], folder / "long.csv", tmp_path / "c.csv", fh=0)


@pytest.mark.parametrize("use_path, scheduler", [(True, "threads"), (False, "synchronous")])
def test_dask_engine_equals_local_engine_exactly(files, tmp_path, use_path, scheduler):
    folder = files["dir"]
    model = folder / "model" if use_path else files["model"]
    local = forecast_files(model, folder / "long.csv", tmp_path / "local.csv", chunk_size=2)
    dask = forecast_files(
        model, folder / "long.csv", tmp_path / "dask.csv", engine="dask", scheduler=scheduler, npartitions=2,
        chunk_size=2,
    )
    pd.testing.assert_frame_equal(dask, local, check_exact=True)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_dask_engine_on_a_distributed_client(files, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = files["dir"]
    local = forecast_files(folder / "model", folder / "long.csv", tmp_path / "local.csv", chunk_size=2)
    options = {"engine": "dask", "chunk_size": 2}
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        by_path = forecast_files(folder / "model", folder / "long.csv", tmp_path / "p.csv", client=client, **options)
        by_object = forecast_files(files["model"], folder / "long.csv", tmp_path / "o.pq", client=client, **options)
    pd.testing.assert_frame_equal(by_path, local, check_exact=True)
    pd.testing.assert_frame_equal(by_object, local, check_exact=True)


def test_forecasts_do_not_depend_on_the_torch_thread_count(files, tmp_path):
    # distributed's worker processes run torch on one thread; MKL rounds differently with more
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (2, 1):
            torch.set_num_threads(threads)
            results.append(forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / f"{threads}.csv"))
    finally:
        torch.set_num_threads(before)
    pd.testing.assert_frame_equal(results[0], results[1], check_exact=True)
    assert torch.get_num_threads() == before


def test_multivariate_long_defaults_to_the_model_columns(tmp_path):
    t = pd.date_range("2024-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"p": np.sin(np.arange(40.0)), "q": np.cos(np.arange(40.0) / 3)}, index=t).rename_axis("ds")
    model = ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, random_state=0).fit(frame)
    long = pd.concat({"m1": frame, "m2": frame * 2}, names=["unique_id", "ds"]).reset_index().assign(other="x")
    long.to_parquet(tmp_path / "in.parquet", index=False)
    out = forecast_files(model, tmp_path / "in.parquet", tmp_path / "o.csv")
    assert list(out.columns) == ["unique_id", "ds", "p_hat", "q_hat"]
    expected = model.predict(fh=[1, 2, 3, 4], y=frame * 2)
    got = out[out.unique_id == "m2"][["p_hat", "q_hat"]].to_numpy()
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-5, atol=1e-6)
    panel = read_series(tmp_path / "in.parquet", columns=["p", "q"])
    pd.testing.assert_frame_equal(forecast_panel(model, panel), out, check_exact=True)
    with pytest.raises(InputError, match="use layout='long'"):
        forecast_files(model, tmp_path / "in.parquet", tmp_path / "o.csv", layout="wide")
    # swapped columns would be forecast with each other's weights and scaling
    with pytest.raises(InputError, match=r"value columns \['q', 'p'\] are not the model's variates \['p', 'q'\]"):
        forecast_files(model, tmp_path / "in.parquet", tmp_path / "o.csv", columns=["q", "p"])


def test_a_series_split_over_csv_and_parquet_is_forecast_once(files, tmp_path):
    reference = forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "ref.csv")
    long = pd.read_csv(files["dir"] / "long.csv", parse_dates=["ds"], float_precision="round_trip")
    long = long.sort_values(["unique_id", "ds"]).assign(unique_id=lambda f: f["unique_id"].str[1:].astype(int))
    long.iloc[::2].to_csv(tmp_path / "in.csv", index=False)
    long.iloc[1::2].to_parquet(tmp_path / "in.parquet", index=False)  # integer ids stay integers here
    out = forecast_files(files["model"], [tmp_path / "in.csv", tmp_path / "in.parquet"], tmp_path / "out.parquet")
    expected = reference.assign(unique_id=reference["unique_id"].str[1:])
    pd.testing.assert_frame_equal(out, expected, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected, check_exact=True)


def test_a_panel_whose_rows_interleave_the_series_is_forecast_as_the_sorted_one():
    # rows in time order (a log of all sensors): each series' rows are gathered, still in time order
    hourly = pd.date_range("2024-01-01", periods=30, freq="h")
    panel = pd.concat([pd.DataFrame({"y": np.sin(np.arange(30.0) / (i + 2))}, index=hourly) for i in range(5)],
                      keys=[f"s{i}" for i in range(5)], names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel.loc["s0"])
    interleaved = panel.sort_index(level="ds", sort_remaining=False)
    assert interleaved.index.get_level_values(0)[:5].tolist() == ["s0", "s1", "s2", "s3", "s4"]
    expected = forecast_panel(est, panel, chunk_size=2)
    pd.testing.assert_frame_equal(forecast_panel(est, interleaved, chunk_size=2), expected, check_exact=True)


@pytest.mark.parametrize("engine", [{}, {"engine": "dask", "scheduler": "threads", "npartitions": 3},
                                    {"engine": "dask", "scheduler": "processes", "npartitions": 2}],
                         ids=["local", "dask-threads", "dask-processes"])
def test_a_warning_each_chunk_would_give_is_given_once(engine):
    # on Dask each task warned once (threads), or only to its own log (processes, a cluster's workers)
    hourly = pd.DataFrame({"y": np.sin(np.arange(40.0))}, index=pd.date_range("2024-01-01", periods=40, freq="h"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(hourly)
    daily = pd.date_range("2024-01-01", periods=10, freq="D")
    panel = pd.concat([pd.DataFrame({"y": np.sin(np.arange(10.0) + i)}, index=daily) for i in range(6)],
                      keys=[f"s{i}" for i in range(6)], names=["unique_id", "ds"])
    with pytest.warns(UserWarning) as caught:
        out = forecast_panel(est, panel, chunk_size=2, **engine)
    steps = [w for w in caught if "has a step of D" in str(w.message)]
    assert len(steps) == 1 and "shown once: the same may hold for other series" in str(steps[0].message)
    assert len(out) == 12


def test_a_constant_series_not_fitted_is_warned_of_once_however_many_chunks_hold_one():
    # the checks before the chunks standardise the contexts too: their warning is the chunks' own
    hours = pd.date_range("2024-01-01", periods=40, freq="h")
    train = pd.concat([pd.DataFrame({"y": np.sin(np.arange(40.0) / s)}, index=hours) for s in (2, 3)],
                      keys=["a", "b"], names=["unique_id", "ds"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(train)
    flat = pd.concat([pd.DataFrame({"y": 1e-9}, index=hours) for _ in range(6)],
                     keys=[f"new{i}" for i in range(6)], names=["unique_id", "ds"])
    with pytest.warns(RuntimeWarning) as caught:
        forecast_panel(est, flat, chunk_size=2)
    [constant] = [str(w.message) for w in caught if "not one the model was fitted on, is constant" in str(w.message)]
    assert constant.startswith("a series of y (series 'new0' and 5 more), not one")
    assert "(shown once: the same may hold" in constant


def _train_panel(n: int = 200) -> pd.DataFrame:
    return pd.concat([series(i, n) for i in range(10, 14)], keys=list("abcd"), names=["unique_id", "ds"])


def test_no_fh_forecasts_the_steps_predict_forecasts(files, tmp_path):
    """Without fh: the steps of the fh given to fit, as ``predict()`` forecasts, not the network's whole horizon."""
    model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=1, random_state=0)
    model.fit(_train_panel(), fh=[2, 5])
    model.save(tmp_path / "m")
    panel = pd.concat(files["frames"], names=["unique_id", "ds"])
    for source in (model, tmp_path / "m"):
        out = forecast_panel(source, panel)
        for key, frame in files["frames"].items():
            expected = model.predict(y=frame)
            got = out[out["unique_id"] == key]
            assert len(got) == 2 and (got["ds"].to_numpy() == expected.index.to_numpy()).all()
            np.testing.assert_allclose(got["y_hat"].to_numpy(), expected["y"].to_numpy(), rtol=1e-5, atol=1e-6)


def test_no_fh_counts_time_stamps_given_to_fit_from_the_cutoff(files):
    from sktime.forecasting.base import ForecastingHorizon

    train = _train_panel()
    end = train.index.get_level_values("ds").max()
    stamps = ForecastingHorizon(pd.DatetimeIndex([end + pd.Timedelta(hours=1), end + pd.Timedelta(hours=3)]),
                                is_relative=False)
    model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=1, random_state=0)
    model.fit(train, fh=stamps)
    out = forecast_panel(model, pd.concat(files["frames"], names=["unique_id", "ds"]))
    for key, frame in files["frames"].items():
        got = out[out["unique_id"] == key]["ds"].to_numpy()
        assert (got == (frame.index[-1] + pd.to_timedelta([1, 3], unit="h")).to_numpy()).all()
    model.update(_train_panel(210), update_params=False)  # the cutoff moves past the first stamp
    with pytest.raises(InputError, match=r"^the model's own fh cannot be forecast from its cutoff .*; pass fh \(steps "
                                         r"after each series' end\)$") as raised:
        forecast_panel(model, pd.concat(files["frames"], names=["unique_id", "ds"]))
    assert "pass predict a new fh" not in str(raised.value)  # predict's advice: no call to predict here


@pytest.mark.parametrize("zone", [None, "UTC"])
def test_arrow_time_stamps_from_a_pyarrow_backed_frame_are_read(files, tmp_path, zone):
    # read_csv(dtype_backend="pyarrow") then to_parquet stores pandas' ArrowDtype: the stamps came back as
    # timestamp[s][pyarrow], which the index checks refused ("unsupported time index type Index")
    long = pd.read_csv(files["dir"] / "long.csv", engine="pyarrow", dtype_backend="pyarrow")
    plain = pd.read_csv(files["dir"] / "long.csv", parse_dates=["ds"])
    if zone:
        long["ds"], plain["ds"] = long["ds"].dt.tz_localize(zone), plain["ds"].dt.tz_localize(zone)
    assert isinstance(long["ds"].dtype, pd.ArrowDtype)
    long.to_parquet(tmp_path / "arrow.parquet", index=False)
    plain.to_parquet(tmp_path / "plain.parquet", index=False)
    model = files["model"]
    if zone:
        train = pd.concat([series(i, 200).tz_localize(zone) for i in range(10, 12)], keys=list("ab"),
                          names=["unique_id", "ds"])
        model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=1, random_state=0).fit(train)
    got = forecast_files(model, tmp_path / "arrow.parquet", tmp_path / "out.csv", fh=2)
    expected = forecast_files(model, tmp_path / "plain.parquet", tmp_path / "expected.csv", fh=2)
    assert len(got) == 2 * len(IDS) and str(got["ds"].dt.tz) == str(zone)
    pd.testing.assert_frame_equal(got.assign(ds=got["ds"].dt.as_unit("ns")),
                                  expected.assign(ds=expected["ds"].dt.as_unit("ns")))
