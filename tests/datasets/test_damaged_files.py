"""Damaged, truncated or mislabelled benchmark files and bad generator arguments fail with a message."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from tsrec.datasets import _datadir, load_ltsf, load_ucr, ltsf_split, make_ar, make_seasonal
from tsrec.datasets.ucr import sktime_data_folder

from etth1_files import etth1_lines, write_etth1  # tests/datasets/etth1_files.py


def test_a_truncated_ltsf_file_is_refused(tmp_path):
    folder = write_etth1(tmp_path, etth1_lines()[:-100])
    with pytest.raises(ValueError, match="17320 rows and 7 value columns, but the ETTh1 benchmark has 17420 and 7"):
        load_ltsf("ETTh1", data_dir=folder)


def test_a_damaged_value_is_refused_with_its_line(tmp_path):
    lines = etth1_lines()
    date, first, *rest = lines[500].split(",")
    lines[500] = ",".join([date, first.replace(".", "x", 1), *rest])
    with pytest.raises(ValueError, match=r"column 'HUFL' has a value that is not a finite number .*file line 501"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


@pytest.mark.parametrize("written", ["", "nan", "inf"])
def test_a_missing_value_is_shown_as_the_file_writes_it(tmp_path, written):
    # pandas reads an empty field and 'nan' alike: the message showed np.float64(nan) for both
    lines = etth1_lines()
    date, _, *rest = lines[7].split(",")
    lines[7] = ",".join([date, written, *rest])
    shown = r"inf" if written == "inf" else r"an empty field or 'nan'"
    with pytest.raises(ValueError, match=rf"column 'HUFL' has a value that is not a finite number \({shown}, "
                                         r"file line 8\)"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


def test_a_file_without_a_date_column_shows_its_header(tmp_path):
    lines = etth1_lines()
    lines[0] = lines[0].replace("date", "Date", 1)
    with pytest.raises(ValueError, match=r"needs a 'date' column and at least one row, but its header reads \['Date', "
                                         r"'HUFL', .*comma-separated, UTF-8, header 'date,\.\.\.'"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is not a readable CSV file"),
        (gzip.compress(b"date,a\n2020-01-01,1\n" * 50, mtime=0), "is gzip-compressed.*gunzip national_illness.csv.gz"),
    ],
    ids=["empty", "gzipped"],
)
def test_unreadable_ltsf_files_name_the_file(tmp_path, content, match):
    (tmp_path / "illness").mkdir()
    (tmp_path / "illness" / "national_illness.csv").write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        load_ltsf("illness", data_dir=tmp_path)
    assert "national_illness.csv" in str(info.value)


def test_a_bad_first_date_names_the_file(tmp_path):
    lines = etth1_lines()
    lines[1] = "not a date" + lines[1][lines[1].index(","):]
    with pytest.raises(ValueError, match=r"ETTh1.csv: the 'date' value 'not a date' on file line 2 is not a date"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


def test_a_truncated_ucr_file_is_refused(tmp_path):
    source = sktime_data_folder() / "GunPoint" / "GunPoint_TRAIN.ts"
    lines = source.read_text().splitlines(keepends=True)
    (tmp_path / "GunPoint").mkdir()
    (tmp_path / "GunPoint" / "GunPoint_TRAIN.ts").write_text("".join(lines[:-10]))
    with pytest.raises(ValueError, match="has 40 cases but the published GunPoint train split has 50"):
        load_ucr("GunPoint", data_dir=tmp_path)
    shutil.copy(source, tmp_path / "GunPoint" / "GunPoint_TRAIN.ts")
    assert load_ucr("GunPoint", data_dir=tmp_path)[0].shape == (50, 150)


def test_load_ucr_refuses_an_array_pad():
    with pytest.raises(ValueError, match="pad must be 'error' or 'last'"):
        load_ucr("GunPoint", pad=np.array(["last"]))


def test_ltsf_split_refuses_a_frame_of_another_step(data_dir):
    with pytest.raises(ValueError, match="sampled every 15min but ETTh1 every h"):
        ltsf_split(load_ltsf("ETTm1", data_dir), "ETTh1", 96)


@pytest.mark.parametrize("rows", [1, 4])
def test_ltsf_split_refuses_a_frame_too_short_for_every_part(data_dir, rows):
    with pytest.raises(ValueError, match=f"the frame has {rows} rows, too few for the 70/10/20 split"):
        ltsf_split(load_ltsf("illness", data_dir).iloc[:rows], "illness", 1)
    assert [len(part) for part in ltsf_split(load_ltsf("illness", data_dir).iloc[:5], "illness", 1)] == [3, 2, 2]


def test_a_tsrec_data_that_is_no_folder_warns(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TSREC_DATA", str(tmp_path / "typo"))
    monkeypatch.setattr(_datadir, "DEV_DATA", data_dir)
    with pytest.warns(UserWarning, match="TSREC_DATA=.*typo' is not a folder"):
        assert len(load_ltsf("illness")) == 966


@pytest.mark.parametrize("seed", [-1, "7", 1.5, True])
def test_generators_name_a_bad_random_state(seed):
    for make in (make_ar, make_seasonal):
        with pytest.raises(ValueError, match="random_state must be None or an integer >= 0"):
            make(n_samples=10, random_state=seed)


@pytest.mark.parametrize(("kwargs", "match"), [({"freq": "xx"}, "freq must be"), ({"freq": None}, "freq must be"),
                                               ({"start": "soon"}, "start must be a date")])
def test_make_seasonal_names_a_bad_index_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_seasonal(n_samples=10, **kwargs)
