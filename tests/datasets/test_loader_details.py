"""Loader details the other dataset tests left open: each pins a behaviour a one-line change broke
unnoticed (a mutation round over tsrec/datasets/); the docstrings say what that change did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrec.datasets import list_ucr, load_ltsf, load_ucr, ltsf_split
from tsrec.datasets._filecheck import UnpublishedDataWarning
from tsrec.datasets.ltsf import _find_file
from tsrec.errors import InputError, InputFileNotFoundError

from etth1_files import etth1_lines, write_etth1  # tests/datasets/etth1_files.py

LABELLED = "@problemName Foo\n@univariate true\n@equalLength false\n@classLabel true a b\n@data\n"


def _put(root: Path, where: str, body: str) -> Path:
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


# ---------------------------------------------------------------- LTSF files


@pytest.mark.parametrize("change", ["extra column", "missing column"])
def test_an_ltsf_file_with_another_number_of_columns_is_refused(tmp_path, change):
    """Found by mutation (shape check reduced to the row count): the header check zips the header with the published
    one, so it stops at the shorter: only the shape check refuses an added or a dropped last column."""
    lines = etth1_lines()
    if change == "extra column":
        lines = [line.rstrip("\n") + (",extra\n" if i == 0 else ",1.0\n") for i, line in enumerate(lines)]
    else:
        lines = [line.rstrip("\n").rsplit(",", 1)[0] + "\n" for line in lines]
    n_columns = 8 if change == "extra column" else 6
    expected = f"17420 rows and {n_columns} value columns, but the ETTh1 benchmark has 17420 and 7"
    with pytest.raises(InputError, match=expected):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


def test_an_ltsf_file_of_a_header_alone_is_said_to_have_no_rows(tmp_path):
    """Found by mutation (``or df.empty`` dropped): a header without rows is named as such, not as a truncated copy."""
    with pytest.raises(InputError, match="needs a 'date' column and at least one row, but it has no data rows"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, etth1_lines()[:1]))


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_weather_copy_with_the_units_in_its_header_loads_with_a_warning(tmp_path, encoding):
    """Found by mutation (header compared without mapping non-ASCII to U+FFFD) and another (no
    encoding_errors='replace'): the docstring promises that a copy whose header holds the real units (W/m², µmol)
    passes, in UTF-8 or Latin-1 bytes; its digest differs, so it warns."""
    published = _find_file("weather", None)  # the data folder's published file
    header, rest = published.read_bytes().split(b"\n", 1)
    text = header.decode("utf-8")
    units = text.replace("W/m\ufffd", "W/m\u00b2").replace("\ufffdmol/m\ufffd", "\u00b5mol/m\u00b2")
    assert units != text
    (tmp_path / "weather").mkdir()
    (tmp_path / "weather" / "weather.csv").write_bytes(units.encode(encoding) + b"\n" + rest)
    with pytest.warns(UnpublishedDataWarning):
        df = load_ltsf("weather", data_dir=tmp_path)
    assert df.shape == (52696, 21)
    assert "SWDR (W/m" in df.columns[16]


# ---------------------------------------------------------------- ltsf_split


def test_a_three_row_frame_at_another_step_is_named_another_data_set():
    """Found by mutation (frequency inferred from 4 rows, not 3): pandas infers a frequency from 3 stamps, so a 3-row
    frame sampled daily under an hourly name is told it is another data set, not that it has a gap."""
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.DatetimeIndex(["2016-07-01", "2016-07-02", "2016-07-03"]))
    with pytest.raises(ValueError, match="df is sampled every D but ETTh1 every h: is it another data set"):
        ltsf_split(df, "ETTh1", lookback=1)


# ---------------------------------------------------------------- data folder


def test_an_empty_tsrec_data_does_not_search_the_current_folder(tmp_path, monkeypatch):
    """Found by mutation (``if env is not None``): TSREC_DATA='' counts as unset, per the module docstring; as Path('')
    it would search the current folder and read whatever file lies there."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED + "1,2:a\n3,4:b\n")
    monkeypatch.setenv("TSREC_DATA", "")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputFileNotFoundError, match="UCR/UEA file for 'Foo'"):
        load_ucr("Foo")


# ---------------------------------------------------------------- UCR/UEA


def test_two_series_lengths_with_pad_error_name_the_option(tmp_path):
    """Found by mutation (``len(set(lengths)) > 2``): with exactly two lengths numpy's own stacking error came out,
    without the advice to pass pad='last'."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED + "1,2,3:a\n4,5:b\n")
    with pytest.raises(ValueError, match=r"Foo_TRAIN.ts has unequal series lengths \(2..3\); pass pad='last'"):
        load_ucr("Foo", data_dir=tmp_path)


def test_the_ucr_uea_problem_folder_is_searched_before_the_problem_folder(tmp_path):
    """Found by mutation (the first two folders swapped): the documented order is UCR_UEA/<name>/ first,
    then <name>/."""
    _put(tmp_path, "UCR_UEA/Foo/Foo_TRAIN.ts", LABELLED + "1,2:a\n")
    _put(tmp_path, "Foo/Foo_TRAIN.ts", LABELLED + "9,9:b\n")
    X, y = load_ucr("Foo", data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[1.0, 2.0]])
    assert list(y) == ["a"]


def test_an_upper_case_split_finds_a_lower_case_file(tmp_path):
    """Found by mutation (the split passed to the search as given): split is case-insensitive, so split='TRAIN' must
    find <name>_train.ts as split='train' does."""
    _put(tmp_path, "Foo_train.ts", LABELLED + "1,2:a\n")
    X, y = load_ucr("Foo", "TRAIN", data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[1.0, 2.0]])


def test_a_problem_whose_files_say_classlabel_false_is_not_listed(tmp_path):
    """Found by mutation (any '@classLabel' line counts): '@classLabel false' declares no labels, and load_ucr refuses
    such a file, so list_ucr must not list it."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED.replace("@classLabel true a b", "@classLabel false") + "1,2:a\n")
    assert list_ucr(tmp_path) == []


def test_a_problem_is_listed_when_one_of_its_files_has_class_labels(tmp_path):
    """Found by mutation (``any`` -> ``all``): list_ucr lists a problem whose train *or* test file declares class
    labels."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED + "1,2:a\n")
    _put(tmp_path, "Foo_TEST.ts", LABELLED.replace("@classLabel true a b", "@targetLabel true") + "1,2:0.5\n")
    assert list_ucr(tmp_path) == ["Foo"]


def test_classlabel_true_without_labels_is_refused_at_data(tmp_path):
    """Found by mutation (``len(words) < 1``): '@classLabel true' with no labels is named at @data, not as an unknown
    label on every data line."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED.replace("@classLabel true a b", "@classLabel true") + "1,2:a\n")
    with pytest.raises(ValueError, match=r"line 5: '@classLabel true <labels>' must come before @data"):
        load_ucr("Foo", data_dir=tmp_path)


# ---------------------------------------------------------------- names, frames, headers


def test_a_repeated_stamp_is_named_where_it_repeats():
    """Found by mutation (the message names the frame's first stamp): the repeated stamp, not index[0], is the one to
    find."""
    df = load_ltsf("ETTh1")
    doubled = pd.concat([df.iloc[:100], df.iloc[99:]])
    with pytest.raises(InputError, match=r"df's time stamps repeat \(2016-07-05 03:00:00 appears more than once\)"):
        ltsf_split(doubled, "ETTh1", lookback=96)


def test_a_time_zone_aware_ett_frame_splits_as_the_naive_one():
    """Found by mutation (no tz_localize(None) before comparing the first stamp): a frame localized to UTC starts at
    the file's first stamp too; compared tz-aware with naive it read as a frame that starts late."""
    df = load_ltsf("ETTh1")
    parts = ltsf_split(df.tz_localize("UTC"), "ETTh1", lookback=96)
    assert [len(p) for p in parts] == [8640, 2976, 2976]


def test_an_array_as_the_name_is_told_the_names():
    """Found by mutation (the type check dropped before ``in``): an array reaching ``in`` raised numpy's 'truth value
    of an array is ambiguous' in place of the list of names."""
    with pytest.raises(ValueError, match=r"unknown data set name=array\(\['ETTh1', 'ETTh2'\].*choose one of"):
        load_ltsf(np.array(["ETTh1", "ETTh2"]))


def test_a_name_with_a_suffix_is_told_the_close_name():
    """Found by mutation (difflib cutoff 0.9): 'weather_data' is close to 'weather' (ratio 0.74) and is told so."""
    with pytest.raises(ValueError, match="did you mean 'weather'"):
        load_ltsf("weather_data")


def test_a_zip_archive_is_told_to_put_its_member_in_place(tmp_path):
    """Found by mutation (the zip advice dropped): unzip extracts under the member's own name, which the message must
    say."""
    import zipfile

    path = tmp_path / "Foo_TRAIN.ts"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("inner.ts", LABELLED + "1,2:a\n")
    with pytest.raises(InputError, match="unzip Foo_TRAIN.ts.zip and put the file it holds in its place"):
        load_ucr("Foo", data_dir=tmp_path)


def test_a_classlabel_line_after_data_does_not_list_the_problem(tmp_path):
    """Found by mutation (the header scan goes past @data): load_ucr refuses a file whose '@classLabel true' comes
    after @data, so list_ucr must not list it."""
    body = "@problemName Foo\n@univariate true\n@data\n@classLabel true a b\n1,2:a\n"
    _put(tmp_path, "Foo_TRAIN.ts", body)
    assert list_ucr(tmp_path) == []
    with pytest.raises(ValueError, match="must come before @data"):
        load_ucr("Foo", data_dir=tmp_path)


def test_a_missing_header_that_is_not_true_or_false_is_damaged(tmp_path):
    """Found by mutation ('missing' dropped from the true/false tags): '@missing maybe' would silently allow '?'."""
    _put(tmp_path, "Foo_TRAIN.ts", LABELLED.replace("@equalLength false", "@missing maybe") + "1,?:a\n")
    with pytest.raises(InputError, match="line 3: @missing must be 'true' or 'false', got 'maybe'"):
        load_ucr("Foo", data_dir=tmp_path)


def test_make_seasonal_columns_are_numbered_from_zero():
    """Found by mutation (columns from y1): the docstring promises columns y0, y1, ...; cycle[:, i] belongs to y<i>."""
    from tsrec.datasets import make_seasonal

    y, cycle = make_seasonal(n_samples=4, period=2, n_channels=2)
    assert list(y.columns) == ["y0", "y1"]


def test_a_padded_length_just_over_the_memory_is_refused(monkeypatch, tmp_path):
    """The bound is the memory itself: 2 series padded to 100 values need 1600 bytes, more than 1000."""
    from tsrec.kernels import _memory

    monkeypatch.setattr(_memory, "physical_memory", lambda: 1000)
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "Toy_TRAIN.ts").write_text(
        "@problemName Toy\n@univariate true\n@equalLength false\n@classLabel true a b\n@data\n1,2:a\n3:b\n")
    with pytest.raises(ValueError, match=r"length=100 pads 2 series of 1 channel\(s\) to"):
        load_ucr("Toy", data_dir=tmp_path, pad="last", length=100)
    assert load_ucr("Toy", data_dir=tmp_path, pad="last", length=50)[0].shape == (2, 50)  # 800 bytes fit
