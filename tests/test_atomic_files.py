"""tsrec._files: atomic writes name the user's file on failure, follow links, keep permissions, are durable."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from tsrec._files import atomic_write, atomic_write_all


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def full_disk(tmp: Path) -> None:
    tmp.write_text("half a fi")
    raise OSError(errno.ENOSPC, "No space left on device", str(tmp))


def test_a_failed_write_names_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(OSError) as caught:
        atomic_write(target, full_disk)
    err = caught.value
    assert type(err) is OSError and err.errno == errno.ENOSPC
    assert f"cannot write {target}: No space left on device; free space on that disk" in str(err)
    assert ".tmp" not in str(err)
    assert target.read_text() == "old\n" and leftovers(tmp_path) == []


def test_the_temporary_file_is_written_beside_the_target(tmp_path):
    # os.replace is atomic within one file system only: a temporary file in /tmp failed to move onto
    # another disk ("Invalid cross-device link"), and wherever it moved, not in one step
    target, written = tmp_path / "out.csv", []
    atomic_write(target, lambda tmp: (written.append(tmp), tmp.write_text("x")))
    assert written[0].parent == target.parent and written[0].name.startswith(".out.csv.")
    assert target.read_text() == "x" and leftovers(tmp_path) == []


def test_a_failed_rename_names_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    def failing_replace(src, dst):  # the OS names the source: the hidden temporary file
        raise OSError(errno.EIO, "Input/output error", str(src))

    monkeypatch.setattr(os, "replace", failing_replace)
    target = tmp_path / "out.csv"
    with pytest.raises(OSError, match=rf"cannot write {target}: Input/output error") as caught:
        atomic_write(target, lambda tmp: tmp.write_text("x"))
    assert ".tmp" not in str(caught.value) and not target.exists()


def test_the_error_type_is_kept(tmp_path):
    def refused(tmp: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp))

    with pytest.raises(PermissionError, match=rf"cannot write {tmp_path / 'x.csv'}: Permission denied; choose"):
        atomic_write(tmp_path / "x.csv", refused)


def test_a_link_keeps_being_a_link_and_its_file_is_replaced(tmp_path):
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    assert atomic_write(link, lambda tmp: tmp.write_text("new\n")) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n" and leftovers(tmp_path) == []


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    atomic_write(target, lambda tmp: tmp.write_text("new\n"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new\n"


def test_the_folder_is_flushed_after_the_rename(tmp_path, monkeypatch):
    log: list[str] = []
    fsync, replace = os.fsync, os.replace

    def logged_fsync(fd: int) -> None:
        log.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def logged_replace(src, dst) -> None:
        log.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", logged_fsync)
    monkeypatch.setattr(os, "replace", logged_replace)
    atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("a"))
    assert log == ["fsync file", "replace", "fsync folder"]


def test_a_folder_that_refuses_fsync_does_not_fail_the_write(tmp_path, monkeypatch):
    fsync = os.fsync

    def no_folder_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", no_folder_fsync)
    assert atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("a")).read_text() == "a"


def test_write_all_replaces_nothing_unless_every_file_is_written(tmp_path):
    first, second = tmp_path / "new" / "a.csv", tmp_path / "new" / "b.png"
    with pytest.raises(OSError, match=f"cannot write {second}"):
        atomic_write_all({first: lambda tmp: tmp.write_text("a"), second: full_disk})
    assert list(tmp_path.iterdir()) == []  # the folder made for them is gone too
    first.parent.mkdir()
    first.write_text("old a")
    second.write_text("old b")
    with pytest.raises(OSError):
        atomic_write_all({first: lambda tmp: tmp.write_text("new a"), second: full_disk})
    assert (first.read_text(), second.read_text()) == ("old a", "old b") and leftovers(first.parent) == []



def test_a_path_through_a_file_keeps_the_error_that_names_it(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(NotADirectoryError,
                       match=r"cannot write .*afile/x.md: Not a directory; a folder on the path is a file"):
        atomic_write(tmp_path / "afile" / "x.md", lambda tmp: tmp.write_text("x"))
