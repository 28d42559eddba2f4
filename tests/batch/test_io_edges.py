"""Edges of reading and writing batch series files: inputs given as a Series or array, the same file
twice, one column name as a string, wide Parquet files, OS errors while writing (each pinned by a mutant that lived)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrec.batch.io import check_output_path, read_series
from tsrec.errors import InputError


def _long_csv(path: Path, stamps: list[str]) -> Path:
    path.write_text("unique_id,ds,y\n" + "".join(f"a,{s},{k}\n" for k, s in enumerate(stamps)))
    return path


# (kills io06: zoned stamps not converted to time_zone)
def test_offset_stamps_take_the_given_zone(tmp_path: Path) -> None:
    path = _long_csv(tmp_path / "in.csv", [f"2024-01-0{i}T00:00+01:00" for i in range(1, 4)])
    stamps = read_series(path, time_zone="Europe/Paris").index.get_level_values("ds")
    assert str(stamps.tz) == "Europe/Paris"
    assert stamps[0] == pd.Timestamp("2024-01-01 00:00", tz="Europe/Paris")


# (kills io07: a Series of numbers read as a list of file names)
def test_series_of_values_is_refused_as_data() -> None:
    with pytest.raises(InputError, match=r"the input files are a Series, not paths; forecast an in-memory panel"):
        read_series(pd.Series([1.0, 2.0]))


# (kills io09: the same file under two spellings read twice)
def test_same_file_under_two_spellings_is_refused(tmp_path: Path) -> None:
    path = _long_csv(tmp_path / "in.csv", ["2024-01-01", "2024-01-02", "2024-01-03"])
    (tmp_path / "sub").mkdir()
    other = tmp_path / "sub" / ".." / "in.csv"
    with pytest.raises(InputError, match=r"is given twice \(also as .*in\.csv\); pass each input file once"):
        read_series([path, other])


# (kills io10: columns="y" taken as the list ["y"])
def test_columns_as_one_string_is_refused(tmp_path: Path) -> None:
    path = _long_csv(tmp_path / "in.csv", ["2024-01-01", "2024-01-02", "2024-01-03"])
    with pytest.raises(InputError, match=r"columns must be a non-empty list of column names, got 'y'"):
        read_series(path, columns="y")


# (kills io13: check_output_path's own same-file refusal dropped;
# tests/batch/test_forecast_refusals.py catches it only through forecast_files)
def test_check_output_path_refuses_an_input(tmp_path: Path) -> None:
    from tsrec.batch.io import check_output_path

    path = _long_csv(tmp_path / "in.csv", ["2024-01-01", "2024-01-02"])
    with pytest.raises(InputError, match=r"in\.csv is also an input file \(.*in\.csv\); .*give another output file"):
        check_output_path(tmp_path / "sub" / ".." / "in.csv", [path])


# (kills io18: every naive stamp column written with strftime,
# which drops fractions of a second)
def test_fractional_seconds_are_written(tmp_path: Path) -> None:
    from tsrec.batch.io import write_forecasts

    stamps = pd.to_datetime(["2024-01-01 00:00:00.250", "2024-01-01 00:00:00.500"])
    out = write_forecasts(pd.DataFrame({"ds": stamps}), tmp_path / "out.csv")
    assert out.read_text() == "ds\n2024-01-01 00:00:00.250\n2024-01-01 00:00:00.500\n"


# (kills tb07: a device read as an empty CSV; a named pipe hung)
def test_a_device_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    link = tmp_path / "in.csv"
    link.symlink_to(os.devnull)
    with pytest.raises(InputError, match=r"in\.csv is not a regular file \(a pipe or a device\); write its contents"):
        read_series(link)


# (kills tb15: a wide Parquet file without a --columns series gave
# pandas' KeyError 'c' in place of the missing-column message)
def test_wide_parquet_names_a_missing_series_column(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "wide.parquet"
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3, freq="D"), "a": [1.0, 2.0, 3.0]}).to_parquet(path)
    message = r"wide\.parquet: missing column\(s\) \['c'\]; available columns: \['ds', 'a'\]"
    with pytest.raises(InputError, match=message):
        read_series(path, layout="wide", columns=["c"])


@pytest.mark.parametrize("kind", [pd.Series, np.array])
def test_check_output_path_takes_a_series_or_array_of_inputs(tmp_path: Path, kind) -> None:
    inputs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in inputs:
        path.write_text("unique_id,ds,y\na,2024-01-01,1\n")
    given = kind([str(path) for path in inputs])
    assert check_output_path(tmp_path / "out.csv", given) == tmp_path / "out.csv"
    with pytest.raises(InputError, match=r"b\.csv is also an input file"):
        check_output_path(tmp_path / "b.csv", given)


@pytest.mark.parametrize("given, kind", [
    (np.zeros((2, 3)), "a NumPy array"), (pd.DataFrame({"y": [1.0]}), "a DataFrame"), (b"in.csv", "bytes")])
def test_data_given_as_input_files_is_named_in_words(given, kind) -> None:
    # "the input files are a ndarray" named the class, with the wrong article
    with pytest.raises(InputError, match=rf"^the input files are {kind}, not paths; "):
        read_series(given)
