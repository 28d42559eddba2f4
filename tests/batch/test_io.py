"""Reading series files (long/wide, CSV/Parquet) and writing forecasts atomically."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import InputFileNotFoundError, forecast_files, read_series, write_forecasts
from tsrec.batch.io import check_output_path
from tsrec.estimators import InputError


#: the fix for a missing Parquet engine: pyarrow itself, or the checkout's extra (tsrec is not on PyPI)
NEEDS_PYARROW = r"needs pyarrow: pip install pyarrow \(or, in the tsrec checkout, pip install -e '\.\[parquet\]'\)"


def long_frame(n: int = 30, ids=("a", "b", "c")) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": t, "y": rng.standard_normal(n)}) for k in ids], ignore_index=True
    )


def to_wide(long: pd.DataFrame) -> pd.DataFrame:
    return long.pivot(index="ds", columns="unique_id", values="y").reset_index().rename_axis(columns=None)


def test_long_csv_gives_a_sorted_float_panel(tmp_path):
    long = long_frame()
    shuffled = long.sample(frac=1.0, random_state=0)
    shuffled.to_csv(tmp_path / "s.csv", index=False)
    panel = read_series(tmp_path / "s.csv")
    assert list(panel.index.names) == ["unique_id", "ds"] and list(panel.columns) == ["y"]
    assert panel.index.is_monotonic_increasing and panel["y"].dtype == np.float64
    np.testing.assert_array_equal(panel["y"].to_numpy(), long["y"].to_numpy())
    assert panel.loc["b"].index[0] == pd.Timestamp("2024-01-01")


def test_wide_csv_and_parquet_read_the_same_panel(tmp_path):
    long = long_frame()
    long.to_csv(tmp_path / "l.csv", index=False)
    to_wide(long).to_csv(tmp_path / "w.csv", index=False)
    long.to_parquet(tmp_path / "l.parquet", index=False)
    to_wide(long).set_index("ds").to_parquet(tmp_path / "w.parquet")  # time saved as the index
    expected = read_series(tmp_path / "l.csv")
    for path, layout in [("w.csv", "wide"), ("l.parquet", "long"), ("w.parquet", "wide")]:
        got = read_series(tmp_path / path, layout=layout)
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
        assert got.index.get_level_values(0).tolist() == expected.index.get_level_values(0).tolist()
        assert (got.index.get_level_values(1) == expected.index.get_level_values(1)).all()


def test_options_ids_integer_times_multivariate_and_many_files(tmp_path):
    frame = pd.DataFrame({"id": ["007"] * 4 + ["010"] * 4, "t": [3, 1, 2, 4] * 2, "p": np.arange(8.0), "q": 1.0})
    frame.iloc[:6].to_csv(tmp_path / "part1.csv", index=False)
    frame.iloc[6:].to_csv(tmp_path / "part2.csv.gz", index=False)
    files = [tmp_path / "part1.csv", tmp_path / "part2.csv.gz"]
    panel = read_series(files, id_col="id", time_col="t", columns=["p", "q"])
    assert panel.index.get_level_values("id").unique().tolist() == ["007", "010"]  # text ids survive
    assert panel.loc["007"].index.tolist() == [1, 2, 3, 4] and list(panel.columns) == ["p", "q"]
    assert panel.loc["007", "p"].tolist() == [1.0, 2.0, 0.0, 3.0]


def test_wide_columns_select_series(tmp_path):
    to_wide(long_frame()).to_csv(tmp_path / "w.csv", index=False)
    panel = read_series(tmp_path / "w.csv", layout="wide", columns=["c", "a"], value_col="load", id_col="meter")
    assert panel.index.get_level_values("meter").unique().tolist() == ["a", "c"] and list(panel.columns) == ["load"]


def write(tmp_path, name: str, frame: pd.DataFrame) -> str:
    path = tmp_path / name
    frame.to_parquet(path, index=False) if name.endswith(".parquet") else frame.to_csv(path, index=False)
    return str(path)


def raw(tmp_path, name: str, content: bytes) -> str:
    (tmp_path / name).write_bytes(content)
    return str(tmp_path / name)


def with_value(row: int, value) -> pd.DataFrame:
    frame = long_frame().astype({"y": object})
    frame.loc[row, "y"] = value
    return frame


def two_columns_one_nan() -> pd.DataFrame:
    """Two value columns, one NaN in the second (row 33: series b at 03:00)."""
    frame = long_frame().assign(z=1.0)
    frame.loc[33, "z"] = np.nan
    return frame


def with_inf(tmp_path) -> str:
    frame = long_frame()
    frame.loc[3, "y"] = np.inf
    return write(tmp_path, "x.parquet", frame)


def without_id(tmp_path) -> str:
    frame = long_frame()
    frame["unique_id"] = frame["unique_id"].where(frame.index != 4)
    return write(tmp_path, "x.csv", frame)


# case: (make the input in a folder, read_series options, error type, message pattern)
BAD = {
    "missing column": (
        lambda p: write(p, "x.csv", long_frame().rename(columns={"ds": "time"})), {}, InputError,
        r"x\.csv: missing column\(s\) \['ds'\]; available columns: \['unique_id', 'time', 'y'\].*--time-col",
    ),
    "non-numeric": (
        lambda p: write(p, "x.csv", with_value(7, "n/a?")), {}, TypeError,
        r"x\.csv: column 'y' has non-numeric values \(e\.g\. 'n/a\?' at data row 8\)",
    ),
    "nan": (
        lambda p: write(p, "x.csv", with_value(31, np.nan)), {}, InputError,
        r"x\.csv: 1 row\(s\).*NaN.*series 'b' at 2024-01-01 01:00:00.*fill or drop",
    ),
    "nan in one of two columns": (
        lambda p: write(p, "x.csv", two_columns_one_nan()), {"columns": ["y", "z"]}, InputError,
        r"x\.csv: 1 row\(s\).*NaN.*series 'b' at 2024-01-01 03:00:00",
    ),
    "inf": (with_inf, {}, InputError, r"x\.parquet: .*infinite values, e\.g\. series 'a' at 2024-01-01 03:00:00"),
    "duplicate stamps": (
        lambda p: write(p, "x.csv", pd.concat([long_frame(), long_frame().iloc[[40]]])), {}, InputError,
        r"x\.csv: series 'b' has duplicate time stamps \(e\.g\. 2024-01-01 10:00:00, 2 rows\).*drop or aggregate",
    ),
    "unknown extension": (
        lambda p: write(p, "x.txt", long_frame()), {}, InputError, r"x\.txt: unknown file extension; use one of \.csv",
    ),
    "missing file": (lambda p: str(p / "nope.csv"), {}, FileNotFoundError, r"nope\.csv: file not found"),
    "folder": (lambda p: str(p), {}, InputError, "is a folder"),
    "empty file": (lambda p: raw(p, "x.csv", b""), {}, InputError, r"x\.csv is empty"),
    "header only": (lambda p: raw(p, "x.csv", b"unique_id,ds,y\n"), {}, InputError, "has no data rows"),
    "damaged parquet": (
        lambda p: raw(p, "x.parquet", b"PAR1 not really"), {}, InputError, r"cannot read .*x\.parquet as PARQUET",
    ),
    "bad times": (
        lambda p: write(p, "x.csv", long_frame().assign(ds="yesterday")), {}, InputError,
        "'ds' has values that are not time stamps",
    ),
    "empty id": (without_id, {}, InputError, r"'unique_id' has empty series ids \(first at data row 5\)"),
    "wide without series": (
        lambda p: write(p, "x.csv", long_frame()[["ds"]]), {"layout": "wide"}, InputError, "one column per series",
    ),
    "bad layout": (lambda p: write(p, "x.csv", long_frame()), {"layout": "tall"}, InputError, "layout must be one of"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_file_problem_and_fix(case, tmp_path):
    make, kwargs, error, pattern = BAD[case]
    with pytest.raises(error, match=pattern):
        read_series(make(tmp_path), **kwargs)


def test_missing_file_is_both_value_and_file_not_found_error():
    assert issubclass(InputFileNotFoundError, ValueError) and issubclass(InputFileNotFoundError, FileNotFoundError)


def test_duplicates_across_files_name_both_files(tmp_path):
    long = long_frame()
    one, two = write(tmp_path, "one.csv", long.iloc[:20]), write(tmp_path, "two.csv", long.iloc[19:])
    with pytest.raises(InputError, match=r"one\.csv, .*two\.csv: series 'a' has duplicate time stamps"):
        read_series([one, two])


def test_mixed_time_kinds_across_files(tmp_path):
    a = write(tmp_path, "a.csv", long_frame())
    b = write(tmp_path, "b.csv", long_frame().assign(ds=range(90), unique_id="z"))
    with pytest.raises(InputError, match="different kinds of time stamps"):
        read_series([a, b])


@pytest.mark.parametrize("name", ["f.csv", "f.parquet", "f.csv.gz"])
def test_write_round_trips(tmp_path, name):
    frame = long_frame(n=3)
    out = write_forecasts(frame, tmp_path / "sub" / name)
    back = pd.read_parquet(out) if name.endswith("parquet") else pd.read_csv(out, float_precision="round_trip")
    np.testing.assert_array_equal(back["y"].to_numpy(), frame["y"].to_numpy())
    assert [p.name for p in (tmp_path / "sub").iterdir()] == [name]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old forecasts\n")

    def broken(self, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_forecasts(long_frame(), target)
    assert target.read_text() == "old forecasts\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    write_forecasts(long_frame(n=3), tmp_path / "in.parquet")

    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_pyarrow)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_pyarrow)
    with pytest.raises(ImportError, match=r"reading .*in.parquet " + NEEDS_PYARROW):
        read_series(tmp_path / "in.parquet")
    with pytest.raises(ImportError, match=r"writing .*out.parquet " + NEEDS_PYARROW):
        write_forecasts(long_frame(n=3), tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_parquet_output_without_an_engine_is_refused_before_the_model_is_read(tmp_path, monkeypatch):
    """Found before the forecasts (minutes for many series), not when they are written."""
    long_frame(n=3).to_csv(tmp_path / "in.csv", index=False)
    for engine in ("pyarrow", "fastparquet"):
        monkeypatch.setitem(sys.modules, engine, None)  # an import of it raises ImportError
    with pytest.raises(ImportError, match=r"writing .*out.parquet " + NEEDS_PYARROW):
        forecast_files(tmp_path / "no-such-model", tmp_path / "in.csv", tmp_path / "out.parquet")
    check_output_path(tmp_path / "out.csv")  # CSV needs no engine


def test_write_rejects_unknown_extension_and_folders(tmp_path):
    with pytest.raises(InputError, match="unknown file extension"):
        write_forecasts(long_frame(), tmp_path / "out.xlsx")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_forecasts(long_frame(), tmp_path / "d.csv")


@pytest.mark.parametrize("name", ["f.csv", "f.parquet"])
def test_write_refuses_a_column_name_given_twice_and_keeps_the_old_file(tmp_path, name):
    # Parquet refused it in pandas' words without the file; a CSV wrote it, ambiguous to read back
    (tmp_path / name).write_bytes(b"old")
    frame = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["y_hat", "y_hat", "z"])
    with pytest.raises(InputError, match=r"the forecasts name columns \['y_hat'\] twice; give each column its own "
                                         r"name"):
        write_forecasts(frame, tmp_path / name)
    assert (tmp_path / name).read_bytes() == b"old"


def test_a_series_split_over_csv_and_parquet_is_one_series(tmp_path):
    # Parquet keeps integer ids as integers, CSV ids are text: both must name the same series
    long = long_frame(ids=(1, 2))
    csv, parquet = write(tmp_path, "a.csv", long.iloc[::2]), write(tmp_path, "b.parquet", long.iloc[1::2])
    panel = read_series([csv, parquet])
    assert panel.index.get_level_values(0).unique().tolist() == ["1", "2"] and len(panel) == len(long)
    np.testing.assert_array_equal(panel["y"].to_numpy(), long["y"].to_numpy())
    with pytest.raises(InputError, match=r"a\.csv, .*c\.parquet: series '1' has duplicate time stamps"):
        read_series([csv, write(tmp_path, "c.parquet", long.iloc[:1])])
    # leading zeros still make another id
    zeros = write(tmp_path, "z.csv", long.iloc[1::2].assign(unique_id=lambda f: "00" + f["unique_id"].astype(str)))
    assert read_series([csv, zeros]).index.get_level_values(0).unique().tolist() == ["001", "002", "1", "2"]


@pytest.mark.parametrize("index_name", [None, "row"])
def test_a_stored_row_index_of_a_wide_parquet_is_not_a_series(tmp_path, index_name):
    wide = to_wide(long_frame()).sample(frac=1.0, random_state=0).rename_axis(index_name)
    wide.to_parquet(tmp_path / "w.parquet")  # a shuffled index is stored as a column
    panel = read_series(tmp_path / "w.parquet", layout="wide")
    assert panel.index.get_level_values(0).unique().tolist() == ["a", "b", "c"]
    assert len(panel) == 3 * len(wide)


def test_csv_stamps_across_a_daylight_saving_change(tmp_path):
    # pandas writes Europe/Berlin stamps as +01:00 before 31 March 2024 01:00 UTC and +02:00 after
    t = pd.date_range("2024-03-30 12:00", periods=30, freq="h", tz="Europe/Berlin")
    long = long_frame().assign(ds=list(t) * 3)
    summer = long["ds"] >= pd.Timestamp("2024-03-31 01:00", tz="UTC")
    assert 0 < summer.sum() < len(long)
    expected = read_series(write(tmp_path, "x.parquet", long))
    for files in (["x.csv"], ["winter.csv", "summer.csv"]):
        write(tmp_path, "x.csv", long)
        write(tmp_path, "winter.csv", long[~summer])  # one offset per file
        write(tmp_path, "summer.csv", long[summer])
        got = read_series([tmp_path / name for name in files])
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
        assert (got.index.get_level_values(1) == expected.index.get_level_values(1)).all()
        assert str(got.index.get_level_values(1).tz) == "UTC"


def test_stamps_with_and_without_offsets_are_refused(tmp_path):
    frame = long_frame(n=2).astype({"ds": str})
    frame.loc[0, "ds"] = "2024-01-01 00:00:00+01:00"
    with pytest.raises(InputError, match="'ds' has values that are not time stamps"):
        read_series(write(tmp_path, "x.csv", frame))


@pytest.mark.parametrize(
    "options, layout, message",
    [
        ({"id_col": "ds"}, "long", r"id_col and time_col are both 'ds'.*--id-col"),
        ({"id_col": "ds"}, "wide", r"id_col and time_col are both 'ds'"),
        ({"value_col": "unique_id"}, "long", r"id_col and value_col are both 'unique_id'"),
        ({"columns": ["y", "ds"]}, "long", r"time_col and columns are both 'ds'"),
        ({}, "wide-y", r"x\.csv: series column 'y' has the name of the value column.*--value-col"),
        ({"columns": ["unique_id"]}, "wide-id", r"x\.csv: series column 'unique_id' has the name of the id column"),
    ],
)
def test_clashing_column_names_are_named(tmp_path, options, layout, message):
    wide = to_wide(long_frame())
    frame = {"long": long_frame(), "wide": wide, "wide-y": wide.rename(columns={"a": "y"}),
             "wide-id": wide.rename(columns={"a": "unique_id"})}[layout]
    with pytest.raises(InputError, match=message):
        read_series(write(tmp_path, "x.csv", frame), layout=layout.split("-")[0], **options)


def test_failed_write_removes_the_folders_it_made(tmp_path, monkeypatch):
    (tmp_path / "old").mkdir()

    def broken(self, path, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    for target in (tmp_path / "new" / "deeper" / "out.csv", tmp_path / "old" / "out.csv"):
        with pytest.raises(OSError, match="disk full"):
            write_forecasts(long_frame(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["old"] and not list((tmp_path / "old").iterdir())


def test_gzipped_forecasts_are_the_same_bytes_for_the_same_forecasts(tmp_path):
    import gzip

    frame = pd.DataFrame({"unique_id": ["a", "b"], "y_hat": [1.5, 2.5]})
    first = write_forecasts(frame, tmp_path / "f.csv.gz").read_bytes()
    second = write_forecasts(frame, tmp_path / "g.csv.gz").read_bytes()
    assert first == second
    assert first[3] & 0x08 == 0 and first[4:8] == bytes(4)  # no stored file name (FNAME flag), mtime 0
    assert gzip.decompress(first).decode() == "unique_id,y_hat\na,1.5\nb,2.5\n"


@pytest.mark.parametrize("series", [["sales"], ["a", "b"]], ids=["one series", "two series"])
def test_a_wide_file_read_as_long_names_the_wide_layout(tmp_path, series):
    # a time column and no id column: likely a wide file, even with a single series beside the stamps
    path = tmp_path / "w.csv"
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=4, freq="h"), **{s: 1.0 for s in series}}).to_csv(
        path, index=False)
    with pytest.raises(InputError, match=r"; or, if each column but 'ds' is a series \(a wide file\), layout='wide'"):
        read_series(path)
    assert list(read_series(path, layout="wide").index.get_level_values(0).unique()) == series
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=4, freq="h")}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"missing column\(s\)") as refused:
        read_series(path)
    assert "layout='wide'" not in str(refused.value)  # the stamps alone: no series to read either way


@pytest.mark.parametrize("name", ["f.csv", "f.csv.gz"])
def test_csv_stamps_keep_their_time_of_day_at_midnight(tmp_path, name):
    # pandas writes a naive column of midnights as dates alone: an hourly model's forecasts at
    # fh=[24] read "2024-01-02", at fh=[23, 24] "2024-01-01 23:00:00"; one format for both
    import gzip

    frame = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.to_datetime(["2024-01-02", "2024-01-03"]),
                          "zoned": pd.date_range("2024-01-02", periods=2, freq="D", tz="Europe/Berlin"),
                          0: pd.to_datetime(["2024-01-02", None]), "y_hat": [1.5, 2.5]})
    out = write_forecasts(frame, tmp_path / name)
    text = (gzip.decompress(out.read_bytes()) if name.endswith(".gz") else out.read_bytes()).decode()
    assert text.splitlines() == ["unique_id,ds,zoned,0,y_hat",
                                 "a,2024-01-02 00:00:00,2024-01-02 00:00:00+01:00,2024-01-02 00:00:00,1.5",
                                 "b,2024-01-03 00:00:00,2024-01-03 00:00:00+01:00,,2.5"]
    assert frame["ds"].dtype.kind == "M" and list(frame.columns)[3] == 0  # the caller's frame is unchanged
    back = pd.read_csv(out, parse_dates=["ds"])
    pd.testing.assert_series_equal(back["ds"], frame["ds"], check_dtype=False)
