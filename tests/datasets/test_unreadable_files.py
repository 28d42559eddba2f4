"""A data file this user may not read: the loaders name it with the fix, and list_ucr skips it with a warning
(a bare PermissionError was raised, and one such file hid every problem of the folder from list_ucr)."""

from __future__ import annotations

import builtins

import pytest

from tsrec.datasets import _filecheck, load_ltsf, ucr
from tsrec.datasets.ucr import list_ucr, load_ucr


def _denying(name: str):
    """``open`` that refuses the files called ``name``, as for a file of mode 000."""
    def guarded(path, *args, **kwargs):
        if str(path).endswith(name):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)
    return guarded


@pytest.mark.parametrize("load, name", [(lambda d: load_ucr("GunPoint", data_dir=d), "GunPoint_TRAIN.ts"),
                                        (lambda d: load_ltsf("ETTm1", data_dir=d), "ETTm1.csv")])
def test_a_loader_names_an_unreadable_file_with_the_fix(data_dir, monkeypatch, load, name):
    monkeypatch.setattr(_filecheck, "open", _denying(name), raising=False)
    with pytest.raises(PermissionError, match=rf"cannot read .*{name}: Permission denied; make it readable for this "
                                              r"user \(chmod u\+r"):
        load(data_dir)


def test_list_ucr_skips_an_unreadable_file_with_a_warning(data_dir, monkeypatch):
    everything = list_ucr(data_dir)
    monkeypatch.setattr(ucr, "open", _denying("ArrowHead_TRAIN.ts"), raising=False)
    with pytest.warns(UserWarning, match=r"skipped .*ArrowHead_TRAIN\.ts: cannot read it \(Permission denied\); make "
                                         r"it readable"):
        listed = list_ucr(data_dir)
    assert "GunPoint" in listed and set(listed) <= set(everything)
