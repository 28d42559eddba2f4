"""list_ucr lists exactly the problems load_ucr can load: both follow one layout rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tsrec.datasets import list_ucr, load_ucr
from tsrec.errors import InputFileNotFoundError

CLASSIFICATION = "@problemName Foo\n@univariate true\n@equalLength true\n@classLabel true a b\n@data\n1,2:a\n3,4:b\n"
REGRESSION = "@problemName Foo\n@univariate true\n@equalLength true\n@targetLabel true\n@data\n1,2:0.5\n"


def _put(root: Path, where: str, body: str = CLASSIFICATION) -> None:
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


def _split_of(where: str) -> str:
    return Path(where).stem.rpartition("_")[2]


@pytest.mark.parametrize(
    "where",
    ["UCR_UEA/Foo/Foo_TRAIN.ts", "UCR_UEA/Foo/Foo_test.ts", "Foo/Foo_TEST.ts", "UCR_UEA/Foo_TRAIN.ts",
     "Foo_TRAIN.ts", "Foo_train.ts"],
)
def test_a_listed_problem_loads(tmp_path: Path, where: str) -> None:
    _put(tmp_path, where)
    assert list_ucr(tmp_path) == ["Foo"]
    X, y = load_ucr("Foo", _split_of(where), data_dir=tmp_path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert list(y) == ["a", "b"]


@pytest.mark.parametrize(
    ("where", "name"),
    [("Group/Foo_TRAIN.ts", "Foo"), ("UCR_UEA/Group/Foo_TRAIN.ts", "Foo"), ("Foo_Train.ts", "Foo"),
     ("Foo/Foo_Test.ts", "Foo"), ("a..b_TRAIN.ts", "a..b")],
)
def test_a_file_load_ucr_cannot_read_is_not_listed(tmp_path: Path, where: str, name: str) -> None:
    _put(tmp_path, where)
    assert list_ucr(tmp_path) == []
    refusal = "name must be a dataset name" if name == "a..b" else rf"UCR/UEA file for '{name}' \(\w+\) not found"
    with pytest.raises(ValueError, match=refusal):  # not found, or a name load_ucr refuses
        load_ucr(name, _split_of(where).lower(), data_dir=tmp_path)


def test_a_problem_is_listed_by_the_file_load_ucr_reads(tmp_path: Path) -> None:
    # load_ucr reads the first file of its search order: a regression file there hides a classification one
    _put(tmp_path, "UCR_UEA/Foo/Foo_TRAIN.ts", REGRESSION)
    _put(tmp_path, "Foo_TRAIN.ts")
    assert list_ucr(tmp_path) == []
    with pytest.raises(ValueError, match="a regression problem .*which tsrec does not read"):
        load_ucr("Foo", data_dir=tmp_path)


def test_a_typo_names_only_problems_that_load(tmp_path: Path) -> None:
    _put(tmp_path, "Group/Foo_TRAIN.ts")  # not loadable: no suggestion of it
    with pytest.raises(InputFileNotFoundError) as info:
        load_ucr("foo", data_dir=tmp_path)
    assert "did you mean" not in str(info.value)
    _put(tmp_path, "UCR_UEA/Foo_TRAIN.ts")
    with pytest.raises(InputFileNotFoundError, match="did you mean 'Foo'"):
        load_ucr("foo", data_dir=tmp_path)


def test_the_first_file_in_search_order_is_read(tmp_path: Path) -> None:
    # the problem's folder before the flat layout, the upper-case split before the lower-case one
    _put(tmp_path, "Foo_TRAIN.ts", CLASSIFICATION.replace("1,2:a", "5,6:a"))
    _put(tmp_path, "UCR_UEA/Foo/Foo_train.ts", CLASSIFICATION.replace("1,2:a", "7,8:a"))
    _put(tmp_path, "UCR_UEA/Foo/Foo_TRAIN.ts")
    np.testing.assert_array_equal(load_ucr("Foo", data_dir=tmp_path)[0][0], [1.0, 2.0])
    (tmp_path / "UCR_UEA" / "Foo" / "Foo_TRAIN.ts").unlink()
    np.testing.assert_array_equal(load_ucr("Foo", data_dir=tmp_path)[0][0], [7.0, 8.0])
    (tmp_path / "UCR_UEA" / "Foo" / "Foo_train.ts").unlink()
    np.testing.assert_array_equal(load_ucr("Foo", data_dir=tmp_path)[0][0], [5.0, 6.0])
