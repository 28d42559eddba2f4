"""A saved folder's permissions follow the umask, or the replaced folder's, as any file the user makes.

mkdtemp made the folder private (0700) and safetensors the weights (0600): a model saved for a group or
a serving account could not be loaded by them.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


@pytest.fixture(scope="module")
def est():
    return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40) / 3.0),
                                                                                  fh=[1, 2])


def test_a_new_save_follows_the_umask(tmp_path, est, umask_027):
    folder = est.save(tmp_path / "m")
    assert _mode(folder) == 0o750
    assert {p.name: _mode(p) for p in folder.iterdir()} == {"config.json": 0o640, "weights.safetensors": 0o640}
    np.testing.assert_array_equal(tsrec.load(folder).predict(), est.predict())


def test_saving_into_an_empty_shared_folder_keeps_its_mode(tmp_path, est, umask_027):
    (tmp_path / "shared").mkdir()
    os.chmod(tmp_path / "shared", 0o2775)
    est.save(tmp_path / "shared")
    assert _mode(tmp_path / "shared") == 0o2775
    est.save(tmp_path / "shared")  # and over that earlier save
    assert _mode(tmp_path / "shared") == 0o2775
