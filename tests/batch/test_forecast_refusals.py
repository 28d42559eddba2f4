"""forecast_files: what it refuses, named before any chunk runs, with the output file left as it was."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from sktime.exceptions import NotFittedError

from tsrec.batch import forecast_files
from tsrec.estimators import CycleNetForecaster, InputError, LoadError
from tsrec.estimators._forecaster import DeepForecaster

from batch_files import IDS, series, write_files  # tests/batch/batch_files.py


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fitted CycleNet, its saved folder, and the same five series as long/wide CSV and Parquet."""
    return write_files(tmp_path_factory.mktemp("batch"))


def existing_output(tmp_path):
    """An output folder that already holds the output file and another file."""
    (tmp_path / "out.csv").write_text("previous run\n")
    (tmp_path / "notes.txt").write_text("keep me\n")
    return tmp_path / "out.csv"


def assert_untouched(tmp_path):
    assert (tmp_path / "out.csv").read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("in")) == ["notes.txt", "out.csv"]


def test_short_series_are_named_and_nothing_is_written(files, tmp_path):
    out = existing_output(tmp_path)
    long = pd.concat({"ok": series(0), "tiny": series(1, 10), "small": series(2, 23)}, names=["unique_id", "ds"])
    long.reset_index().to_csv(tmp_path / "in.csv", index=False)
    expected = r"2 series are shorter than the model's lookback of 24 rows: 'small' \(23 rows\), 'tiny' \(10 rows\)"
    with pytest.raises(InputError, match=expected) as caught:
        forecast_files(files["dir"] / "model", tmp_path / "in.csv", out)
    assert str(caught.value).startswith(f"{tmp_path / 'in.csv'}: ")  # found in the panel, after reading: the file
    assert_untouched(tmp_path)
    long.drop(index="small").reset_index().to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InputError, match=r": 1 series is shorter than the model's lookback of 24 rows: 'tiny'"):
        forecast_files(files["dir"] / "model", tmp_path / "in.csv", out)
    many = [tmp_path / f"in{i}.csv" for i in range(4)]
    for i, path in enumerate(many):
        long.drop(index="small").reset_index().assign(unique_id=lambda f, i=i: f["unique_id"] + str(i)).to_csv(
            path, index=False)
    with pytest.raises(InputError, match=r"^the 4 input files: 4 series are shorter"):
        forecast_files(files["dir"] / "model", many, out)


def test_values_beyond_the_model_scale_are_named_by_series_before_any_chunk(files, tmp_path, monkeypatch):
    # one global scaler: with per-series scaling a series not fitted is standardised by its own rows,
    # which take in any finite value
    train = pd.concat([series(i, 200) for i in range(10, 14)], keys=list("abcd"), names=["unique_id", "ds"])
    model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=1, scaling="global").fit(train)
    out = existing_output(tmp_path)
    long = pd.concat({k: series(i) for i, k in enumerate(IDS)}, names=["unique_id", "ds"]).reset_index()
    long.loc[long.unique_id.isin(["s1", "s3"]) & (long.index % 120 == 119), "y"] = 1e39
    long.to_csv(tmp_path / "in_big.csv", index=False)
    monkeypatch.setattr(DeepForecaster, "predict", lambda *a, **k: pytest.fail("a chunk was forecast"))
    with pytest.raises(InputError, match=r"the input's values \(series 's1', 's3'\) lie too far"):
        forecast_files(model, tmp_path / "in_big.csv", out)
    assert_untouched(tmp_path)


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_bad_values_or_a_failing_chunk_leave_the_output_alone(files, tmp_path, monkeypatch, engine):
    out = existing_output(tmp_path)
    long = pd.read_csv(files["dir"] / "long.csv")
    long.loc[7, "y"] = np.nan
    long.to_csv(tmp_path / "in_nan.csv", index=False)
    with pytest.raises(InputError, match="NaN"):
        forecast_files(files["model"], tmp_path / "in_nan.csv", out, engine=engine)
    assert_untouched(tmp_path)

    original = DeepForecaster.predict

    def fail_on_second_chunk(self, *args, y, **kwargs):
        if "s2" in y.index.get_level_values(0):  # by series: Dask may run the chunks in any order
            raise RuntimeError("worker lost")
        return original(self, *args, y=y, **kwargs)

    monkeypatch.setattr(DeepForecaster, "predict", fail_on_second_chunk)
    with pytest.raises(RuntimeError, match="worker lost") as info:
        forecast_files(files["model"], files["dir"] / "long.csv", out, engine=engine, chunk_size=2,
                       scheduler="synchronous" if engine == "dask" else None)
    # a failure that is not tsrec's own says which chunk's series it came from
    assert info.value.__notes__ == ["raised while forecasting the 2 series 's2' to 's3'"]
    assert_untouched(tmp_path)


def test_model_and_option_errors(files, tmp_path):
    folder = files["dir"]
    with pytest.raises(LoadError, match="not a saved tsrec estimator"):
        forecast_files(tmp_path, folder / "long.csv", tmp_path / "o.csv")
    with pytest.raises(InputError, match="not fitted") as info:
        forecast_files(CycleNetForecaster(), folder / "long.csv", tmp_path / "o.csv")
    assert isinstance(info.value, NotFittedError)  # as the forecaster's own predict raises
    with pytest.raises(TypeError, match="not a tsrec forecaster"):
        forecast_files(object(), folder / "long.csv", tmp_path / "o.csv")
    with pytest.raises(InputError, match="unknown file extension"):  # checked before the input is read
        forecast_files(files["model"], tmp_path / "missing.csv", tmp_path / "o.json")
    with pytest.raises(InputError, match="engine must be one of"):
        forecast_files(files["model"], folder / "long.csv", tmp_path / "o.csv", engine="spark")
    with pytest.raises(InputError, match="client is only used by engine='dask'"):
        forecast_files(files["model"], folder / "long.csv", tmp_path / "o.csv", client=object())
    with pytest.raises(InputError, match="npartitions and scheduler are only used by engine='dask'; pass engine"):
        forecast_files(files["model"], folder / "long.csv", tmp_path / "o.csv", npartitions=2, scheduler="threads")
    # refused before any file is read (Dask refused it only in compute, without naming the argument)
    with pytest.raises(InputError, match="scheduler must be 'threads', 'processes' or 'synchronous' .*got 'bogus'"):
        forecast_files(files["model"], tmp_path / "missing.csv", tmp_path / "o.csv", engine="dask", scheduler="bogus")
    pd.read_csv(folder / "long.csv").assign(y2=1.0).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InputError, match=r"2 value column\(s\) \['y', 'y2'\] but the model forecasts 1 variate"):
        forecast_files(files["model"], tmp_path / "in.csv", tmp_path / "o.csv", columns=["y", "y2"])
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_missing_dask_says_what_to_install(files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # makes `import dask` raise ImportError
    with pytest.raises(ImportError, match=r"pip install dask distributed \(or, in the tsrec checkout, pip install -e "
                                          r"'\.\[dask\]'\)"):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "o.csv", engine="dask")


@pytest.mark.parametrize("fh", [True, 3.0, np.float64(2.0), "3", [1.0, 2.0], [True], [], object()])
def test_bad_fh_is_an_input_error(files, tmp_path, fh):
    with pytest.raises(InputError, match="fh must be"):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "o.csv", fh=fh)
    assert not list(tmp_path.iterdir())


def test_sktimes_forecasting_horizon_of_steps_is_taken_and_one_of_stamps_refused(files, tmp_path):
    # both were refused as "fh must be a positive int or a list of steps", a ForecastingHorizon being neither
    from sktime.forecasting.base import ForecastingHorizon

    listed = forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "a.csv", fh=[1, 3])
    given = forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "b.csv", fh=ForecastingHorizon([1, 3]))
    pd.testing.assert_frame_equal(given, listed)
    stamps = ForecastingHorizon(pd.date_range("2030-01-01", periods=2, freq="h"), is_relative=False)
    with pytest.raises(InputError, match=r"fh names time stamps \(\[Timestamp\('2030-01-01 00:00:00'\), .*but "
                                         r"each series is forecast from its own end; pass steps after it, "
                                         r"e.g. fh=\[1, 2, 3\]"):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "c.csv", fh=stamps)


@pytest.mark.parametrize("fh", [0, -2, [0, 1], np.array([-1, 2])])
def test_steps_at_or_before_the_end_are_in_sample_as_for_predict(files, tmp_path, fh):
    # they were plain InputErrors, worded unlike predict's; the forecaster's own predict raises InSampleError
    from tsrec.estimators.errors import InSampleError

    with pytest.raises(InSampleError, match="fh must be >= 1|fh must name future steps 1, 2, ..."):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "o.csv", fh=fh)


def test_a_series_at_another_step_is_refused_before_any_chunk(files, tmp_path, monkeypatch):
    # CycleNet reads the stamps (its cycle's phase): an hourly model refuses a daily series; found
    # chunk by chunk, that once stopped a run after every other chunk had been forecast
    daily = series(9).set_axis(pd.date_range("2024-01-01", periods=120, freq="D", name="ds"))
    long = pd.concat({**{k: series(i) for i, k in enumerate(IDS)}, "zz_daily": daily}, names=["unique_id", "ds"])
    long.reset_index().to_csv(tmp_path / "in_daily.csv", index=False)
    out = existing_output(tmp_path)
    monkeypatch.setattr(DeepForecaster, "predict", lambda *a, **k: pytest.fail("a chunk was forecast"))
    with pytest.raises(InputError, match=r"in_daily\.csv: the input: series 'zz_daily' of y has a step of D but "
                                         r"the fitted data a step of h; the model reads the time stamps"):
        forecast_files(files["model"], tmp_path / "in_daily.csv", out, chunk_size=2)
    assert_untouched(tmp_path)


def test_integer_steps_for_a_model_fitted_on_date_times_are_named_by_the_time_column(files, tmp_path, monkeypatch):
    # predict's message (of y, a NumPy array and pd.date_range) gave a file user nothing to act on
    long = pd.concat({k: series(i).reset_index(drop=True) for i, k in enumerate(IDS)}, names=["unique_id", "ds"])
    long.reset_index().to_csv(tmp_path / "in_int.csv", index=False)
    out = existing_output(tmp_path)
    monkeypatch.setattr(DeepForecaster, "predict", lambda *a, **k: pytest.fail("a chunk was forecast"))
    with pytest.raises(InputError, match=r"in_int\.csv: the input's time column 'ds' holds integer steps, but the "
                                         r"model was fitted on date-time stamps \(step 'h'\) and reads them \(the "
                                         r"phase of its cycle\); write the series' date-times in the time column 'ds'"):
        forecast_files(files["model"], tmp_path / "in_int.csv", out, chunk_size=2)
    assert_untouched(tmp_path)


def test_date_times_for_a_model_fitted_on_integer_steps_are_named_by_the_time_column(files, tmp_path):
    train = pd.concat({k: series(i, 200).reset_index(drop=True) for i, k in enumerate("ab")}, names=["unique_id", "t"])
    model = CycleNetForecaster(lookback=24, horizon=12, cycle_length=24, max_epochs=1, random_state=0).fit(train)
    long = pd.concat({k: series(i) for i, k in enumerate("ab")}, names=["unique_id", "ds"])
    long.reset_index().to_csv(tmp_path / "in_dates.csv", index=False)
    with pytest.raises(InputError, match=r"in_dates\.csv: the input's time column 'ds' holds date-time stamps, but "
                                         r"the model was fitted on integer steps and reads the phase of its cycle from "
                                         r"them"):
        forecast_files(model, tmp_path / "in_dates.csv", tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()


def test_forecasts_larger_than_the_machines_memory_are_refused_before_any_chunk(files, tmp_path, monkeypatch):
    from tsrec.estimators import _horizon

    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**30)  # a 1 GiB machine
    monkeypatch.setattr(DeepForecaster, "predict", lambda *a, **k: pytest.fail("a chunk was forecast"))
    # 5 series x 2**20 steps x (8 + 16) bytes = 120 MiB of output fit; a chunk's roll-out of them does not
    with pytest.raises(InputError, match=r"fh reaches step 1,048,576: 5 series of a chunk would give 5,242,880 rows, "
                                         r"at least 1\.45 GiB, more than the 1 GiB of memory this process may use"):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "o.csv", fh=2**20)
    with pytest.raises(InputError, match=r"fh reaches step 68,719,476,736: 1 series alone would give"):
        forecast_files(files["model"], files["dir"] / "long.csv", tmp_path / "o.csv", fh=2**36)  # before reading
    assert not list(tmp_path.iterdir())


def test_an_input_file_is_never_the_output(files, tmp_path, monkeypatch):
    long = pd.read_csv(files["dir"] / "long.csv")
    long[long["unique_id"] < "s3"].to_csv(tmp_path / "in.csv", index=False)
    long[long["unique_id"] >= "s3"].to_csv(tmp_path / "other.csv", index=False)
    os.link(tmp_path / "in.csv", tmp_path / "hard.csv")
    before = (tmp_path / "in.csv").read_bytes()
    monkeypatch.chdir(tmp_path)
    for output in ("in.csv", tmp_path / "sub" / ".." / "in.csv", tmp_path / "hard.csv"):
        message = r"(in|hard)\.csv is also an input file \(.*in\.csv\).*give another output"
        with pytest.raises(InputError, match=message):
            forecast_files(files["model"], [tmp_path / "other.csv", tmp_path / "in.csv"], output)
    assert (tmp_path / "in.csv").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["hard.csv", "in.csv", "other.csv"]


@pytest.mark.parametrize("role", ["id", "time"])
def test_an_id_or_time_column_named_like_the_output_is_refused_before_forecasting(files, tmp_path, role):
    # it failed with pandas' "cannot insert y_hat, already exists" once every series was forecast
    long = pd.read_csv(files["dir"] / "long.csv")
    long = long.rename(columns={"unique_id" if role == "id" else "ds": "y_hat"})
    long.to_csv(tmp_path / "in.csv", index=False)
    names = {"id_col": "y_hat"} if role == "id" else {"time_col": "y_hat"}
    message = (rf"the {role} column 'y_hat' has the name the output gives the forecasts of 'y'; rename it "
               rf"\(and pass the new name as {role}_col=, CLI: --{role}-col\)")
    with pytest.raises(InputError, match=message):
        forecast_files(files["model"], tmp_path / "in.csv", tmp_path / "out.csv", **names)
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_stamp_is_named_as_predict_names_it(files, monkeypatch):
    # read with the steps, a NaT made the series look unevenly spaced, and the advice was to resample
    from tsrec.batch import forecast_panel

    long = pd.concat({k: series(i) for i, k in enumerate(IDS[:2])}, names=["unique_id", "ds"]).reset_index()
    long.loc[len(series(0)) + 3, "ds"] = pd.NaT  # the second series' fourth row (a NaT last read as unsorted)
    panel = long.set_index(["unique_id", "ds"])
    monkeypatch.setattr(DeepForecaster, "predict", lambda *a, **k: pytest.fail("a chunk was forecast"))
    row = len(series(0)) + 3
    with pytest.raises(InputError, match=rf"^the panel has 1 row\(s\) with a missing time stamp \(NaT\), e\.g\. series "
                                         rf"'{IDS[1]}' at row {row}; drop those rows or fill in their stamps$"):
        forecast_panel(files["model"], panel, fh=[1])
    long = pd.concat({k: series(i) for i, k in enumerate(IDS[:2])}, names=["unique_id", "ds"]).reset_index()
    long.loc[0, "ds"] = pd.NaT  # the first row: last read as an uneven step, with the advice to resample
    with pytest.raises(InputError, match=rf"NaT\), e\.g\. series '{IDS[0]}' at row 0; drop those rows"):
        forecast_panel(files["model"], long.set_index(["unique_id", "ds"]), fh=[1])


def test_a_far_sparse_fh_is_sized_by_the_steps_kept_and_one_chunks_roll_out(monkeypatch):
    # the output was sized as every step up to the last for every series: 20,000 series and fh=[1, 200000]
    # were refused as 4,000,000,000 rows (89 GiB), while the run keeps 40,000 rows and rolls out a chunk at a time
    from tsrec.batch._checks import check_panel
    from tsrec.estimators import _horizon

    monkeypatch.setattr(_horizon, "physical_memory", lambda: 2**30)  # a 1 GiB machine
    stamps = pd.date_range("2024-01-01", periods=12, freq="D")
    panel = pd.DataFrame({"y": np.sin(np.arange(40 * 12.0))},
                         index=pd.MultiIndex.from_product([range(40), stamps], names=["unique_id", "ds"]))
    model = CycleNetForecaster(lookback=4, horizon=2, cycle_length=7, max_epochs=1).fit(panel.loc[0]["y"])
    check_panel(model, panel, [1, 2**20], chunk_size=2)  # 40 x 2 rows; a chunk: 2 x 2**20 x 296 bytes, 0.58 GiB
    with pytest.raises(InputError, match=r"fh reaches step 1,048,576: 4 series of a chunk would give"):
        check_panel(model, panel, [1, 2**20], chunk_size=4)
    with pytest.raises(InputError, match=r"fh reaches step 2,000,000: 40 series would give 80,000,000 rows"):
        check_panel(model, panel, list(range(1, 2_000_001)), chunk_size=1)
    with pytest.raises(InputError, match=r"fh asks for 2,000,000 steps: 40 series would give 80,000,000 rows"):
        check_panel(model, panel, list(range(2, 4_000_001, 2)), chunk_size=1)
