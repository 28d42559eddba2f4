"""A save that fails leaves no trace: neither its staging folder nor the parent folders it made."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators import _folder


def test_a_failed_save_removes_the_parent_folders_it_made(tmp_path, monkeypatch):
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    (tmp_path / "kept").mkdir()

    def full_disk(tensors, path):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_folder, "save_file", full_disk)
    for path in (tmp_path / "new" / "deep" / "model", tmp_path / "kept" / "model"):
        with pytest.raises(OSError, match=f"cannot save to {path}: No space left on device; free space"):
            est.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"] and list((tmp_path / "kept").iterdir()) == []
    monkeypatch.undo()
    assert est.save(tmp_path / "new" / "deep" / "model") == tmp_path / "new" / "deep" / "model"
    assert sorted(p.name for p in (tmp_path / "new" / "deep" / "model").iterdir()) == sorted(_folder.SAVED_FILES)


def test_a_save_under_a_file_names_the_path_and_the_fix(tmp_path):
    # it raised a bare NotADirectoryError naming the hidden staging folder ".model.tsrec-new-..."
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    (tmp_path / "afile").write_text("not a folder")
    for path in (tmp_path / "afile" / "model", tmp_path / "afile" / "sub" / "model"):
        with pytest.raises(NotADirectoryError, match=f"cannot save to {path}: .*a folder on the path is a file"):
            est.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]
