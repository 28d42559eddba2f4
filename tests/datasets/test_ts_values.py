""".ts values must be finite numbers (missing only where declared); packed files get the right advice; make_ar."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest

from tsrec.datasets import load_ucr, make_ar
from tsrec.datasets._filecheck import UnpublishedDataWarning
from tsrec.errors import InputError

HEADER = "@problemName Toy\n@missing {missing}\n@univariate true\n@equalLength true\n@classLabel true a b\n@data\n"


def _toy(tmp_path: Path, body: str, missing: str = "false") -> Path:
    return _toy_header(tmp_path, HEADER.format(missing=missing), body)


def _toy_header(tmp_path: Path, header: str, body: str) -> Path:
    (tmp_path / "Toy").mkdir(exist_ok=True)
    path = tmp_path / "Toy" / "Toy_TRAIN.ts"
    path.write_text(header + body)
    return path


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("inf", "line 8: value 2 'inf' is infinite"),
        ("1e999", "line 8: value 2 '1e999' is infinite"),
        ("-inf", "line 8: value 2 '-inf' is infinite"),
        ("1_000", r"line 8: value 2 '1_000' holds '_'.*write the plain number \(1000\)"),
        ("nan", "line 8: value 2 'nan' marks a missing value but the header says @missing false"),
        ("?", r"line 8: value 2 '\?' marks a missing value but the header says @missing false.*@missing true"),
    ],
)
def test_values_that_are_not_finite_numbers_are_refused(tmp_path, value, match):
    path = _toy(tmp_path, f"1,2,3:a\n4,{value},6:b\n")
    with pytest.raises(InputError, match=match) as info:
        load_ucr("Toy", data_dir=tmp_path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize("value", ["?", "nan"])
def test_missing_values_load_as_nan_where_the_header_allows_them(tmp_path, value):
    _toy(tmp_path, f"1,2,3:a\n4,{value},6:b\n", missing="true")
    X, _ = load_ucr("Toy", data_dir=tmp_path)
    assert np.isnan(X[1, 1]) and np.isfinite(np.delete(X.ravel(), 4)).all()


def test_inf_is_refused_even_where_missing_values_are_allowed(tmp_path):
    _toy(tmp_path, "1,2,3:a\n4,inf,6:b\n", missing="true")
    with pytest.raises(InputError, match="line 8: value 2 'inf' is infinite"):
        load_ucr("Toy", data_dir=tmp_path)


def test_a_gzipped_ts_file_is_told_to_gunzip(data_dir, tmp_path):
    (tmp_path / "GunPoint").mkdir()
    source = (data_dir / "UCR_UEA" / "GunPoint" / "GunPoint_TRAIN.ts").read_bytes()
    (tmp_path / "GunPoint" / "GunPoint_TRAIN.ts").write_bytes(gzip.compress(source))
    with pytest.raises(InputError, match="GunPoint_TRAIN.ts is gzip-compressed.*gunzip GunPoint_TRAIN.ts.gz") as info:
        load_ucr("GunPoint", data_dir=tmp_path)
    assert "iconv" not in str(info.value)


def test_an_lfs_pointer_ts_file_is_told_to_fetch_the_data(tmp_path):
    (tmp_path / "GunPoint").mkdir()
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:f842\nsize 123\n"
    (tmp_path / "GunPoint" / "GunPoint_TRAIN.ts").write_text(pointer)
    with pytest.raises(InputError, match="is a Git LFS pointer file.*git lfs pull"):
        load_ucr("GunPoint", data_dir=tmp_path)


def test_header_tags_and_values_may_be_parted_by_a_tab(tmp_path):
    path = _toy(tmp_path, "1,2,3:a\n4,5,6:b\n")
    path.write_text(path.read_text().replace("@classLabel true", "@classLabel\ttrue"))
    X, y = load_ucr("Toy", data_dir=tmp_path)
    assert X.shape == (2, 3) and list(y) == ["a", "b"]


def test_a_flipped_label_warns_with_the_published_digest(data_dir, tmp_path):
    lines = (data_dir / "UCR_UEA" / "GunPoint" / "GunPoint_TRAIN.ts").read_bytes().decode().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("@data")) + 1
    lines[first] = lines[first].rstrip()[:-1] + "1\n"  # label 2 -> 1: parses cleanly
    (tmp_path / "GunPoint").mkdir()
    (tmp_path / "GunPoint" / "GunPoint_TRAIN.ts").write_bytes("".join(lines).encode())
    published = "f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5"
    with pytest.warns(UnpublishedDataWarning, match=f"published GunPoint train file \\(SHA-256 {published}\\)"):
        load_ucr("GunPoint", data_dir=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_ucr("GunPoint", data_dir=data_dir)  # the published bytes: no warning


def test_make_ar_with_more_lags_than_burn_in_returns_no_zero_start():
    y = make_ar((0.001,) * 250, n_samples=100, noise=1.0)
    assert (y != 0).all()
    assert (make_ar((0.5,), n_samples=20, burn_in=0) != 0).all()


def test_make_ar_default_output_is_unchanged():
    # the documented recursion with the default burn-in of 200 (more than the 3 lags): the fix must not move it
    coef = np.array([0.2, 0.3, -0.5])
    shocks = 0.1 * np.random.default_rng(0).standard_normal(10_200)
    y = np.zeros(10_200)
    for t in range(3, 10_200):
        y[t] = coef @ y[t - 3 : t][::-1] + shocks[t]
    np.testing.assert_array_equal(make_ar().to_numpy(), y[200:])


def test_a_question_mark_is_missing_where_the_header_does_not_say_missing_false(tmp_path):
    _toy_header(tmp_path, "@problemName Toy\n@univariate true\n@classLabel true a b\n@data\n", "1,?,3:a\n4,5,6:b\n")
    X, _ = load_ucr("Toy", data_dir=tmp_path)
    np.testing.assert_array_equal(np.isnan(X), [[False, True, False], [False, False, False]])


def test_the_declared_dimensions_are_checked_from_the_first_case(tmp_path):
    _toy_header(tmp_path, "@problemName Toy\n@dimensions 2\n@classLabel true a b\n@data\n", "1,2,3:a\n4,5,6:b\n")
    with pytest.raises(InputError, match="line 5: 1 channels, expected 2"):
        load_ucr("Toy", data_dir=tmp_path)


def test_a_label_may_be_parted_from_the_values_by_spaces(tmp_path):
    _toy(tmp_path, "1,2,3: a\n4,5,6:b \n")
    _, y = load_ucr("Toy", data_dir=tmp_path)
    assert list(y) == ["a", "b"]
