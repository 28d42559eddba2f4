""".ts header values are checked with the line and the fix; packed files of every common format are named."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tsrec.datasets import load_ltsf, load_ucr
from tsrec.errors import InputError

HEADER = "@problemName Toy\n@missing false\n@univariate {uni}\n{extra}@equalLength {eq}\n@classLabel true a b\n@data\n"


def _toy(tmp_path: Path, body: str, uni: str = "true", eq: str = "true", extra: str = "") -> Path:
    (tmp_path / "Toy").mkdir(exist_ok=True)
    path = tmp_path / "Toy" / "Toy_TRAIN.ts"
    path.write_text(HEADER.format(uni=uni, eq=eq, extra=extra) + body)
    return path


@pytest.mark.parametrize(
    ("extra", "uni", "body"),
    [("@dimensions 0\n", "true", "1,2:a\n"), ("@seriesLength 0\n", "true", "1,2:a\n"),
     ("@seriesLength \u00b2\n", "true", "1,2:a\n"), ("@dimensions \u0662\n", "false", "1,2:3,4:a\n")],
    ids=["zero-dimensions", "zero-length", "superscript-two", "arabic-indic-two"],
)
def test_header_integers_must_be_positive_ascii_numbers(tmp_path, extra, uni, body):
    path = _toy(tmp_path, body, uni=uni, extra=extra)
    tag, value = extra.strip().split()
    bad = f"line 4: {tag} must be a positive integer in ASCII digits, got '{value}'"
    with pytest.raises(InputError, match=f"{bad}.*re-download") as info:
        load_ucr("Toy", data_dir=tmp_path)
    assert str(info.value).startswith(str(path))


def test_header_integers_in_ascii_digits_are_read(tmp_path):
    _toy(tmp_path, "1,2:3,4:a\n5,6:7,8:b\n", uni="false", extra="@dimensions 2\n@seriesLength 2\n")
    X, _ = load_ucr("Toy", data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])


@pytest.mark.parametrize("uni", ["true", "false"])
def test_equal_length_files_with_unequal_cases_are_damaged(tmp_path, uni):
    cases = ["1,2,3", "4,5,6", "7,8", "9"] if uni == "true" else ["1,2,3:1,2,3", "4,5,6:4,5,6", "7,8:7,8", "9:9"]
    _toy(tmp_path, "".join(f"{case}:a\n" for case in cases), uni=uni)
    first_short = len(HEADER.format(uni=uni, eq="true", extra="").splitlines()) + 3  # the third case differs first
    differs = f"line {first_short}: series length 2, but the header says @equalLength true "
    differs += "and the first case has length 3"
    with pytest.raises(InputError, match=differs):
        load_ucr("Toy", data_dir=tmp_path, pad="last")
    _toy(tmp_path, "".join(f"{case}:a\n" for case in cases), uni=uni, eq="false")  # declared unequal: read
    assert load_ucr("Toy", data_dir=tmp_path, pad="last")[0].shape[-1] == 3


def test_time_stamps_are_refused_with_a_fix(tmp_path):
    _toy(tmp_path, "(0,1),(1,2):a\n", extra="@timeStamps true\n")
    with pytest.raises(ValueError, match="line 4: @timeStamps true is not supported.*@timeStamps false"):
        load_ucr("Toy", data_dir=tmp_path)


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("file", data)
    return buffer.getvalue()


PACKERS = {
    "gzip": (lambda data: gzip.compress(data, mtime=0), "gzip-compressed", "gunzip"),
    "zip": (_zip, "a zip archive", "unzip"),
    "bzip2": (bz2.compress, "bzip2-compressed", "bunzip2"),
    "xz": (lzma.compress, "xz-compressed", "unxz"),
    # no zstd module in the standard library: the frame's magic number and a few bytes stand for one
    "zstd": (lambda data: b"\x28\xb5\x2f\xfd" + bytes(range(200, 256)) + data, "zstd-compressed", "unzstd"),
}


@pytest.mark.parametrize("packer", sorted(PACKERS))
def test_packed_files_name_their_format_and_the_unpacking_command(tmp_path, packer):
    pack, kind, command = PACKERS[packer]
    etth1 = (resources.files("tsrec.datasets") / "data" / "ETTh1.csv").read_bytes()
    (tmp_path / "ETT").mkdir()
    (tmp_path / "ETT" / "ETTh1.csv").write_bytes(pack(etth1))
    with pytest.raises(InputError, match=f"ETTh1.csv is {kind}, not the ETTh1 CSV file.* {command} ETTh1.csv"):
        load_ltsf("ETTh1", data_dir=tmp_path)
    path = _toy(tmp_path, "1,2:a\n")
    path.write_bytes(pack(path.read_bytes()))
    with pytest.raises(InputError, match=f"Toy_TRAIN.ts is {kind}, not a .ts text file.* {command} Toy_TRAIN.ts"):
        load_ucr("Toy", data_dir=tmp_path)


def test_a_regression_file_is_named_as_one(tmp_path):
    # the archive's extrinsic-regression problems (Tecator, Covid3Month) carry '@targetLabel true' and no
    # class labels: "'@classLabel true <labels>' must come before @data" did not say what the file is
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "Toy_TRAIN.ts").write_text("@problemName Toy\n@missing false\n@univariate true\n"
                                                   "@equalLength true\n@targetLabel True\n@data\n1,2,3:0.5\n")
    with pytest.raises(ValueError, match=r"line 6: '@targetLabel true': a regression problem \(a number to predict "
                                         r"for each series\), which tsrec does not read"):
        load_ucr("Toy", data_dir=tmp_path)


TS_HEADER = "@problemName Toy\n{stamps}@missing false\n@univariate true\n@equalLength true\n@classLabel true {labels}\n@data\n"


def _toy_ts(tmp_path, body: str, stamps: str = "", labels: str = "a b"):
    (tmp_path / "Toy").mkdir(exist_ok=True)
    path = tmp_path / "Toy" / "Toy_TRAIN.ts"
    path.write_text(TS_HEADER.format(stamps=stamps, labels=labels) + body)
    return path


def test_time_stamps_declared_in_any_case_are_named_as_unsupported(tmp_path):
    """Header values are read case-insensitively ('@timeStamps True' as the archive's writers spell it):
    the refusal names the time stamps, not a value '(2007-01-01 ...' that cannot be read as a number."""
    _toy_ts(tmp_path, "(2007-01-01 00:00:00,1.0),(2007-01-02 00:00:00,2.0):a\n", stamps="@timeStamps True\n")
    with pytest.raises(ValueError, match=r"line 2: @timeStamps true is not supported"):
        load_ucr("Toy", data_dir=tmp_path)


def test_a_file_that_declares_a_single_class_is_read(tmp_path):
    """'@classLabel true a' is a labelled file (a split may hold one class); the classifier, not the
    reader, refuses fewer than two classes."""
    _toy_ts(tmp_path, "1,2:a\n3,4:a\n", labels="a")
    X, y = load_ucr("Toy", data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert y.tolist() == ["a", "a"]


def test_a_big_endian_utf16_file_is_told_the_utf16_conversion(tmp_path):
    """Both UTF-16 byte orders open with a byte-order mark (FF FE or FE FF); either is UTF-16 text that
    iconv converts, not Latin-1."""
    (tmp_path / "Toy").mkdir()
    text = TS_HEADER.format(stamps="", labels="a b") + "1,2:a\n"
    (tmp_path / "Toy" / "Toy_TRAIN.ts").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    with pytest.raises(ValueError, match=r"the file is UTF-16 text; .*iconv -f utf-16 -t utf-8 old\.ts > new\.ts$"):
        load_ucr("Toy", data_dir=tmp_path)

