"""A save that fails leaves no trace: neither its staging folder nor the parent folders it made; a
save that is complete is not failed by a file system that refuses to flush folders."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

import tsrec

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


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.EIO])
def test_a_file_system_that_refuses_to_flush_folders_does_not_fail_a_save(tmp_path, monkeypatch, refusal):
    # some FUSE and network mounts refuse fsync on a folder (EINVAL): every save failed there, and a
    # refused flush after the swap said "cannot save" of a save already in place (the earlier one deleted)
    first = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    second = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=1).fit(np.cos(np.arange(30.0)))
    fsync = os.fsync

    def no_folder_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(refusal, os.strerror(refusal))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", no_folder_fsync)
    for est in (first, second):
        assert est.save(tmp_path / "model") == tmp_path / "model"
        np.testing.assert_array_equal(tsrec.load(tmp_path / "model").predict(fh=[1, 2]), est.predict(fh=[1, 2]))
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_paths_the_system_refuses_are_named_with_the_fix(tmp_path, monkeypatch):
    # each gave the bare error of the first os call on the path: "embedded null byte", "[Errno 36] File name
    # too long: '...'" (from is_symlink), "[Errno 2] No such file or directory" (os.getcwd)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    with pytest.raises(ValueError, match=r"cannot save to '.*a\\x00b': the path holds a NUL character; remove it$"):
        est.save(f"{tmp_path}/a\x00b")
    with pytest.raises(OSError, match=r"cannot save to .*x{300}: File name too long; shorten it") as long_name:
        est.save(tmp_path / ("x" * 300))
    assert long_name.value.errno == errno.ENAMETOOLONG
    (tmp_path / "gone").mkdir()
    monkeypatch.chdir(tmp_path / "gone")
    (tmp_path / "gone").rmdir()
    with pytest.raises(FileNotFoundError, match=r"cannot save to model: .*; the working folder was deleted; give an "
                                                r"absolute path"):
        est.save("model")
    assert list(tmp_path.iterdir()) == []


def test_a_load_path_the_system_refuses_is_named_as_the_saved_estimator(tmp_path):
    # pathlib's bare "[Errno 36] File name too long: '...'"
    with pytest.raises(OSError, match=r"cannot read the saved estimator .*x{300}: File name too long; shorten"):
        tsrec.load(tmp_path / ("x" * 300))


def test_saving_to_a_loop_of_links_names_the_link_once(tmp_path):
    # _follow_link's FileExistsError already names the path and the fix: wrapped again it read "cannot save to
    # .../a: .../a is a symbolic link ..."
    import re

    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0)))
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(FileExistsError, match=rf"^{re.escape(str(tmp_path / 'a'))} is a symbolic link that cannot "
                                              r"be followed .*; choose another path$"):
        est.save(tmp_path / "a")
