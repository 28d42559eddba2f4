"""forecast_files and forecast_panel: arguments refused before any input file is read, and what the refusals
found in the panel name (details a mutation round found unpinned)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import forecast_files, forecast_panel
from tsrec.estimators import ARNetForecaster, InputError
from tsrec.estimators.errors import InSampleError

T = pd.date_range("2024-01-01", periods=40, freq="h")


@pytest.fixture(scope="module")
def model():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        pd.Series(np.sin(np.arange(40.0) / 3), index=T))


def panel(ids, n=40):
    return pd.concat({k: pd.DataFrame({"y": np.cos(np.arange(n) / 4.0 + i)}, index=T[:n]) for i, k in enumerate(ids)},
                     names=["unique_id", "ds"])


def long_file(path, ids, n=40):
    panel(ids, n).reset_index().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("options, error, match", [
    ({"fh": 0}, InSampleError, "fh must be >= 1"),
    ({"chunk_size": 0}, InputError, "chunk_size must be a positive int, got 0"),
    ({"engine": "dask", "npartitions": 0}, InputError, "npartitions must be a positive int, got 0"),
    ({"engine": "dask", "npartitions": 2.0}, InputError, "npartitions must be a positive int, got 2.0"),
])
def test_bad_options_are_refused_before_any_input_file_is_read(model, tmp_path, options, error, match):
    # a missing input is never reached: on large inputs the refusal comes before the slow reading
    with pytest.raises(error, match=match):
        forecast_files(model, tmp_path / "not_there.csv", tmp_path / "out.csv", **options)


def test_an_error_found_in_the_panel_names_up_to_three_input_files(model, tmp_path):
    paths = [long_file(tmp_path / f"in{i}.csv", [f"s{i}"], n=3) for i in range(3)]  # shorter than the lookback
    with pytest.raises(InputError) as caught:
        forecast_files(model, paths, tmp_path / "out.csv")
    assert str(caught.value).startswith(", ".join(map(str, paths)) + ": ")


def test_an_output_folder_that_takes_no_file_fails_before_any_input_is_read(model, tmp_path):
    (tmp_path / "plain_file").write_text("not a folder\n")
    with pytest.raises(OSError, match=r"cannot write .*plain_file.*out\.csv") as caught:
        forecast_files(model, tmp_path / "not_there.csv", tmp_path / "plain_file" / "out.csv")
    assert not isinstance(caught.value, InputError)  # not the missing input: that file is never read


def test_more_than_ten_short_series_list_ten_and_count_the_rest(model):
    short = pd.concat({f"s{i:02d}": pd.DataFrame({"y": [1.0, 2.0]}, index=T[:2]) for i in range(12)},
                      names=["unique_id", "ds"])
    with pytest.raises(InputError, match=r"12 series are shorter .*'s09' \(2 rows\) and 2 more; give each series") as e:
        forecast_panel(model, short)
    assert "'s10'" not in str(e.value)


@pytest.mark.parametrize("chunk_size", [0, -1, True, 2.0])
def test_a_chunk_size_that_is_no_positive_int_is_named(model, chunk_size):
    with pytest.raises(InputError, match=rf"chunk_size must be a positive int, got {chunk_size!r}"):
        forecast_panel(model, panel(["a"]), chunk_size=chunk_size)


def test_a_numpy_integer_chunk_size_is_a_count(model):
    # a size from a NumPy array or a parameter grid: a positive int like any other
    data = panel(["a", "b", "c"])
    pd.testing.assert_frame_equal(forecast_panel(model, data, chunk_size=np.int64(2)),
                                  forecast_panel(model, data, chunk_size=2))
