"""read_series, write_forecasts and the output check: details a mutation round found unpinned (the blamed file
after sorting, a column asked for twice, a linked output, extensions in capitals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.batch import file_format, read_series, write_forecasts
from tsrec.batch.io import check_output_path
from tsrec.estimators import InputError

T = pd.date_range("2024-01-01", periods=6, freq="h")


def long_csv(path, key, stamps):
    pd.DataFrame({"unique_id": key, "ds": stamps, "y": np.arange(len(stamps), dtype=float)}).to_csv(path, index=False)
    return path


def test_an_uneven_series_is_blamed_on_its_own_file_after_sorting(tmp_path):
    # the rows of z.csv come first as read, those of a.csv first once sorted by id
    good = long_csv(tmp_path / "z.csv", "z", T)
    bad = long_csv(tmp_path / "a.csv", "a", T.delete(3))
    with pytest.raises(InputError) as caught:
        read_series([good, bad])
    message = str(caught.value)
    assert message.startswith(f"{bad}: series 'a' has time stamps that are not evenly spaced")
    assert str(good) not in message


def test_a_wide_read_refuses_a_series_column_asked_for_twice(tmp_path):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"ds": T, "a": np.arange(6.0), "b": np.arange(6.0)}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"columns has duplicates: \['a', 'a'\]; name each column once"):
        read_series(path, layout="wide", columns=["a", "a"])


def test_an_output_link_into_a_folder_that_takes_no_file_fails_before_the_inputs_are_read(tmp_path):
    # the forecasts are written beside the link's target, so that folder is the one probed
    (tmp_path / "plain_file").write_text("not a folder\n")
    (tmp_path / "out.csv").symlink_to(tmp_path / "plain_file" / "out.csv")
    with pytest.raises(OSError, match="cannot write"):
        check_output_path(tmp_path / "out.csv", [tmp_path / "missing_input.csv"])


def test_extensions_are_read_whatever_their_case(tmp_path):
    assert file_format("SERIES.CSV") == ("csv", None)
    assert file_format("Series.Csv.GZ") == ("csv", "gzip")
    path = long_csv(tmp_path / "EXPORT.CSV", "a", T)
    assert len(read_series(path)) == 6
    out = write_forecasts(pd.DataFrame({"unique_id": ["a"], "y_hat": [1.5]}), tmp_path / "OUT.PARQUET")
    assert pd.read_parquet(out)["y_hat"].tolist() == [1.5]
