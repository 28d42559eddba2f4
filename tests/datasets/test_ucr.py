"""Tests for tsrec.datasets.ucr on the real UCR/UEA files and on small hand-written files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tsrec.datasets.ucr import list_ucr, load_ucr, sktime_data_folder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """A data root with the tested problems: $TSREC_DATA, <repo>/../shared/data or sktime's folder."""
    candidates = [Path(os.environ["TSREC_DATA"])] if os.environ.get("TSREC_DATA") else []
    candidates += [REPO.parent / "shared" / "data", sktime_data_folder()]
    for root in filter(None, candidates):
        if any((folder / "GunPoint" / "GunPoint_TRAIN.ts").is_file() for folder in (root / "UCR_UEA", root)):
            return root
    raise AssertionError(f"UCR/UEA data not found in {candidates}; sktime should ship GunPoint")


def test_sktime_folder_is_searched_last_and_matches_the_archive(data_dir: Path) -> None:
    from tsrec.datasets.ucr import _roots

    bundled = sktime_data_folder()
    assert bundled is not None and _roots(None)[-1] == bundled
    for split in ("train", "test"):
        X, y = load_ucr("GunPoint", split, data_dir=bundled)
        X_ref, y_ref = load_ucr("GunPoint", split, data_dir=data_dir)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)


def _write(tmp_path: Path, name: str, body: str, split: str = "TRAIN") -> Path:
    folder = tmp_path / "UCR_UEA" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_{split}.ts"
    path.write_text(body)
    return path


HEADER = (
    "#comment\n@problemName Toy\n@timeStamps false\n@missing false\n@univariate {uni}\n"
    "@equalLength {eq}\n@classLabel true a b\n@data\n"
)
# '?' marks a missing value only where the header allows them
MISSING_HEADER = HEADER.replace("@missing false", "@missing true")


@pytest.mark.parametrize(
    ("name", "split", "shape", "classes"),
    [
        ("GunPoint", "train", (50, 150), ["1", "2"]),
        ("GunPoint", "test", (150, 150), ["1", "2"]),
        ("ItalyPowerDemand", "train", (67, 24), ["1", "2"]),
        ("ItalyPowerDemand", "test", (1029, 24), ["1", "2"]),
        ("ArrowHead", "train", (36, 251), ["0", "1", "2"]),
        ("ArrowHead", "test", (175, 251), ["0", "1", "2"]),
        ("BasicMotions", "train", (40, 6, 100), ["Badminton", "Running", "Standing", "Walking"]),
        ("BasicMotions", "test", (40, 6, 100), ["Badminton", "Running", "Standing", "Walking"]),
    ],
)
def test_load_real_files(data_dir: Path, name: str, split: str, shape: tuple, classes: list[str]) -> None:
    X, y = load_ucr(name, split, data_dir=data_dir)
    assert X.shape == shape
    assert X.dtype == np.float64
    assert np.isfinite(X).all()
    assert y.shape == (shape[0],)
    assert y.dtype.kind == "U"
    assert sorted(set(y)) == classes


def test_gunpoint_first_values(data_dir: Path) -> None:
    X, y = load_ucr("GunPoint", data_dir=data_dir)
    path = next(p for p in (data_dir / "UCR_UEA" / "GunPoint", data_dir / "GunPoint") if p.is_dir())
    first = (path / "GunPoint_TRAIN.ts").read_text().split("@data")[1].split()[0]
    values, label = first.split(":")
    np.testing.assert_array_equal(X[0], np.array(values.split(","), dtype=float))
    assert y[0] == label


def test_unequal_lengths_raise_naming_the_option(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="pad='last'"):
        load_ucr("JapaneseVowels", data_dir=data_dir)


def test_unequal_lengths_padded_with_last_value(data_dir: Path) -> None:
    X, y = load_ucr("JapaneseVowels", data_dir=data_dir, pad="last")
    assert X.shape == (270, 12, 26) and y.shape == (270,)
    assert sorted(set(y)) == [str(i) for i in range(1, 10)]
    # The shortest training case has 7 steps: steps 7.. repeat step 6 in every channel.
    lengths = (np.diff(X, axis=2) != 0).any(axis=1)
    short = int(np.argmin([row.nonzero()[0].max() for row in lengths]))
    np.testing.assert_array_equal(X[short, :, 7:], np.repeat(X[short, :, 6:7], 19, axis=1))
    Xt, _ = load_ucr("JapaneseVowels", "test", data_dir=data_dir, pad="last", length=29)
    Xtr, _ = load_ucr("JapaneseVowels", "train", data_dir=data_dir, pad="last", length=29)
    assert Xt.shape == (370, 12, 29) and Xtr.shape == (270, 12, 29)
    with pytest.raises(ValueError, match=r"length=20 is shorter .*give length >= \d+"):
        load_ucr("JapaneseVowels", data_dir=data_dir, pad="last", length=20)
    # a length the padded array cannot fit in memory: named before the allocation (numpy's MemoryError)
    with pytest.raises(ValueError, match=r"length=1,000,000,000,000 pads 370 series of 12 channel\(s\) to .* GiB, "
                                         r"more than the .* GiB of memory this process may use; pass a length near "
                                         r"the longest series \(29\)"):
        load_ucr("JapaneseVowels", "test", data_dir=data_dir, pad="last", length=10**12)


def test_pad_last_repeats_the_last_observed_value(tmp_path: Path) -> None:
    # a series ending in '?' was padded with NaN; missing values within the series stay NaN
    body = MISSING_HEADER.format(uni="false", eq="false") + "1,2,?:?,?,?:a\n4,5,6,7:8,9,10,11:b\n"
    _write(tmp_path, "Toy", body)
    X, _ = load_ucr("Toy", data_dir=tmp_path, pad="last", length=5)
    np.testing.assert_array_equal(X[0], [[1, 2, np.nan, 2, 2], [np.nan] * 5])
    np.testing.assert_array_equal(X[1], [[4, 5, 6, 7, 7], [8, 9, 10, 11, 11]])
    assert load_ucr("Toy", data_dir=tmp_path, pad="last", length=4)[0].shape == (2, 2, 4)
    # one step short of the longest series: the message, not numpy's broadcast error
    with pytest.raises(ValueError, match=r"length=3 is shorter than the longest series \(4\) in Toy_TRAIN.ts"):
        load_ucr("Toy", data_dir=tmp_path, pad="last", length=3)


def test_a_file_that_is_not_utf8_is_named_with_the_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, "Toy", "")
    path.write_bytes(("#Sch\u00e4fer\n" + HEADER.format(uni="true", eq="true") + "1,2:a\n").encode("latin-1"))
    with pytest.raises(ValueError, match="line 1: byte 0xe4 is not UTF-8.*re-save the file as UTF-8") as info:
        load_ucr("Toy", data_dir=tmp_path)
    assert str(info.value).startswith(str(path)) and not isinstance(info.value, UnicodeDecodeError)


def test_a_utf16_file_is_told_the_utf16_conversion(tmp_path: Path) -> None:
    # Windows' "Unicode" text: the Latin-1 conversion the general message gives would garble it
    path = _write(tmp_path, "Toy", "")
    path.write_bytes((HEADER.format(uni="true", eq="true") + "1,2:a\n").encode("utf-16"))
    with pytest.raises(ValueError, match=r"the file is UTF-16 text; .*iconv -f utf-16 -t utf-8 old\.ts > new\.ts$"):
        load_ucr("Toy", data_dir=tmp_path)


def test_a_name_with_spaces_around_it_is_told_so(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"did you mean 'GunPoint'\? the name has spaces around it\)"):
        load_ucr("GunPoint ", data_dir=data_dir)


def test_list_ucr(data_dir: Path) -> None:
    names = list_ucr(data_dir)
    assert {"GunPoint", "BasicMotions", "JapaneseVowels", "ItalyPowerDemand", "ArrowHead"} <= set(names)
    assert names == sorted(names)


def test_env_var_is_searched(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSREC_DATA", str(data_dir))
    X, _ = load_ucr("ItalyPowerDemand")
    assert X.shape == (67, 24)


def test_flat_layout_and_lowercase_split(tmp_path: Path) -> None:
    folder = tmp_path / "Toy"
    folder.mkdir()
    (folder / "Toy_TEST.ts").write_text(MISSING_HEADER.format(uni="true", eq="true") + "1,2,3:a\n4,5,?:b\n")
    X, y = load_ucr("Toy", "TEST", data_dir=tmp_path)
    assert X.shape == (2, 3) and np.isnan(X[1, 2]) and list(y) == ["a", "b"]


def test_missing_file_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_ucr("NoSuchProblem", "test", data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "UCR_UEA" / "NoSuchProblem" / "NoSuchProblem_TEST.ts") in message
    # with data_dir only that folder is searched: the fix names it, not TSREC_DATA as a place to put the file
    assert message.endswith(f"Put NoSuchProblem_TEST.ts in <folder>/UCR_UEA/NoSuchProblem/ (data_dir={str(tmp_path)!r} "
                            "is the only folder searched when given; pass data_dir=None to search TSREC_DATA and the "
                            "data folders).")
    with pytest.raises(FileNotFoundError) as info:
        load_ucr("NoSuchProblem", "test")
    assert "pass data_dir=<folder> or set the environment variable TSREC_DATA=<folder>." in str(info.value)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (HEADER.format(uni="true", eq="true") + "1,2,3:a\n1,x,3:b\n", "line 10: cannot read 'x'"),
        (HEADER.format(uni="true", eq="true") + "1,2,3:a\n1,2,3:c\n", "line 10: class label 'c'"),
        (HEADER.format(uni="true", eq="true") + "1,2,3\n", "line 9: expected '<values>:<label>'"),
        (HEADER.format(uni="false", eq="true") + "1,2:3,4:a\n1,2:b\n", "line 10: 1 channels, expected 2"),
        (HEADER.format(uni="false", eq="true") + "1,2:3:a\n", "line 9: channels have different lengths"),
        (HEADER.format(uni="true", eq="true") + "1,2:3,4:a\n", "line 9: 2 channels, expected 1"),
        ("@problemName Toy\n1,2,3:a\n", "line 2: data found before @data"),
        ("@problemName Toy\n@classLabel false\n@data\n1,2:a\n", "line 3: '@classLabel true"),
        ("@problemName Toy\n@timeStamps true\n", "line 2: @timeStamps true is not supported"),
        (HEADER.format(uni="true", eq="true"), "no cases found"),
        (HEADER.format(uni="maybe", eq="true") + "1:a\n", "line 5: @univariate must be"),
    ],
)
def test_malformed_files(tmp_path: Path, body: str, match: str) -> None:
    path = _write(tmp_path, "Toy", body)
    with pytest.raises(ValueError, match=match) as info:
        load_ucr("Toy", data_dir=tmp_path)
    assert str(path) in str(info.value)
    # every refusal says what to do: a damaged line names the fix the header's checks give (these gave none)
    assert any(fix in str(info.value) for fix in ("re-download the file", "set '@timeStamps false'", "a file needs",
                                                  "only labelled classification files")), str(info.value)


def test_series_length_header_is_checked(tmp_path: Path) -> None:
    body = HEADER.format(uni="true", eq="true").replace("@data", "@seriesLength 3\n@data") + "1,2:a\n"
    _write(tmp_path, "Toy", body)
    with pytest.raises(ValueError, match="line 10: series length 2, header says @seriesLength 3"):
        load_ucr("Toy", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "../etc"}, "name must be"),
        ({"name": "Toy", "split": "valid"}, "split must be"),
        ({"name": "Toy", "pad": "zero"}, "pad must be"),
        ({"name": "Toy", "length": 10}, "length= only applies with pad='last'"),
        ({"name": "Toy", "pad": "last", "length": 0}, "length must be an integer >= 1"),
        ({"name": "Toy", "pad": "last", "length": True}, "length must be an integer >= 1"),
        ({"name": "Toy", "pad": "last", "length": 29.0}, "length must be an integer >= 1"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_ucr(data_dir=tmp_path, **kwargs)


def test_length_accepts_numpy_integers(data_dir: Path) -> None:
    X, _ = load_ucr("JapaneseVowels", data_dir=data_dir, pad="last", length=np.int64(29))
    assert X.shape == (270, 12, 29)


def test_percent_comment_lines_are_skipped(tmp_path: Path) -> None:
    body = "\ufeff% made by hand\n%\n" + HEADER.format(uni="true", eq="true") + "% between cases\n1,2:a\n3,4:b\n"
    _write(tmp_path, "Toy", body)
    X, y = load_ucr("Toy", data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert list(y) == ["a", "b"]


def test_sktime_unit_test_problem_loads() -> None:
    path = sktime_data_folder() / "UnitTest" / "UnitTest_TRAIN.ts"
    assert path.read_text().startswith("%")  # the case this test is about
    X, y = load_ucr("UnitTest")
    first = path.read_text().split("@data")[1].split()[0]
    values, label = first.split(":")
    assert X.shape == (20, 24) and sorted(set(y)) == ["1", "2"]
    np.testing.assert_array_equal(X[0], np.array(values.split(","), dtype=float))
    assert y[0] == label


def test_list_ucr_lists_only_classification_problems(tmp_path: Path) -> None:
    _write(tmp_path, "Toy", HEADER.format(uni="true", eq="true") + "1,2:a\n")
    regression = HEADER.format(uni="true", eq="true").replace("@classLabel true a b", "@targetLabel true")
    _write(tmp_path, "Reg", regression + "1,2:0.5\n")
    assert list_ucr(tmp_path) == ["Toy"]
    names = list_ucr()
    assert "UnitTest" in names and not {"Covid3Month", "Tecator"} & set(names)
    for name in names:  # every listed problem loads
        load_ucr(name, pad="last")


def _published(data_dir: Path, name: str, split: str) -> Path:
    """The data root's file of one split, in either layout (<root>/UCR_UEA/<name>/ or <root>/<name>/)."""
    file = f"{name}_{split.upper()}.ts"
    return next(path for path in (data_dir / "UCR_UEA" / name / file, data_dir / name / file) if path.is_file())


@pytest.mark.parametrize("name, split", [("BasicMotions", "train"), ("BasicMotions", "test"), ("GunPoint", "train")])
def test_the_other_splits_published_file_under_a_splits_name_is_refused(data_dir, tmp_path, name, split):
    # BasicMotions' splits hold as many cases: only the digest told them apart, and the test file loaded as
    # the training set with a warning; GunPoint's test file (150 cases, not 50) was called truncated
    other = "test" if split == "train" else "train"
    folder = tmp_path / "UCR_UEA" / name
    folder.mkdir(parents=True)
    (folder / f"{name}_{split.upper()}.ts").write_bytes(_published(data_dir, name, other).read_bytes())
    with pytest.raises(ValueError, match=rf"is the published {name} {other} file, not the {split} file: its SHA-256 "
                                         rf"is the {other} split's\..*or load this one with split='{other}'$") as info:
        load_ucr(name, split, data_dir=tmp_path)
    assert "truncated" not in str(info.value)


def test_a_name_with_a_backslash_is_refused_as_a_path(tmp_path):
    """A Windows path ('UCR_UEA\\GunPoint') is a path, not a problem's name, on every system."""
    with pytest.raises(ValueError, match=r"name must be a dataset name such as 'GunPoint', got 'UCR_UEA\\\\GunPoint' "
                                         r"\(the loaders take a data set's name, not a file's path"):
        load_ucr("UCR_UEA\\GunPoint", data_dir=tmp_path)
