"""Save and load checks: the path argument, the shared training parameters at load, column names
that are NumPy scalars, None or of an object Index, and a load's parameter warnings given once."""

from __future__ import annotations

import io
import os
import shutil
import warnings
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier
from tsrec.estimators.errors import LoadError

from saved_configs import edit_config  # tests/estimators/saved_configs.py

X = np.random.default_rng(0).normal(size=(12, 10))
LABELS = np.arange(12) % 2
VALUES = np.c_[np.sin(np.arange(40.0)), np.cos(np.arange(40.0))]


def ar_net(y, **params) -> ARNetForecaster:
    params = {"n_lags": 4, "horizon": 2, "max_epochs": 1, "random_state": 0, **params}
    return ARNetForecaster(**params).fit(y, fh=[1, 2])


@pytest.fixture(scope="module")
def forecaster():
    return ar_net(np.sin(np.arange(40.0)))


@pytest.fixture(scope="module")
def classifier():
    return PGNClassifier(hidden=4, max_epochs=1, random_state=0).fit(X, LABELS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, forecaster, classifier):
    root = tmp_path_factory.mktemp("saved")
    return {"forecaster": forecaster.save(root / "forecaster"), "classifier": classifier.save(root / "classifier")}


# ---- 3: a path that is no path --------------------------------------------------------------------


@pytest.mark.parametrize("path", [123, b"/tmp/model", ["m"]], ids=["int", "bytes", "list"])
@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_save_refuses_a_path_that_is_no_path_naming_path(request, kind, path):
    est = request.getfixturevalue(kind)
    with pytest.raises(TypeError, match=r"save: path must be a str or os.PathLike .*or None for sktime's in-memory"):
        est.save(path)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        est.save(path, serialization_format="pickle")


def test_save_with_no_path_still_returns_the_in_memory_pickle(forecaster):
    assert not isinstance(forecaster.save(None), (str, os.PathLike))


@pytest.mark.parametrize("path", [None, 123, b"/tmp/model"], ids=["None", "int", "bytes"])
def test_load_refuses_a_path_that_is_no_path_naming_path(path):
    with pytest.raises(TypeError, match=r"tsrec.load: path must be a str or os.PathLike \(such as pathlib.Path\)"):
        tsrec.load(path)


def test_load_of_an_open_zip_names_the_path_sktime_reads(forecaster, tmp_path):
    # sktime's docs list a ZipFile among what its load takes, but it refuses one: the file's path is read
    forecaster.save(tmp_path / "m", serialization_format="pickle")
    with zipfile.ZipFile(tmp_path / "m.zip") as packed, pytest.raises(
            TypeError, match=r"got ZipFile .*read by its file's path: sktime\.base\.load\(pathlib\.Path\("):
        tsrec.load(packed)
    from sktime.base import load as sktime_load

    assert type(sktime_load(tmp_path / "m.zip")) is type(forecaster)  # as the message says


# ---- 4: fit's training-parameter checks run at load -------------------------------------------


@pytest.mark.parametrize("name, value", [
    ("lr", "0.1"), ("max_epochs", 1.5), ("batch_size", -3), ("random_state", -5), ("verbose", "yes"),
    ("precision", "bogus"), ("trainer_kwargs", {"max_epochs": 3}), ("patience", "x"), ("val_size", 5.0),
    ("weight_decay", -1.0), ("accelerator", 3), ("devices", True),
])
@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_saved_training_parameters_that_fit_refuses_are_refused_at_load(tmp_path, saved, kind, name, value):
    folder = shutil.copytree(saved[kind], tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update({name: value}))
    with pytest.raises(LoadError, match=rf"the saved parameters are refused by \w+ \({name}"):
        tsrec.load(folder)


@pytest.mark.parametrize("name, value", [("loss", "l2"), ("huber_delta", -1.0), ("scaler", "minmax")])
def test_a_forecasters_saved_loss_or_scaler_that_fit_refuses_is_refused_at_load(tmp_path, saved, name, value):
    folder = shutil.copytree(saved["forecaster"], tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update({name: value}))
    with pytest.raises(LoadError, match=rf"the saved parameters are refused by ARNetForecaster \({name} must be"):
        tsrec.load(folder)


def test_a_model_saved_for_a_gpu_loads_on_any_machine(tmp_path, saved):
    """Whether the accelerator exists is the later fit's question, not the load's."""
    folder = shutil.copytree(saved["classifier"], tmp_path / "m")
    edit_config(folder, lambda config: config["params"].update(accelerator="gpu", devices=[0]))
    assert tsrec.load(folder).get_params()["accelerator"] == "gpu"


# ---- 5: column names that are NumPy scalars ---------------------------------------------------


@pytest.mark.parametrize("first", [np.int64(1), np.bool_(True)], ids=["int64", "bool_"])
def test_numpy_scalar_column_names_save_as_their_values(tmp_path, first):
    y = pd.DataFrame(VALUES, columns=pd.Index([first, "a"], dtype=object))
    est = ar_net(y)
    loaded = tsrec.load(est.save(tmp_path / "m"))
    assert list(loaded.predict().columns) == list(y.columns)
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    pd.testing.assert_frame_equal(loaded.predict(y=y), est.predict(y=y))
    new = pd.DataFrame([[0.1, 0.2]], columns=y.columns, index=pd.RangeIndex(40, 41))
    pd.testing.assert_frame_equal(loaded.update(new, update_params=False).predict(),
                                  est.update(new, update_params=False).predict())


# ---- 6: a column named None, and an object Index -----------------------------------------------


@pytest.mark.parametrize("labels", [[None, "a"], ["a", "b"], [1.5, 2.5]], ids=["None", "text", "floats"])
def test_object_column_labels_come_back_as_fitted(tmp_path, labels):
    y = pd.DataFrame(VALUES, columns=pd.Index(labels, dtype=object))
    est = ar_net(y)
    loaded = tsrec.load(est.save(tmp_path / "m"))
    columns = loaded.predict().columns
    assert columns.dtype == object and list(columns) == labels
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    new = pd.DataFrame([[0.1, 0.2]], columns=y.columns, index=pd.RangeIndex(40, 41))
    pd.testing.assert_frame_equal(loaded.update(new, update_params=False).predict(),
                                  est.update(new, update_params=False).predict())


def test_a_folder_saved_without_object_dtype_still_keeps_a_none_label(tmp_path):
    y = pd.DataFrame(VALUES, columns=pd.Index([None, "a"], dtype=object))
    folder = ar_net(y).save(tmp_path / "m")
    edit_config(folder, lambda config: config["fitted"]["columns_index"].update(dtype=None))
    assert list(tsrec.load(folder).predict().columns) == [None, "a"]


# ---- 11: a load's parameter warnings, once ------------------------------------------------------


def test_one_load_warns_of_an_unused_parameter_once(tmp_path):
    y = pd.Series(np.sin(np.arange(64) / 3), index=pd.date_range("2021-01-04", periods=64, freq="h"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, d_model=4, max_epochs=1).fit(y, fh=[1, 2])
    folder = est.save(tmp_path / "m")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tsrec.load(folder)
    assert [str(w.message) for w in caught if "d_model" in str(w.message)] == [
        "CycleNetForecaster: d_model=4 has no effect with backbone='linear'; set backbone='mlp' to use it"
    ]


def test_a_missing_folder_is_a_file_not_found_error_and_config_json_names_its_folder(tmp_path, saved):
    # a missing path was a LoadError ("config.json and weights.safetensors are needed") and no FileNotFoundError,
    # unlike tsrec's other missing files; load_cached said "no such folder" in other words
    from tsrec.batch import load_cached
    from tsrec.estimators.errors import ModelNotFoundError

    for loader in (tsrec.load, load_cached):
        message = r"nowhere is not a saved tsrec estimator: no such folder"
        with pytest.raises(FileNotFoundError, match=message) as info:
            loader(tmp_path / "nowhere")
        assert isinstance(info.value, ModelNotFoundError) and isinstance(info.value, LoadError)
    folder = saved["forecaster"]
    message = rf"config\.json is a saved estimator's config\.json; pass its folder, {folder}"
    with pytest.raises(LoadError, match=message):
        tsrec.load(folder / "config.json")


def test_a_zip_in_memory_gets_the_plain_fix_not_a_path_of_none():
    # its filename is None: "sktime.base.load(pathlib.Path('None'))" would name a file that is not there
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    with zipfile.ZipFile(buffer) as packed, pytest.raises(
            TypeError, match=r"got ZipFile .*; pass the folder's path as text or a pathlib\.Path$"):
        tsrec.load(packed)


def test_an_object_with_a_filename_that_is_no_zipfile_gets_the_plain_fix():
    # a web framework's upload has a filename too, but is no zip that est.save wrote
    upload = SimpleNamespace(filename="model.zip")
    with pytest.raises(TypeError, match=r"got SimpleNamespace .*; pass the folder's path as text or a pathlib\.Path$"):
        tsrec.load(upload)


def test_a_missing_folder_is_named_once(tmp_path):
    # read_folder's OSError handler must let its own ModelNotFoundError (a FileNotFoundError) through: wrapped it
    # read "cannot read the saved estimator .../nowhere: .../nowhere is not a saved tsrec estimator: ..."
    import re

    import tsrec

    with pytest.raises(FileNotFoundError, match=rf"^{re.escape(str(tmp_path / 'nowhere'))} is not a saved tsrec "
                                                r"estimator: no such folder"):
        tsrec.load(tmp_path / "nowhere")
