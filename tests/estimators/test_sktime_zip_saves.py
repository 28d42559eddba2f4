"""``save(path, serialization_format="pickle")`` replaces only an earlier model zip, keeping its permissions."""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np
import pytest

from tsrec.estimators import ARNetForecaster, PGNClassifier


@pytest.fixture(scope="module")
def est():
    return ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40) / 3.0),
                                                                                  fh=[1, 2])


def _user_archive(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("thesis.tex", "my thesis")


@pytest.mark.parametrize("kind, make", [("a zip of other files", _user_archive),
                                        ("not a zip file", lambda path: path.write_text("plain notes"))])
@pytest.mark.parametrize("given", ["data.zip", "data"])
def test_a_file_of_the_users_named_zip_is_never_replaced(tmp_path, est, kind, make, given):
    # it was replaced by the model's zip without a word
    make(tmp_path / "data.zip")
    before = (tmp_path / "data.zip").read_bytes()
    with pytest.raises(FileExistsError, match=f"data.zip: it exists and is {kind}, not a model saved in sktime's "
                                              "format .*choose another path, or move that file away"):
        est.save(tmp_path / given, serialization_format="pickle")
    assert (tmp_path / "data.zip").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zip"]


def test_an_earlier_model_zip_is_replaced_with_its_permissions_kept(tmp_path, est):
    est.save(tmp_path / "m", serialization_format="pickle").close()
    os.chmod(tmp_path / "m.zip", 0o664)  # shared with a group
    first = (tmp_path / "m.zip").read_bytes()
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.cos(np.arange(40) / 3.0), fh=[1, 2]).save(
        tmp_path / "m", serialization_format="pickle").close()
    assert (tmp_path / "m.zip").read_bytes() != first
    assert stat.S_IMODE((tmp_path / "m.zip").stat().st_mode) == 0o664
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        assert set(archive.namelist()) == {"_metadata", "_obj"}


@pytest.mark.parametrize("cls", [ARNetForecaster, PGNClassifier])
def test_sktime_load_from_path_of_a_tsrec_folder_names_the_loader_of_each_format(tmp_path, est, cls):
    # zipfile's bare "[Errno 21] Is a directory"; a zip still loads through the class
    from sktime.base import load

    est.save(tmp_path / "m")
    with pytest.raises(IsADirectoryError, match=r"m is a folder, not an sktime zip; a folder written by est.save\(path\) "
                                                r"loads with tsrec.load\('.*m'\), a zip .* with sktime.base.load"):
        cls.load_from_path(tmp_path / "m")
    est.save(tmp_path / "z", serialization_format="pickle")
    np.testing.assert_array_equal(ARNetForecaster.load_from_path(tmp_path / "z.zip").predict(), est.predict())
    np.testing.assert_array_equal(load(str(tmp_path / "z")).predict(), est.predict())
