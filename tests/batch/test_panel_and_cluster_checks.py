"""forecast_panel's own checks of an in-memory panel, and the Dask engine's of its client and workers:
each named in the caller's terms before any chunk runs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files, forecast_panel
from tsrec.batch import _models as models_module
from tsrec.batch import forecast as forecast_module
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, InputError, LoadError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def fitted():
    t = pd.date_range("2024-01-01", periods=60, freq="h")
    panel = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(60.0) / s) + s}, index=t)
                       for k, s in [(1, 3), (2, 5), (3, 7)]}, names=["unique_id", "ds"])
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel), panel


def _nan(panel):
    panel = panel.copy()
    panel.iloc[58, 0] = np.nan
    return panel


@pytest.mark.parametrize("damage, message", [
    (_nan, r"1 row\(s\) with missing \(NaN\) or infinite values, e\.g\. series 1 at 2024-01-03 10:00:00; fill or drop"),
    (lambda p: pd.concat([p, p.iloc[[5]]]), r"series 1 has time stamp 2024-01-01 05:00:00 more than once"),
    (lambda p: p.iloc[::-1], r"series \d is not in time order .*panel\.sort_index\(\)"),
    (lambda p: p.swaplevel().sort_index(), r"levels are \(time, series id\).*panel\.swaplevel\(\)\.sort_index\(\)"),
    (lambda p: p.astype(str), r"value column\(s\) \['y'\] hold no numbers"),
    (lambda p: p.assign(**{"1": p["y"]}).set_axis([1, "1"], axis=1),
     r"value columns \[1, '1'\] would name forecast columns \['1_hat'\] more than once"),
])
def test_a_damaged_panel_is_named_as_the_panel_with_its_fix(fitted, damage, message):
    # these were blamed on a scale beyond float32's, an uneven step, or named y and y's fixes
    est, panel = fitted
    with pytest.raises(InputError, match=message):
        forecast_panel(est, damage(panel))


class _BlindClient:
    """A client whose one worker cannot see the model folder (its file system is another)."""

    status = "running"

    def run(self, function, *args):
        return {"tcp://10.0.0.9:40000": False}

    def nthreads(self):
        return {"tcp://10.0.0.9:40000": 1}

    def scatter(self, *args, **kwargs):
        raise AssertionError("nothing may be sent before the workers' view of the folder is checked")

    map = gather = scatter


def test_a_model_folder_the_workers_cannot_read_is_named_with_the_workers(fitted, tmp_path):
    est, panel = fitted
    est.save(tmp_path / "model")
    with pytest.raises(LoadError, match=r"readable here but not on Dask worker\(s\) tcp://10\.0\.0\.9:40000; put it"):
        forecast_panel(tmp_path / "model", panel, engine="dask", client=_BlindClient())


def test_clients_that_are_none_are_refused_before_any_file_is_read(fitted, tmp_path):
    est, _ = fitted
    missing = tmp_path / "never-read.csv"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        with pytest.raises(InputError, match=r"client is a LocalCluster, a cluster.*Client\(cluster\)"):
            forecast_files(est, missing, tmp_path / "o.csv", engine="dask", client=cl)
        with distributed.Client(cl) as client:
            pass
    with pytest.raises(InputError, match="client is closed"):
        forecast_files(est, missing, tmp_path / "o.csv", engine="dask", client=client)
    with pytest.raises(InputError, match=r"client must be a distributed\.Client or a scheduler address.*got int 8786"):
        forecast_files(est, missing, tmp_path / "o.csv", engine="dask", client=8786)
    with pytest.raises(InputError, match="scheduler='distributed' runs on the active distributed.Client, and there"):
        forecast_files(est, missing, tmp_path / "o.csv", engine="dask", scheduler="distributed")
    assert list(tmp_path.iterdir()) == []


def test_a_warning_of_the_workers_load_goes_back_to_the_caller(tmp_path):
    y = pd.DataFrame({"y": np.sin(np.arange(80.0) / 4)}, index=pd.date_range("2024-01-01", periods=80, freq="h"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, d_model=16, backbone="linear",
                           max_epochs=1).fit(y).save(tmp_path / "model")
    models_module._CACHE.clear()  # as a fresh worker: the folder is loaded in the task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, collected = forecast_module._forecast_chunks([y.iloc[-8:]], str(tmp_path / "model"), [1, 2])
    assert caught == []  # a worker shows nothing itself: its stderr is a log no one reads
    assert any("d_model=16 has no effect" in message for _, message in collected)


def test_csv_ids_pandas_wrote_from_a_float_column_are_the_fitted_integer_series(fitted, tmp_path):
    est, panel = fitted
    frame = panel.groupby(level=0).tail(8).reset_index()  # a new series' own rows would give other scales
    frame["unique_id"] = frame["unique_id"].astype(float)  # a merge or a gap made the column float: "1.0" in CSV
    frame.to_csv(tmp_path / "in.csv", index=False)
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    from_csv = forecast_files(est, tmp_path / "in.csv", tmp_path / "a.csv", fh=2)
    from_parquet = forecast_files(est, tmp_path / "in.parquet", tmp_path / "b.csv", fh=2)
    assert from_csv["unique_id"].tolist()[:2] == ["1.0", "1.0"]  # the file's own spelling
    # the fitted series' scaler, as the Parquet file's 1.0 was given: one set of forecasts
    np.testing.assert_array_equal(from_csv["y_hat"].to_numpy(), from_parquet["y_hat"].to_numpy())
    np.testing.assert_allclose(from_csv["y_hat"].to_numpy(), est.predict(fh=[1, 2])["y"].to_numpy(), rtol=1e-5)
