"""LTSF files must be the published ones: every stamp, the header, and (a warning) the bytes."""

from __future__ import annotations

import os
import warnings
from importlib import resources

import pandas as pd
import pytest

from tsrec.datasets import _datadir, _filecheck, load_ett, load_ltsf, load_ucr, ltsf_split
from tsrec.datasets._filecheck import UnpublishedDataWarning
from tsrec.errors import InputError

from etth1_files import etth1_lines, write_etth1  # tests/datasets/etth1_files.py


def _swap_rows(lines: list[str], i: int, j: int) -> list[str]:
    lines = list(lines)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _redate(lines: list[str], row: int, stamp: str) -> list[str]:
    lines = list(lines)
    lines[row] = stamp + lines[row][lines[row].index(",") :]
    return lines


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda lines: [lines[0], *lines[1:][::-1]], "file line 2 is dated '2018-06-26 19:00:00' but the published"),
        (lambda lines: _swap_rows(lines, 3000, 3001), "file line 3001 is dated .* the published ETTh1 file has"),
        (lambda lines: [lines[0], lines[1], *lines[1:-1]], "file line 3 is dated '2016-07-01 00:00:00'"),
        (lambda lines: _redate(lines, 1, "2015-07-01 00:00:00"), "file line 2 is dated '2015-07-01 00:00:00'"),
        (lambda lines: _redate(lines, 5000, "2017-01-01 00:00:00"), "file line 5001 is dated '2017-01-01 00:00:00'"),
        (lambda lines: _redate(lines, 900, "31/12/2016 00:00"), "'31/12/2016 00:00' on file line 901 is not a date"),
    ],
    ids=["reversed", "two-rows-swapped", "row-repeated", "first-date-wrong", "date-wrong-later", "bad-date-later"],
)
def test_every_stamp_must_be_the_published_one(tmp_path, edit, match):
    folder = write_etth1(tmp_path, edit(etth1_lines()))
    with pytest.raises(InputError, match=match) as info:
        load_ltsf("ETTh1", data_dir=folder)
    assert "re-download" in str(info.value) and "ETTh1.csv" in str(info.value)


def test_weather_allows_only_its_documented_repeat_and_gap(data_dir, tmp_path):
    lines = (data_dir / "weather" / "weather.csv").read_bytes().decode("latin-1").splitlines(keepends=True)
    assert load_ltsf("weather", data_dir).index[-1] == pd.Timestamp("2020-12-31 22:40")
    folder = tmp_path
    (folder / "weather").mkdir()
    (folder / "weather" / "weather.csv").write_bytes("".join(_swap_rows(lines, 100, 101)).encode("latin-1"))
    with pytest.raises(InputError, match="file line 101 is dated '2020-01-01 16:50:00'"):
        load_ltsf("weather", data_dir=folder)


def test_a_header_with_swapped_names_is_refused(tmp_path):
    lines = etth1_lines()
    lines[0] = "date,OT,HULL,MUFL,MULL,LUFL,LULL,HUFL\n"
    with pytest.raises(InputError, match="header column 1 is 'OT' but the published ETTh1 file has 'HUFL'"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, lines))


def test_other_bytes_warn_once_with_both_digests(tmp_path):
    lines = [line.replace("\n", "\r\n") for line in etth1_lines()]  # the same numbers, other line endings
    folder = write_etth1(tmp_path, lines)
    with pytest.warns(UnpublishedDataWarning, match=r"ETTh1.csv \(SHA-256 [0-9a-f]{64}\) is not byte-identical") as rec:
        df = load_ltsf("ETTh1", data_dir=folder)
    assert "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066" in str(rec[0].message)
    pd.testing.assert_frame_equal(df, load_ett("ETTh1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_ltsf("ETTh1", data_dir=folder)  # the same copy again: no second warning
        load_ltsf("ETTh1")  # the published bytes: none


def test_another_sets_published_file_is_refused_by_its_digest(data_dir, tmp_path):
    # same shape, header and stamps: ETTm2 saved as ETTm1.csv (as ETDataset held them in early 2021) loaded as ETTm1
    etth2 = (resources.files("tsrec.datasets") / "data" / "ETTh2.csv").read_text().splitlines(keepends=True)
    with pytest.raises(InputError, match=r"ETTh1.csv is the published ETTh2 file, not ETTh1: its SHA-256 is ETTh2's\. "
                                         r"Re-download ETTh1, or rename this file to ETTh2.csv to load it as 'ETTh2'"):
        load_ltsf("ETTh1", data_dir=write_etth1(tmp_path, etth2))
    (tmp_path / "m" / "ETT").mkdir(parents=True)
    (tmp_path / "m" / "ETT" / "ETTm1.csv").symlink_to(data_dir / "ETT" / "ETTm2.csv")
    with pytest.raises(InputError, match=r"the published ETTm2 file, not ETTm1: its SHA-256 is ETTm2's \(ETDataset "
                                         r"held the two swapped from December 2020 to March 2021\)"):
        load_ltsf("ETTm1", data_dir=tmp_path / "m")


def test_digests_are_cached_per_path_size_and_times(tmp_path, monkeypatch):
    path = tmp_path / "f.csv"
    path.write_bytes(b"abc")
    calls = []
    real = _filecheck.hashlib.sha256
    monkeypatch.setattr(_filecheck.hashlib, "sha256", lambda: calls.append(1) or real())
    first = _filecheck.file_sha256(path)
    assert _filecheck.file_sha256(path) == first and len(calls) == 1
    path.write_bytes(b"abcd")
    second = _filecheck.file_sha256(path)
    assert second != first and len(calls) == 2
    # an edit of the same size with the modification time put back (cp -p, rsync -a) was read as the old file
    mtime = path.stat().st_mtime_ns
    path.write_bytes(b"abce")
    os.utime(path, ns=(mtime, mtime))
    assert _filecheck.file_sha256(path) not in (first, second) and len(calls) == 3


def test_an_lfs_pointer_csv_is_named(tmp_path):
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 2589081\n"
    (tmp_path / "ETT").mkdir()
    (tmp_path / "ETT" / "ETTm1.csv").write_text(pointer)
    with pytest.raises(InputError, match="ETTm1.csv is a Git LFS pointer file.*git lfs pull"):
        load_ltsf("ETTm1", data_dir=tmp_path)


def test_ltsf_split_refuses_repeated_stamps():
    df = load_ett("ETTh1")
    df = pd.concat([df.iloc[:1], df]).iloc[: len(df)]
    with pytest.raises(InputError, match="df's time stamps repeat \\(2016-07-01 00:00:00 appears more than once\\)"):
        ltsf_split(df, "ETTh1", 96)


def test_a_file_read_past_tsrec_data_warns(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TSREC_DATA", str(tmp_path))  # a folder without the file
    monkeypatch.setattr(_datadir, "DEV_DATA", data_dir)
    with pytest.warns(UserWarning, match=f"national_illness.csv is not in TSREC_DATA='{tmp_path}', so it was read"):
        assert len(load_ltsf("illness")) == 966
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_ltsf("illness", data_dir=data_dir)  # data_dir is searched alone: nothing to warn about


def test_a_data_folder_of_links_to_a_shared_store_does_not_warn(data_dir, monkeypatch, tmp_path):
    # the file was found in TSREC_DATA, first; its link's target outside it read as "further down the search"
    source = next(data_dir.rglob("national_illness.csv"))
    linked = tmp_path / source.relative_to(data_dir)
    linked.parent.mkdir(parents=True, exist_ok=True)
    linked.symlink_to(source)
    monkeypatch.setenv("TSREC_DATA", str(tmp_path))
    monkeypatch.setattr(_datadir, "DEV_DATA", data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_ltsf("illness")) == 966


def test_a_published_problem_with_more_cases_than_published_is_refused(data_dir, tmp_path):
    """A copy with cases added (a test case pasted into the train file) is not the published split:
    scores on it would not compare, so extra cases are refused as missing ones are."""
    source = data_dir / "UCR_UEA" / "GunPoint" / "GunPoint_TRAIN.ts"
    text = source.read_text(encoding="utf-8-sig")
    (tmp_path / "GunPoint").mkdir()
    (tmp_path / "GunPoint" / "GunPoint_TRAIN.ts").write_text(text + text.rstrip("\n").rsplit("\n", 1)[1] + "\n")
    with pytest.raises(ValueError, match=r"has 51 cases but the published GunPoint train split has 50"):
        load_ucr("GunPoint", data_dir=tmp_path)


def test_a_ucr_file_read_past_tsrec_data_warns(monkeypatch, tmp_path):
    """load_ucr warns as the forecasting loaders do: TSREC_DATA lacks GunPoint, so the copy read is
    sktime's, which the user who set the variable did not mean to read."""
    monkeypatch.setenv("TSREC_DATA", str(tmp_path))  # a folder without the file
    monkeypatch.setattr(_datadir, "DEV_DATA", tmp_path / "nowhere")
    with pytest.warns(UserWarning, match=f"GunPoint_TRAIN.ts is not in TSREC_DATA='{tmp_path}', so it was read"):
        X, _ = load_ucr("GunPoint")
    assert X.shape == (50, 150)
