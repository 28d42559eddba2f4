"""A missing benchmark file is bad input: tsrec's InputError (a ValueError) and a FileNotFoundError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsrec.datasets import load_ett, load_ltsf, load_ucr

LOADERS = {
    "load_ltsf": lambda folder: load_ltsf("ETTm1", data_dir=folder),
    "load_ett": lambda folder: load_ett("ETTm2", data_dir=folder),
    # bundled sets too, once a data_dir is given (it is searched alone)
    "load_ltsf bundled name": lambda folder: load_ltsf("ETTh1", data_dir=folder),
    "load_ucr": lambda folder: load_ucr("NoSuch", data_dir=folder),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_a_missing_file_raises_the_batch_readers_error(loader: str, tmp_path: Path) -> None:
    from tsrec.batch import InputFileNotFoundError as batch_class
    from tsrec.estimators.errors import InputError, InputFileNotFoundError, TsrecError

    with pytest.raises(InputFileNotFoundError, match="not found. Searched:") as info:
        LOADERS[loader](tmp_path)
    # one class for data files and batch input files, caught as either built-in error
    assert batch_class is InputFileNotFoundError
    for cls in (InputError, TsrecError, ValueError, FileNotFoundError):
        assert isinstance(info.value, cls)
    assert str(tmp_path) in str(info.value)


def test_importing_the_loaders_stays_light() -> None:
    # the error class lives with the estimators (torch, Lightning, sktime); the loaders import it
    # only when a file is missing
    code = "import sys, tsrec.datasets; print(sorted(m for m in ('torch', 'lightning', 'sktime') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_tsrec_data_naming_the_checkouts_data_folder_is_searched_once(monkeypatch, tmp_path: Path) -> None:
    from tsrec.datasets import _datadir

    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "link").symlink_to(data)  # the same folder, by another path
    monkeypatch.setattr(_datadir, "DEV_DATA", data)
    monkeypatch.setenv(_datadir.ENV_VAR, str(tmp_path / "link"))
    assert _datadir.data_roots(None) == [tmp_path / "link"]
    monkeypatch.setenv(_datadir.ENV_VAR, str(tmp_path))
    assert _datadir.data_roots(None) == [tmp_path, data]


def test_a_folder_or_a_broken_link_in_a_files_place_is_named_as_such(tmp_path):
    # the listing said only "not found", and listed that very path
    (tmp_path / "UCR_UEA" / "Toy" / "Toy_TRAIN.ts").mkdir(parents=True)
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "Toy_TRAIN.ts").symlink_to(tmp_path / "gone.ts")
    with pytest.raises(FileNotFoundError) as info:
        load_ucr("Toy", data_dir=tmp_path)
    assert f"{tmp_path / 'UCR_UEA' / 'Toy' / 'Toy_TRAIN.ts'} (a folder, not a file)" in str(info.value)
    assert f"{tmp_path / 'Toy' / 'Toy_TRAIN.ts'} (a link to {tmp_path / 'gone.ts'}, which does not exist)" in str(
        info.value)
