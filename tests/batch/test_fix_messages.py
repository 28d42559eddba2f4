"""Input and output problems found in an audit of batch forecasting: each fails with tsrec's own message
naming what is wrong and how to fix it (a cut .csv.gz, UTF-16 text, a bad stamp, a ragged wide file, an
output name too long, an unreachable Dask scheduler; a path that is no path, a frame that is no frame or
that Parquet cannot store, a step asked for twice)."""

from __future__ import annotations

import errno
import gzip

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.base import ForecastingHorizon

from tsrec.batch import forecast_files, forecast_panel, load_cached, read_series, write_forecasts
from tsrec.estimators import ARNetForecaster, InputError


def long_frame(n: int = 30, ids=("a", "b")) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": t, "y": np.arange(n, dtype=float) + i}) for i, k in enumerate(ids)],
        ignore_index=True,
    )


def test_a_truncated_csv_gz_says_it_is_cut_short(tmp_path):
    packed = gzip.compress(long_frame(n=2000).to_csv(index=False).encode())
    (tmp_path / "x.csv.gz").write_bytes(packed[:-100])  # a partial download: no end-of-stream marker
    with pytest.raises(InputError, match=r"cannot read .*x\.csv\.gz as CSV \(the compressed file is cut short\); "
                                         "download or compress it again"):
        read_series(tmp_path / "x.csv.gz")


@pytest.mark.parametrize("sep, fix", [(",", "encoding='utf-16')"), ("\t", "encoding='utf-16', sep='\\t')")])
def test_utf16_text_is_told_to_read_as_utf16(tmp_path, sep, fix):
    long = long_frame(n=5)
    # Excel's "Unicode Text": UTF-16 with a byte-order mark, tab-separated
    (tmp_path / "x.csv").write_bytes(long.to_csv(index=False, sep=sep).encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16") as caught:
        read_series(tmp_path / "x.csv")
    assert fix in str(caught.value) and "cp1252" not in str(caught.value)
    # the fix given reads the file as written
    assert pd.read_csv(tmp_path / "x.csv", encoding="utf-16", sep=sep).columns.tolist() == ["unique_id", "ds", "y"]


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_a_bad_time_stamp_is_named_with_its_row(tmp_path, layout):
    frame = long_frame(n=5, ids=("a",)).astype({"ds": str})
    if layout == "wide":
        frame = frame.drop(columns="unique_id").rename(columns={"y": "a"})
    frame.loc[2, "ds"] = "notadate"
    frame.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError) as caught:
        read_series(tmp_path / "x.csv", layout=layout)
    message = str(caught.value)
    assert "x.csv: column 'ds' has values that are not time stamps, e.g. 'notadate' (data row 3); " in message
    assert "%" not in message and "might want" not in message  # pandas' guessed format, cut off


def test_stamps_in_two_formats_name_both(tmp_path):
    frame = long_frame(n=3, ids=("a",)).astype({"ds": str})
    frame.loc[0, "ds"] = "2024-01-01 00:00:00+01:00"
    frame.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError, match=r"not time stamps in one format: '2024-01-01 00:00:00\+01:00' \(data row 1\) "
                                         r"but '2024-01-01 01:00:00' \(data row 2\)"):
        read_series(tmp_path / "x.csv")


def test_day_first_dates_beside_iso_ones_name_the_iso_one(tmp_path):
    # pandas guesses month first from 01/01/2024: 13/01/2024, in the same format, was named as the odd one
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    rows = [("a", d.strftime("%d/%m/%Y"), 1.0) for d in days] + [("b", d.strftime("%Y-%m-%d"), 1.0) for d in days]
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError, match=r"not time stamps in one format: '01/01/2024' \(data row 1\) but "
                                         r"'2024-01-01' \(data row 21\)"):
        read_series(tmp_path / "x.csv")


def test_a_ragged_wide_file_is_told_to_use_the_long_layout(tmp_path):
    wide = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=7, freq="h"), "a": np.arange(7.0),
                         "b": [np.nan, np.nan, 7, 8, 9, 10, 11]})  # b starts two rows later
    wide.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError) as caught:
        read_series(tmp_path / "x.csv", layout="wide")
    message = str(caught.value)
    assert "series 'b' at 2024-01-01 00:00:00" in message and "fill or drop" not in message
    assert "long layout" in message and "--layout long" in message
    assert "df.melt(id_vars='ds', var_name='unique_id', value_name='y').dropna()" in message
    # the long layout reads it, each series from its own first row
    long = wide.melt(id_vars="ds", var_name="unique_id", value_name="y").dropna()
    long.to_csv(tmp_path / "long.csv", index=False)
    assert read_series(tmp_path / "long.csv").loc["b"].index[0] == pd.Timestamp("2024-01-01 02:00")
    # a long file's gaps are only gaps: its fix stays to fill or drop them
    long.iloc[3, 2] = np.nan
    long.to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(InputError, match="fill or drop them before forecasting") as caught:
        read_series(tmp_path / "gap.csv")
    assert "long layout" not in str(caught.value)


def test_an_output_name_too_long_says_to_shorten_it(tmp_path):
    target = tmp_path / ("f" * 300 + ".csv")
    with pytest.raises(OSError, match=r"cannot write .*: File name too long; give a shorter output name") as caught:
        write_forecasts(pd.DataFrame({"unique_id": ["a"], "y_hat": [1.0]}), target)
    assert caught.value.errno == errno.ENAMETOOLONG


def test_an_unreachable_scheduler_says_what_to_check(monkeypatch):
    pytest.importorskip("distributed")
    from tsrec.batch import forecast

    monkeypatch.setattr(forecast, "_CONNECT_TIMEOUT_S", 1)  # the real 30 s would only slow the test
    with pytest.raises(OSError) as caught:
        with forecast._connected("tcp://127.0.0.1:1"):  # port 1: nothing listens there
            pass
    message = str(caught.value)
    assert message.startswith("cannot connect to the Dask scheduler at tcp://127.0.0.1:1: ")
    assert "check that a Dask scheduler runs at that address" in message
    assert "drop --scheduler-address" in message and "forecast locally" in message


@pytest.mark.parametrize("name, data, fix", [
    ("x.csv", lambda text: gzip.compress(text.encode()), "the file is gzip-compressed: name it .csv.gz"),
    ("x.csv.gz", lambda text: text.encode(), "the file is not gzip-compressed: name it without .gz (e.g. .csv)"),
])
def test_a_name_that_misstates_gzip_says_how_to_name_it(tmp_path, name, data, fix):
    # gzip named .csv was told to save it as UTF-8 (re-encoding binary data); text named .csv.gz got pandas' words
    (tmp_path / name).write_bytes(data(long_frame(n=5).to_csv(index=False)))
    with pytest.raises(InputError) as caught:
        read_series(tmp_path / name)
    assert str(caught.value).endswith(fix) and "cp1252" not in str(caught.value)


def test_a_line_above_the_header_is_named_as_such(tmp_path):
    # it was blamed on "a delimiter at the end of each row"
    (tmp_path / "x.csv").write_text("# exported 2024-05-01\n" + long_frame(n=5).to_csv(index=False))
    with pytest.raises(InputError) as caught:
        read_series(tmp_path / "x.csv")
    assert "line 1, '# exported 2024-05-01', has one field but the rows below it have more" in str(caught.value)
    assert "remove it (the header must be the first line)" in str(caught.value)


def test_load_cached_refuses_what_is_not_a_path():
    # None failed inside pathlib: "argument should be a str or an os.PathLike object ..., not 'NoneType'"
    with pytest.raises(TypeError, match=r"^tsrec.batch.load_cached: path must be a str or os.PathLike .*got NoneType "
                                        r"None; pass the folder's path as text or a pathlib.Path$"):
        load_cached(None)


@pytest.mark.parametrize("frame, fix", [([1, 2], r"pd.DataFrame\(rows, columns=\[...\]\)"),
                                        (pd.Series([1.0]), r"series.to_frame\(\)")])
def test_write_forecasts_refuses_what_is_not_a_frame(tmp_path, frame, fix):
    # a list failed with "'list' object has no attribute 'to_csv'"
    with pytest.raises(TypeError, match=rf"^write_forecasts writes a pandas DataFrame, got {type(frame).__name__}; "
                                        rf"pass the frame forecast_panel returns, or make one: {fix}$"):
        write_forecasts(frame, tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_column_parquet_cannot_store_is_named_with_the_fix_and_nothing_is_written(tmp_path):
    frame = pd.DataFrame({"unique_id": ["a", "b"], "note": [1, "x"]})  # an object column of mixed values
    with pytest.raises(InputError, match=r"cannot write .*w\.parquet as Parquet \(Could not convert 'x' .*column "
                                         r"note .*\); give column 'note' values of one type \(e.g. frame\['note'\] = "
                                         r"frame\['note'\].astype\(str\)\), or write a .csv file$"):
        write_forecasts(frame, tmp_path / "w.parquet")  # was pyarrow's bare ArrowInvalid
    assert list(tmp_path.iterdir()) == []
    write_forecasts(frame.astype({"note": str}), tmp_path / "w.parquet")  # the fix given writes it


def test_a_step_asked_for_twice_is_refused_as_the_estimators_refuse_it():
    panel = long_frame(n=20).set_index(["unique_id", "ds"])
    model = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(panel)
    with pytest.raises(InputError, match=r"^fh must not contain duplicates, got \[1, 1\] \(\[1\] more than once\); "
                                         r"give each once, e.g. fh=\[1\]$"):
        model.predict(fh=[1, 1])
    # forecast_panel dropped the second step 1 without a word
    with pytest.raises(InputError, match=r"^fh must not contain duplicates, got \[2, 1, 1\] \(\[1\] "
                                         r"more than once\); give each once, e.g. fh=\[1, 2\]$"):
        forecast_panel(model, panel, fh=[2, 1, 1])
    assert len(forecast_panel(model, panel, fh=[2, 1])) == 4  # 2 series x 2 steps


@pytest.fixture(scope="module")
def hourly_model():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        long_frame(ids=("a",)).set_index("ds")["y"])


@pytest.mark.parametrize("fh", [ForecastingHorizon(pd.to_timedelta(["1h", "2h"])),
                                np.array([1, 2], dtype="timedelta64[h]")], ids=["ForecastingHorizon", "timedelta64"])
def test_an_fh_of_durations_is_refused_with_steps_as_the_fix(hourly_model, tmp_path, fh):
    # numpy counts timedelta64 as an integer dtype: durations passed the step check and failed in int()
    # with a bare TypeError
    long_frame().to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InputError, match=r"fh names durations \(\['0 days 01:00:00', '0 days 02:00:00'\]\), but each "
                                         r"series is forecast at its own step; pass steps, e.g. fh=\[1, 2, 3\]"):
        forecast_files(hourly_model, tmp_path / "in.csv", tmp_path / "out.csv", fh=fh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("inputs", [long_frame(), long_frame().set_index(["unique_id", "ds"]), b"in.csv"],
                         ids=["frame", "indexed-frame", "bytes"])
def test_a_frame_or_bytes_as_the_input_files_is_named_as_such(hourly_model, tmp_path, inputs):
    # iterated, a frame gave its column names as file names ("unique_id: file not found") and bytes their
    # codes ("the input files include 105")
    kind = "bytes" if isinstance(inputs, bytes) else "a DataFrame"
    with pytest.raises(InputError, match=rf"the input files are {kind}, not paths; "):
        forecast_files(hourly_model, inputs, tmp_path / "out.csv")
    with pytest.raises(InputError, match="not paths; (forecast an in-memory panel with tsrec.batch.forecast_panel|"
                                         r"pass the path as text \(os.fsdecode\(path\)\))"):
        read_series(inputs)


def test_an_over_long_folder_name_of_the_output_is_refused_before_forecasting(hourly_model, tmp_path, monkeypatch):
    # a missing folder is probed at its nearest existing parent, so a name over 255 bytes in it passed the
    # up-front check and failed in mkdir after every forecast, naming neither the output nor a fix
    long_frame().to_csv(tmp_path / "in.csv", index=False)

    def predict(*args, **kwargs):
        raise AssertionError("forecasting began before the output was found unwritable")

    monkeypatch.setattr(ARNetForecaster, "predict", predict)
    with pytest.raises(OSError, match=r"cannot write .*: File name too long; give a shorter output name") as caught:
        forecast_files(hourly_model, tmp_path / "in.csv", tmp_path / "new" / ("y" * 300) / "out.csv")
    assert caught.value.errno == errno.ENAMETOOLONG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_fh_of_timedelta_objects_is_refused_naming_the_first_three():
    # a list of pd.Timedelta is an object array, not a timedelta64 one: it must get the same refusal
    from tsrec.batch._checks import forecast_steps
    from tsrec.errors import InputError

    fh = [pd.Timedelta(hours=h) for h in range(1, 5)]
    with pytest.raises(InputError, match=r"^fh names durations \(\['0 days 01:00:00', '0 days 02:00:00', "
                                         r"'0 days 03:00:00'\]\), but each series is forecast at its own step"):
        forecast_steps(fh, None)


@pytest.mark.parametrize("name", ["y" * 256, "é" * 128], ids=["256-bytes", "128-two-byte-letters"])
def test_an_output_folder_name_just_over_255_bytes_is_refused_up_front(tmp_path, name):
    # the limit is 255 bytes, not 255 letters: one more byte, or fewer letters of two bytes each, is too long
    import errno

    from tsrec.batch.io import check_output_path

    with pytest.raises(OSError, match=r"cannot write .*: File name too long") as caught:
        check_output_path(tmp_path / "new" / name / "out.csv")
    assert caught.value.errno == errno.ENAMETOOLONG
    check_output_path(tmp_path / "new" / ("y" * 255) / "out.csv")  # 255 bytes: a name the system takes


@pytest.mark.parametrize("inputs, fix", [(b"in.csv", r"pass the path as text \(os\.fsdecode\(path\)\)$"),
                                         (pd.DataFrame({"y": [1.0]}), "forecast an in-memory panel with "
                                                                      r"tsrec\.batch\.forecast_panel")],
                         ids=["bytes", "frame"])
def test_bytes_and_frames_as_input_files_each_get_their_own_fix(inputs, fix):
    # bytes are a path in the wrong type; a frame is data, forecast in memory
    from tsrec.batch import read_series
    from tsrec.errors import InputError

    with pytest.raises(InputError, match=rf"not paths; {fix}"):
        read_series(inputs)


@pytest.mark.parametrize("wrap", [np.array, pd.Series], ids=["ndarray", "Series"])
def test_an_array_or_series_of_paths_reads_as_a_list_of_them(tmp_path, wrap):
    # tests/batch/test_fix_messages.py: a column of file names (df["path"]) read before this session; an Index still does
    from tsrec.batch import read_series

    frame = pd.DataFrame({"unique_id": ["a"] * 5, "ds": pd.date_range("2024", periods=5, freq="h"), "y": np.arange(5.0)})
    frame.to_csv(tmp_path / "in.csv", index=False)
    assert read_series(wrap([str(tmp_path / "in.csv")])).shape == (5, 1)


def test_a_step_among_durations_is_shown_as_given():
    # the durations were shown through pd.Timedelta, which read the step 1 as 1 ns ('0 days 00:00:00.000000001')
    from tsrec.batch._checks import forecast_steps

    with pytest.raises(InputError, match=r"^fh names durations \(\[1, '0 days 02:00:00'\]\)"):
        forecast_steps([1, pd.Timedelta("2h")], None)
