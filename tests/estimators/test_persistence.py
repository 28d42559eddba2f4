"""Saving and loading folders: what a save may replace, how it replaces it, and what load refuses."""

from __future__ import annotations

import pathlib
import re
from pathlib import Path

import warnings

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, PGNClassifier
from tsrec.estimators import _folder
from tsrec.estimators.errors import LoadError

from saved_configs import edit_config  # tests/estimators/saved_configs.py

X = np.random.default_rng(0).normal(size=(12, 10))
Y = np.arange(12) % 2


@pytest.fixture(scope="module")
def clf():
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def other_clf():
    return PGNClassifier(hidden=4, max_epochs=1, random_state=1).fit(X, Y)


@pytest.fixture(scope="module")
def forecaster():
    return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(40.0)))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- what a save may replace ------------------------------------------------------------------


def test_a_folder_with_the_users_own_config_json_is_not_replaced(tmp_path, clf):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "config.json").write_text('{"title": "mine"}')
    (folder / "thesis.tex").write_text("\\documentclass{article}")
    with pytest.raises(FileExistsError, match="not a saved tsrec estimator"):
        clf.save(folder)
    assert names(folder) == ["config.json", "thesis.tex"]
    assert (folder / "thesis.tex").read_text() == "\\documentclass{article}"
    assert names(tmp_path) == ["thesis"]  # no staging folder left behind


def test_a_folder_with_a_saves_file_names_but_another_config_is_not_replaced(tmp_path, clf):
    # the names alone match a save (a model of another library, say): its config's format tells
    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "weights.safetensors").write_bytes(b"their weights")
    with pytest.raises(FileExistsError, match="not a saved tsrec estimator"):
        clf.save(folder)
    assert (folder / "config.json").read_text() == '{"model_type": "bert"}'
    assert (folder / "weights.safetensors").read_bytes() == b"their weights"


def test_a_tsrec_save_with_an_extra_file_is_not_replaced(tmp_path, clf):
    folder = clf.save(tmp_path / "model")
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a saved tsrec estimator"):
        clf.save(folder)
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_file_or_a_link_to_a_foreign_folder_is_not_replaced(tmp_path, clf):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(FileExistsError):
        clf.save(tmp_path / "file")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "data.csv").write_text("1,2")
    (tmp_path / "link").symlink_to(tmp_path / "foreign")
    with pytest.raises(FileExistsError):
        clf.save(tmp_path / "link")
    assert (tmp_path / "file").read_text() == "mine" and names(tmp_path / "foreign") == ["data.csv"]


# ---- how a save replaces an earlier one -------------------------------------------------------


@pytest.fixture(params=["exchange", "two renames"])
def swap_mode(request, monkeypatch):
    """Both ways of swapping a folder in: Linux's atomic exchange and the two-rename fallback."""
    if request.param == "two renames":
        monkeypatch.setattr(_folder, "_exchange", lambda a, b: False)
    return request.param


def test_a_save_replaces_an_earlier_save_and_leaves_nothing_else(tmp_path, clf, other_clf, swap_mode):
    folder = clf.save(tmp_path / "m")
    other_clf.save(folder)
    np.testing.assert_array_equal(tsrec.load(folder).predict_proba(X), other_clf.predict_proba(X))
    assert names(tmp_path) == ["m"] and names(folder) == ["config.json", "weights.safetensors"]


def test_stale_backups_do_not_block_a_save(tmp_path, clf, other_clf, swap_mode):
    # what version 1's fixed backup name and an interrupted save of this version leave behind
    for stale in (".m.old", ".m.tsrec-old-abc123"):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "config.json").write_text("{}")
    clf.save(tmp_path / "m")
    other_clf.save(tmp_path / "m")
    np.testing.assert_array_equal(tsrec.load(tmp_path / "m").predict_proba(X), other_clf.predict_proba(X))


def test_an_interrupted_fallback_save_keeps_the_earlier_model_and_says_where(tmp_path, clf, other_clf, monkeypatch):
    folder = clf.save(tmp_path / "m")
    monkeypatch.setattr(_folder, "_exchange", lambda a, b: False)
    real_replace, killed = _folder.os.replace, []

    def die_before_the_second_rename(src, dst):
        # the process is killed between the two renames: no rename after that happens
        if killed or Path(src).name.startswith(".m.tsrec-new-"):
            killed.append(src)
            raise SystemExit
        real_replace(src, dst)

    monkeypatch.setattr(_folder.os, "replace", die_before_the_second_rename)
    with pytest.raises(SystemExit):
        other_clf.save(folder)
    monkeypatch.setattr(_folder.os, "replace", real_replace)
    with pytest.raises(LoadError, match=r"interrupted save left the earlier model in .*\.m\.tsrec-old-"):
        tsrec.load(folder)
    other_clf.save(folder)  # the backup left behind does not block the next save
    np.testing.assert_array_equal(tsrec.load(folder).predict_proba(X), other_clf.predict_proba(X))


def test_ctrl_c_between_the_fallbacks_renames_puts_the_earlier_save_back(tmp_path, clf, other_clf, monkeypatch):
    folder = clf.save(tmp_path / "m")
    monkeypatch.setattr(_folder, "_exchange", lambda a, b: False)
    real_replace = _folder.os.replace

    def interrupt_the_second_rename(src, dst):
        if Path(src).name.startswith(".m.tsrec-new-"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(_folder.os, "replace", interrupt_the_second_rename)
    with pytest.raises(KeyboardInterrupt):
        other_clf.save(folder)
    np.testing.assert_array_equal(tsrec.load(folder).predict_proba(X), clf.predict_proba(X))
    assert names(tmp_path) == ["m"]


def test_a_folder_filled_while_saving_is_put_back_untouched(tmp_path, clf, swap_mode):
    # the check and the swap are separate steps: what appears in between must survive
    target, staging = tmp_path / "m", tmp_path / ".m.tsrec-new-x"
    for folder in (target, staging):
        folder.mkdir()
    (target / "thesis.tex").write_text("mine")
    (staging / "config.json").write_text("{}")
    with pytest.raises(FileExistsError, match="changed while saving"):
        _folder._swap_in(staging, target)
    assert names(target) == ["thesis.tex"] and names(staging) == ["config.json"]


def test_a_link_to_an_earlier_save_keeps_the_link_and_replaces_its_folder(tmp_path, clf, other_clf, swap_mode):
    real = clf.save(tmp_path / "real")
    (tmp_path / "link").symlink_to(real)
    other_clf.save(tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    np.testing.assert_array_equal(tsrec.load(tmp_path / "link").predict_proba(X), other_clf.predict_proba(X))
    np.testing.assert_array_equal(tsrec.load(real).predict_proba(X), other_clf.predict_proba(X))
    assert names(tmp_path) == ["link", "real"]


# ---- what load refuses -------------------------------------------------------------------------


def set_path(config: dict, keys: tuple, value) -> None:
    for key in keys[:-1]:
        config = config[key]
    config[keys[-1]] = value


@pytest.mark.parametrize("keys,value", [
    (("fitted", "classes"), [1, 0]),
    (("params", "lr"), 0.5),
    (("fitted", "n_timepoints"), 11),
])
def test_edited_config_values_fail_the_checksum(tmp_path, clf, keys, value):
    folder = clf.save(tmp_path / "m")
    edit_config(folder, lambda c: set_path(c, keys, value), reseal=False)
    with pytest.raises(LoadError, match=r"config\.json does not match its checksum"):
        tsrec.load(folder)


def test_edited_scaler_statistics_fail_the_checksum(tmp_path, forecaster):
    folder = forecaster.save(tmp_path / "f")
    edit_config(folder, lambda c: set_path(c, ("fitted", "scaler", "mean"), [5.0]), reseal=False)
    with pytest.raises(LoadError, match=r"config\.json does not match its checksum"):
        tsrec.load(folder)


RESEALED = {
    "missing key": (lambda c: c["fitted"].pop("classes"), r"lacks \['classes'\]"),
    "unknown parameter": (lambda c: c["params"].update(foo=1), r"\['foo'\] are not parameters of PGNClassifier"),
    "bad classes_dtype": (lambda c: c["fitted"].update(classes_dtype="nonsense"), "does not describe a loadable"),
    "labels of another type": (lambda c: c["fitted"].update(classes=["a", "b"]), "does not describe a loadable"),
    "repeated labels": (lambda c: c["fitted"].update(classes=[0, 0]), "not two or more distinct labels"),
    "one label": (lambda c: c["fitted"].update(classes=[0]), "not two or more distinct labels"),
    "inconsistent shape": (lambda c: c["fitted"].update(n_features_in=3), "input shape is inconsistent"),
    "2-D input of two channels": (lambda c: c["fitted"].update(n_channels=2), "input shape is inconsistent"),
    "weights of another width": (lambda c: c["params"].update(hidden=8), "saved weights do not fit"),
    "not a mapping": (lambda c: c.update(fitted=[1]), "lacks a params or fitted mapping"),
    "class name not a string": (lambda c: c.update({"class": ["PGNClassifier"]}), "unknown estimator class"),
    "feature names of another count": (lambda c: c["fitted"].update(feature_names_in=["a"]), "10 column names"),
    "feature names not strings": (lambda c: c["fitted"].update(feature_names_in=list(range(10))), "10 column names"),
}


@pytest.mark.parametrize("case", list(RESEALED))
def test_inconsistent_configs_raise_load_error_naming_the_file(tmp_path, clf, case):
    change, match = RESEALED[case]
    folder = clf.save(tmp_path / "m")
    edit_config(folder, change)
    with pytest.raises(LoadError, match=match) as info:
        tsrec.load(folder)
    assert str(folder / "config.json") in str(info.value)


def test_forecaster_with_another_horizon_raises_load_error(tmp_path, forecaster):
    folder = forecaster.save(tmp_path / "f")
    edit_config(folder, lambda c: c["params"].update(horizon=3))
    with pytest.raises(LoadError, match="saved weights do not fit ARNetForecaster") as info:
        tsrec.load(folder)
    assert str(folder / "config.json") in str(info.value)


def test_the_largest_seed_survives_a_save(tmp_path):
    # sizes past 2**31 are refused at load as edits, but a seed may be any int up to 2**32 - 1
    est = PGNClassifier(hidden=4, max_epochs=1, random_state=2**32 - 1).fit(X, Y)
    back = tsrec.load(est.save(tmp_path / "model"))
    assert back.random_state == 2**32 - 1
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("version", [99, 4.0, "4"])
def test_unsupported_format_version_names_the_file(tmp_path, clf, version):
    # 4.0 was read as 4 (it compares equal): only the integers tsrec writes are versions
    folder = clf.save(tmp_path / "m")
    edit_config(folder, lambda c: c.update(format_version=version))
    with pytest.raises(LoadError, match=rf"config\.json: unsupported format_version {version!r}"):
        tsrec.load(folder)


def test_version_1_saves_without_a_config_checksum_still_load(tmp_path, clf):
    folder = clf.save(tmp_path / "m")

    def as_version_1(config):
        config.pop("config_sha256")
        config["params"].pop("class_weight")  # came with version 4
        config["format_version"] = 1

    edit_config(folder, as_version_1, reseal=False)
    np.testing.assert_array_equal(tsrec.load(folder).predict_proba(X), clf.predict_proba(X))


def test_a_version_2_config_is_still_checksummed(tmp_path, clf):
    folder = clf.save(tmp_path / "m")
    # resealed: as a version-2 save, which held no class_weight
    edit_config(folder, lambda c: (c["params"].pop("class_weight"), c.update(format_version=2)))
    tsrec.load(folder)
    edit_config(folder, lambda c: c["params"].update(lr=0.5), reseal=False)
    with pytest.raises(LoadError, match=r"config\.json does not match its checksum"):
        tsrec.load(folder)


def test_a_classifier_lowered_to_version_1_is_refused_by_its_class_weight(tmp_path, clf):
    # a classifier fitted on arrays held nothing else only version 4 writes: lowered to 1, its config
    # checksum was skipped and an edited lr loaded
    folder = clf.save(tmp_path / "m")
    edit_config(folder, lambda c: (c.pop("config_sha256"), c["params"].update(lr=0.5), c.update(format_version=1)),
                reseal=False)
    with pytest.raises(LoadError, match=r"says format_version 1, but holds what only later versions write"):
        tsrec.load(folder)


@pytest.mark.parametrize("version, edit", [
    (1, lambda c: c["params"].update(lr=0.5)),  # the checksum left as it was: version 1 has none to check
    (2, lambda c: c["fitted"]["series"][0].update(step={"freq": "D"})),  # steps came with version 3
], ids=["lowered to 1", "steps in 2"])
def test_a_lowered_format_version_does_not_hide_an_edit(tmp_path, forecaster, version, edit):
    # with format_version lowered to 1 the config checksum was skipped, and an edited lr and step loaded
    folder = forecaster.save(tmp_path / "f")

    def lowered(config):
        edit(config)
        config["format_version"] = version

    edit_config(folder, lowered, reseal=version > 1)
    with pytest.raises(LoadError, match=rf"config\.json says format_version {version}, but holds what only later "
                                        "versions write: it was edited"):
        tsrec.load(folder)


# ---- column names of a classifier fitted on a DataFrame ----------------------------------------


@pytest.fixture(scope="module")
def named_clf():
    frame = pd.DataFrame(X, columns=[f"t{i}" for i in range(10)])
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(frame, Y), frame


def test_a_loaded_classifier_keeps_its_column_names(tmp_path, named_clf):
    clf, frame = named_clf
    loaded = tsrec.load(clf.save(tmp_path / "m"))
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "X has feature names, but ... was fitted without"
        np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns=str.upper))


def test_a_classifier_fitted_without_column_names_loads_without_them(tmp_path, clf):
    assert not hasattr(tsrec.load(clf.save(tmp_path / "m")), "feature_names_in_")


def test_saves_from_before_column_names_were_stored_still_load(tmp_path, named_clf):
    clf, frame = named_clf
    folder = clf.save(tmp_path / "m")
    edit_config(folder, lambda c: c["fitted"].pop("feature_names_in"))
    loaded = tsrec.load(folder)
    assert not hasattr(loaded, "feature_names_in_")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(frame))


@pytest.mark.parametrize("given", ["m.zip", "m"])
def test_loading_an_sktime_zip_says_that_sktime_reads_it_and_how(tmp_path, clf, given):
    clf.save(tmp_path / "m", serialization_format="pickle").close()
    with pytest.raises(LoadError, match="is an sktime zip") as caught:
        tsrec.load(tmp_path / given)
    call = re.search(r"sktime\.base\.load\((pathlib\.Path\('[^']+'\))\)", str(caught.value)).group(1)
    from sktime.base import load

    loaded = load(eval(call, {"pathlib": pathlib}))  # noqa: S307 - the advice is code; it must run
    assert type(loaded) is type(clf)
