"""What other tools write into series files: DECIMAL columns, ids that look like NA, saved row numbers,
repeated headers."""

from __future__ import annotations

import decimal
import gzip
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsrec.batch import read_series
from tsrec.estimators import InputError


def long_frame(ids=("a", "b", "c"), n: int = 6) -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": t, "y": rng.standard_normal(n)}) for k in ids], ignore_index=True
    )


def test_parquet_decimal_and_text_numbers_are_read_as_floats(tmp_path):
    long = long_frame()
    amounts = [decimal.Decimal(f"{v:.2f}") for v in long["y"]]
    table = {"unique_id": long["unique_id"].tolist(), "ds": pa.array(long["ds"])}
    pq.write_table(pa.table({**table, "y": pa.array(amounts, pa.decimal128(12, 2))}), tmp_path / "dec.parquet")
    panel = read_series(tmp_path / "dec.parquet")
    assert panel["y"].dtype == np.float64
    np.testing.assert_array_equal(panel["y"].to_numpy(), [float(a) for a in amounts])
    # numbers stored as text convert exactly (to the same float as the number itself)
    pq.write_table(pa.table({**table, "y": [repr(v) for v in long["y"]]}), tmp_path / "text.parquet")
    np.testing.assert_array_equal(read_series(tmp_path / "text.parquet")["y"].to_numpy(), long["y"].to_numpy())


def test_a_value_that_is_no_number_is_quoted_with_its_row(tmp_path):
    long = long_frame()
    text = [repr(v) for v in long["y"]]
    text[4] = "12,5"
    pq.write_table(pa.table({"unique_id": long["unique_id"].tolist(), "ds": pa.array(long["ds"]), "y": text}),
                   tmp_path / "x.parquet")
    with pytest.raises(TypeError,
                       match=r"x\.parquet: column 'y' has non-numeric values \(e\.g\. '12,5' at data row 5\).* "
                             r"\('12,5' looks like a decimal comma: write '12\.5'\)$"):
        read_series(tmp_path / "x.parquet")
    # quoted in a CSV, the comma is no delimiter; three digits after it may be thousands: no guess
    (tmp_path / "x.csv").write_text('unique_id,ds,y\na,2024-01-01,"10,5"\na,2024-01-02,"11,5"\n')
    with pytest.raises(TypeError, match=r"\('10,5' looks like a decimal comma: write '10\.5', e\.g\. "
                                        r"pd\.read_csv\(path, decimal=','\)\.to_csv\(new_path, index=False\)\)$"):
        read_series(tmp_path / "x.csv")
    (tmp_path / "x.csv").write_text('unique_id,ds,y\na,2024-01-01,"1,250"\na,2024-01-02,"1,300"\n')
    with pytest.raises(TypeError, match="non-numeric values") as caught:
        read_series(tmp_path / "x.csv")
    assert "decimal comma" not in str(caught.value)


def test_csv_ids_that_look_like_missing_values_are_ids(tmp_path):
    ids = ("DE", "NA", "None", "null", "nan", "N/A")
    long = long_frame(ids=ids)
    long.to_csv(tmp_path / "x.csv", index=False)
    panel = read_series(tmp_path / "x.csv")
    assert panel.index.get_level_values(0).unique().tolist() == sorted(ids)
    long.to_parquet(tmp_path / "x.parquet", index=False)
    pd.testing.assert_frame_equal(read_series(tmp_path / "x.parquet"), panel)
    # values keep pandas' NA strings: "NA" there is a missing value, refused as such
    long.astype({"y": object}).assign(y=lambda f: f["y"].where(f.index != 3, "NA")).to_csv(
        tmp_path / "v.csv", index=False)
    with pytest.raises(InputError, match=r"v\.csv: 1 row\(s\) of 1 series have missing \(NaN\)"):
        read_series(tmp_path / "v.csv")


def wide_frame() -> pd.DataFrame:
    return long_frame().pivot(index="ds", columns="unique_id", values="y").reset_index().rename_axis(columns=None)


def test_the_row_numbers_of_a_wide_csv_are_no_series(tmp_path):
    wide = wide_frame()
    wide.to_csv(tmp_path / "plain.csv", index=False)
    wide.to_csv(tmp_path / "numbered.csv")  # pandas' default index=True: a first column without a name
    wide.sample(frac=1.0, random_state=0).to_csv(tmp_path / "shuffled.csv")
    expected = read_series(tmp_path / "plain.csv", layout="wide")
    for name in ("numbered.csv", "shuffled.csv"):
        pd.testing.assert_frame_equal(read_series(tmp_path / name, layout="wide"), expected)


@pytest.mark.parametrize(
    "header, row, layout, message",
    [
        ("ds,s0,s0", "{t},1,2", "wide", r"x\.csv: the header names column 's0' 2 times; give each column its own name"),
        ("unique_id,ds,y,y", "a,{t},1,2", "long", r"x\.csv: the header names column 'y' 2 times"),
        ("ds,s0,,s1", "{t},1,2,3", "wide", r"x\.csv: column 3 has no name in the header; name it, or pick the series"),
        # a first column without a name is dropped only when it holds row numbers
        (",ds,s0", "1000.5,{t},1", "wide", r"x\.csv: column 1 has no name in the header"),
    ],
)
def test_repeated_or_missing_headers_are_refused(tmp_path, header, row, layout, message):
    rows = [row.format(t=f"2024-01-01 {h:02d}:00") for h in range(6)]
    (tmp_path / "x.csv").write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(InputError, match=message):
        read_series(tmp_path / "x.csv", layout=layout)


def test_repeats_of_unused_columns_do_not_matter(tmp_path):
    text = "unique_id,ds,y,note,note\n" + "".join(f"a,2024-01-01 {h:02d}:00,{h},x,y\n" for h in range(6))
    (tmp_path / "x.csv").write_text(text)
    assert read_series(tmp_path / "x.csv")["y"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    wide = "ds,s0,s0,s1\n" + "".join(f"2024-01-01 {h:02d}:00,{h},{-h},1\n" for h in range(6))
    (tmp_path / "w.csv").write_text(wide)
    assert read_series(tmp_path / "w.csv", layout="wide", columns=["s1"]).index.get_level_values(0)[0] == "s1"


def test_whole_number_float_ids_are_the_integer_ids_of_other_files(tmp_path):
    # pandas stores an integer id column that once held a gap as float64: 1.0 is series 1
    long = long_frame(ids=(1, 2, 3))
    long.to_csv(tmp_path / "int.csv", index=False)
    long.astype({"unique_id": "float64"}).to_parquet(tmp_path / "float.parquet", index=False)
    pd.testing.assert_frame_equal(read_series(tmp_path / "float.parquet"), read_series(tmp_path / "int.csv"))
    long.assign(unique_id=long["unique_id"] + 0.5).to_parquet(tmp_path / "half.parquet", index=False)
    assert read_series(tmp_path / "half.parquet").index.get_level_values(0).unique().tolist() == ["1.5", "2.5", "3.5"]
    # past 2**53 a float is no exact integer, and past 2**63 int64 wraps: 1e20 and 3e20 became one series
    long.assign(unique_id=long["unique_id"] * 1e20).to_parquet(tmp_path / "huge.parquet", index=False)
    assert read_series(tmp_path / "huge.parquet").index.get_level_values(0).unique().tolist() == [
        "1e+20", "2e+20", "3e+20"]


def test_excels_separator_line_above_the_header_is_named(tmp_path):
    # it read as a header of two names over rows of three: "a delimiter at the end of each row does this"
    t = pd.date_range("2024-01-01", periods=4, freq="h")
    body = "unique_id,ds,y\n" + "".join(f"a,{s},1.5\n" for s in t)
    (tmp_path / "x.csv").write_text("sep=,\n" + body)
    with pytest.raises(InputError, match=r"x\.csv: line 1, 'sep=,', is Excel's separator hint, not the header; "
                                         r"remove that line \(the header must be the first line\)$"):
        read_series(tmp_path / "x.csv")
    (tmp_path / "x.csv").write_text(body)
    assert len(read_series(tmp_path / "x.csv")) == 4


@pytest.mark.parametrize("rows", ["a,{t},1.5,0", "a,{t},1.5,"])  # a flag column without a name; a trailing comma
def test_rows_longer_than_the_header_are_refused(tmp_path, rows):
    # pandas would take the first field as a row index and shift every column by one
    t = pd.date_range("2024-01-01", periods=4, freq="h")
    (tmp_path / "x.csv").write_text("unique_id,ds,y\n" + "".join(rows.format(t=s) + "\n" for s in t))
    with pytest.raises(InputError, match=r"x\.csv: the data rows have more fields than the header's 3 names"):
        read_series(tmp_path / "x.csv")


def test_dates_that_read_either_day_or_month_first_are_refused(tmp_path):
    days = pd.date_range("2024-01-01", periods=12, freq="D")
    frame = pd.DataFrame({"unique_id": "a", "ds": days.strftime("%d/%m/%Y"), "y": np.arange(12.0)})
    frame.to_csv(tmp_path / "x.csv", index=False)  # read month-first: twelve evenly spaced months
    with pytest.raises(InputError, match=r"x\.csv: the dates of column 'ds' \(e\.g\. '01/01/2024'\) read as well "
                                         r"day-first as month-first.*write them year first"):
        read_series(tmp_path / "x.csv")
    # a day above 12 leaves one reading, whichever comes first, and wherever it stands in the file
    for later in (pd.date_range("2024-01-13", periods=12, freq="D"), pd.date_range("2024-01-01", periods=31, freq="D")):
        for layout in ("%d/%m/%Y", "%m/%d/%Y"):
            pd.DataFrame({"unique_id": "a", "ds": later.strftime(layout),
                          "y": np.arange(len(later), dtype=float)}).to_csv(tmp_path / "y.csv", index=False)
            assert read_series(tmp_path / "y.csv").index.get_level_values(1).equals(pd.DatetimeIndex(later, name="ds"))
    hours = pd.date_range("2024-03-13", periods=12, freq="h")
    frame.assign(ds=hours.strftime("%m/%d/%Y %H:%M")).to_csv(tmp_path / "z.csv", index=False)
    assert read_series(tmp_path / "z.csv").index.get_level_values(1).equals(pd.DatetimeIndex(hours, name="ds"))
    # a day or month, not both: 10 March or 3 October, whatever the hours
    frame.assign(ds=(hours - pd.Timedelta(days=3)).strftime("%m/%d/%Y %H:%M")).to_csv(tmp_path / "z.csv", index=False)
    with pytest.raises(InputError, match="read as well day-first as month-first"):
        read_series(tmp_path / "z.csv")


def test_dayfirst_says_how_dates_that_read_both_ways_are_read(tmp_path):
    # a nightly file of the last days of each series is ambiguous from the 1st to the 12th of a month:
    # refused on those days and read on the others, with no way to say the order
    days = pd.date_range("2024-03-05", periods=8, freq="D")
    expected = pd.DatetimeIndex(days, name="ds")
    for layout, dayfirst in (("%d/%m/%Y", True), ("%m/%d/%Y", False), ("%d.%m.%Y %H:%M", True)):
        pd.DataFrame({"unique_id": "a", "ds": days.strftime(layout), "y": np.arange(8.0)}).to_csv(tmp_path / "x.csv",
                                                                                                 index=False)
        with pytest.raises(InputError, match=r"read as well day-first as month-first.*or say which: dayfirst=True "
                                             r"or False \(CLI: --dayfirst or --monthfirst\)$"):
            read_series(tmp_path / "x.csv")
        assert read_series(tmp_path / "x.csv", dayfirst=dayfirst).index.get_level_values(1).equals(expected)
    # year-first dates are read as they are (pandas read 2024-03-05 day-first as %Y-%d-%m, 3 May)
    pd.DataFrame({"unique_id": "a", "ds": days.strftime("%Y-%m-%d"), "y": np.arange(8.0)}).to_csv(tmp_path / "iso.csv",
                                                                                                  index=False)
    for dayfirst in (True, False):
        assert read_series(tmp_path / "iso.csv", dayfirst=dayfirst).index.get_level_values(1).equals(expected)
    # pandas takes dayfirst as a preference: 13/03/2024 read day-first whatever it was told
    pd.DataFrame({"unique_id": "a", "ds": (days + pd.Timedelta(days=8)).strftime("%d/%m/%Y"),
                  "y": np.arange(8.0)}).to_csv(tmp_path / "late.csv", index=False)
    with pytest.raises(InputError, match=r"late\.csv: the dates of column 'ds' \(e\.g\. '13/03/2024'\) do not read "
                                         r"month-first, as dayfirst=False says; they read day-first: pass "
                                         r"dayfirst=True \(CLI: --dayfirst\)"):
        read_series(tmp_path / "late.csv", dayfirst=False)
    # ... and where the first dates read both ways, pandas fails at the 13th: the given order is the suspect
    month = pd.date_range("2024-03-01", periods=20, freq="D")
    for layout, dayfirst, row in (("%d/%m/%Y", False, "'13/03/2024', data row 13"),
                                  ("%m/%d/%Y", True, "'03/13/2024', data row 13")):
        pd.DataFrame({"unique_id": "a", "ds": month.strftime(layout), "y": np.arange(20.0)}).to_csv(
            tmp_path / "month.csv", index=False)
        given, other = ("day", "month") if dayfirst else ("month", "day")
        with pytest.raises(InputError, match=rf"month\.csv: the dates of column 'ds' \(e\.g\. {row}\) do not read "
                                             rf"{given}-first, as dayfirst={dayfirst} says; they read {other}-first: "
                                             rf"pass dayfirst={not dayfirst} \(CLI: --{other}first\)"):
            read_series(tmp_path / "month.csv", dayfirst=dayfirst)
        assert read_series(tmp_path / "month.csv", dayfirst=not dayfirst).index.get_level_values(1).equals(
            pd.DatetimeIndex(month, name="ds"))
    with pytest.raises(InputError, match=r"dayfirst must be True, False or None, got 'yes'"):
        read_series(tmp_path / "late.csv", dayfirst="yes")


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_stamps_saved_as_an_unnamed_index_are_the_time_column(tmp_path, layout):
    # df.to_csv() / df.to_parquet() of a frame indexed by unnamed stamps, the usual way to save one
    plain = wide_frame() if layout == "wide" else long_frame()
    plain.to_csv(tmp_path / "plain.csv", index=False)
    expected = read_series(tmp_path / "plain.csv", layout=layout)
    indexed = plain.set_index("ds").rename_axis(None)
    indexed.to_csv(tmp_path / "indexed.csv")
    indexed.to_parquet(tmp_path / "indexed.parquet")
    for name in ("indexed.csv", "indexed.parquet"):
        pd.testing.assert_frame_equal(read_series(tmp_path / name, layout=layout), expected)


def test_a_file_given_twice_is_named_as_such(tmp_path):
    long_frame().to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError, match=r"x\.csv is given twice \(also as .*x\.csv\); pass each input file once"):
        read_series([tmp_path / "x.csv", tmp_path / "." / "x.csv"])
    with pytest.raises(InputError, match="is given twice"):
        read_series([str(tmp_path / "x.csv")] * 2)


@pytest.mark.parametrize("decimal", [".", ","])
def test_a_file_separated_by_semicolons_is_named_as_such(tmp_path, decimal):
    # European spreadsheets write decimal commas, which gave the data rows more fields than the header
    long_frame().to_csv(tmp_path / "x.csv", index=False, sep=";", decimal=decimal)
    with pytest.raises(InputError, match=r"x\.csv: the header is one name, 'unique_id;ds;y': the file is separated "
                                         r"by ';'; save it comma-separated"):
        read_series(tmp_path / "x.csv")


def test_a_file_not_in_utf8_is_told_to_be_saved_as_utf8(tmp_path):
    # a Latin-1 / cp1252 spreadsheet export
    (tmp_path / "x.csv").write_bytes("unique_id,ds,y\nMünchen,2024-01-01 00:00,1\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"x\.csv as CSV \('utf-8' codec can't decode.*\); save it as UTF-8"):
        read_series(tmp_path / "x.csv")


def test_a_parquet_file_named_csv_is_told_to_be_renamed(tmp_path):
    # its bytes are no text in any encoding: saving it as UTF-8 was the wrong advice
    long_frame().to_parquet(tmp_path / "x.csv", index=False)
    with pytest.raises(InputError, match=r"x\.csv as CSV \(.*\); this is a Parquet file: name it \.parquet \(or "
                                         r"\.pq\)$"):
        read_series(tmp_path / "x.csv")
    with gzip.open(tmp_path / "x.csv.gz", "wb") as packed:  # the same, gzipped
        packed.write((tmp_path / "x.csv").read_bytes())
    with pytest.raises(InputError, match=r"x\.csv\.gz as CSV \(.*\); this is a Parquet file"):
        read_series(tmp_path / "x.csv.gz")



def test_a_csv_file_named_parquet_is_told_to_be_renamed(tmp_path):
    """The reverse mix-up: a CSV saved as .parquet; "check that it is a valid parquet file" did not say why."""
    long_frame().to_csv(tmp_path / "x.parquet", index=False)
    with pytest.raises(InputError, match=r"x\.parquet as PARQUET \(.*\); this is a text file, not Parquet: if it "
                                         r"holds CSV, name it \.csv$"):
        read_series(tmp_path / "x.parquet")
    (tmp_path / "y.parquet").write_bytes(bytes(range(256)))  # no text: only the general advice
    with pytest.raises(InputError, match=r"y\.parquet as PARQUET \(.*\); check that it is a valid parquet file$"):
        read_series(tmp_path / "y.parquet")


MONTHS_WITH_A_GAP_IN_B = "unique_id,ds,y\n" + "".join(
    f"{key},2020-{month:02d}-01,{month}\n"
    for key, months in [("a", range(1, 13)), ("b", [*range(1, 6), *range(7, 13)])] for month in months)


@pytest.mark.parametrize("text, kwargs, error, message", [
    # values that are no numbers, however Python or pandas might read them
    ("unique_id,ds,y\na,1,1\na,2,1_000\na,3,3\n", {}, TypeError,
     r"non-numeric values \(e\.g\. '1_000' at data row 2\)"),
    ("unique_id,ds,y\na,1,True\na,2,False\na,3,True\n", {}, TypeError,
     r"non-numeric values \(e\.g\. True at data row 1\)"),
    # stamps that are neither dates nor integer steps, or missing
    ("unique_id,ds,y\na,1.0,1\na,2.0,2\na,4.5,3\n", {}, InputError,
     r"time column 'ds' holds float64 numbers; use dates \(e\.g\. 2024-01-01 00:00\) or integer time steps$"),
    ("unique_id,ds,y\na,5.0,1\na,15.0,2\na,25.0,3\n", {}, InputError,  # a merge or a gap made the steps float
     r"integer time steps \(these are whole numbers: write them without '\.0', "
     r"e\.g\. df\['ds'\]\.astype\('int64'\)\)$"),
    # dates written as numbers read as integer steps, uneven at each month's end
    ("unique_id,ds,y\na,20240130,1\na,20240131,2\na,20240201,3\n", {}, InputError,
     r"\(20240131 is followed by 20240201, but the usual step is 1\); they look like dates written as numbers "
     r"\(YYYYMMDD\): write them as dates \(2024-01-31\), e\.g\. df\['ds'\] = "
     r"pd\.to_datetime\(df\['ds'\]\.astype\(str\), format='%Y%m%d'\); or reindex"),
    ("unique_id,ds,y\na,2024-01-01,1\na,,2\na,2024-01-03,3\n", {}, InputError,
     r"column 'ds' has empty time stamps \(first at data row 2\)"),
    # three stamps are enough to be uneven; the message names the odd gap and a step that is one of the gaps
    ("unique_id,ds,y\na,1,1\na,2,2\na,4,3\nb,1,1\nb,2,2\nb,3,3\n", {}, InputError,
     r"series 'a' has time stamps that are not evenly spaced \(2 is followed by 4, but the usual step is 1\)"),
    # only the series with repeated stamps are counted
    ("unique_id,ds,y\na,1,1\na,1,2\nb,1,1\nb,2,2\nc,1,1\nc,2,3\n", {}, InputError,
     r"series 'a' has duplicate time stamps .*; 1 series has duplicates"),
    # each stamp's own rows are counted, not every repeated row of the series
    ("unique_id,ds,y\na,1,1\na,1,2\na,2,3\na,2,4\na,3,5\n", {}, InputError,
     r"series 'a' has duplicate time stamps \(e\.g\. 1, 2 rows\)"),
    ("ds,a,b\n2024-01-01,1,2\n2024-01-02,2,3\n", {"layout": "wide", "columns": ["ds", "a"]}, InputError,
     r"'ds' is the time column, not a series; drop it from columns \(CLI: --columns\)"),
    # a nameless first column whose integers repeat is a series that lost its name, not row numbers
    (",ds,a\n5,2024-01-01 00:00,1.0\n5,2024-01-01 01:00,2.0\n7,2024-01-01 02:00,3.0\n", {"layout": "wide"},
     InputError, r"column 1 has no name in the header"),
    # series 'b' starts as 'a' does (whose spacing was checked first) and then skips June
    (MONTHS_WITH_A_GAP_IN_B, {}, InputError,
     r"series 'b' has time stamps that are not evenly spaced \(2020-05-01 00:00:00 is followed by 2020-07-01"),
], ids=["underscore", "bool", "float-stamps", "whole-float-stamps", "yyyymmdd", "empty-stamp", "three-uneven",
        "duplicates-count", "duplicates-rows", "wide-time-column", "unnamed-first-column",
        "months-gap-in-second-series"])
def test_each_file_mistake_is_named_with_its_place(tmp_path, text, kwargs, error, message):
    path = tmp_path / "in.csv"
    path.write_text(text)
    with pytest.raises(error, match=message):
        read_series(path, **kwargs)


def test_a_named_pipe_is_refused_rather_than_read_twice(tmp_path):
    # the header was read once, then read_csv reopened the pipe and waited for a writer already gone
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"in\.csv is not a regular file \(a pipe or a device\); write its contents"):
        read_series(fifo)
