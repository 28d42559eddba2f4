"""load_cached: one load per saved folder while its files are unchanged, the four most recently used kept."""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrec.batch._models as models_module
from tsrec.batch import load_cached
from tsrec.estimators import ARNetForecaster

Y = pd.Series(np.sin(np.arange(40.0) / 3), index=pd.date_range("2024-01-01", periods=40, freq="h"))


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(models_module, "_CACHE", OrderedDict())  # other tests' folders stay out of the count


def fitted(horizon: int = 2) -> ARNetForecaster:
    return ARNetForecaster(n_lags=4, horizon=horizon, max_epochs=1, random_state=0).fit(Y)


def test_a_model_saved_again_into_the_same_folder_is_loaded_again(tmp_path):
    folder = tmp_path / "model"
    fitted(horizon=2).save(folder)
    first = load_cached(folder)
    assert load_cached(folder) is first
    shutil.rmtree(folder)
    fitted(horizon=3).save(folder)
    for file in folder.iterdir():  # file clocks may tick coarsely: the new files are one second newer
        stamp = file.stat().st_mtime_ns + 10**9
        os.utime(file, ns=(stamp, stamp))
    second = load_cached(folder)
    assert second is not first and second.horizon == 3


def test_the_four_most_recently_used_models_are_kept(tmp_path):
    model = fitted()
    folders = [tmp_path / name for name in "abcde"]
    for folder in folders:
        model.save(folder)
    a, b, *_ = [load_cached(folder) for folder in folders[:4]]
    assert load_cached(folders[0]) is a  # a used again: b is now the least recently used
    load_cached(folders[4])  # a fifth folder evicts b, not a
    assert load_cached(folders[0]) is a
    assert load_cached(folders[1]) is not b


def _saved_arnet(folder: Path) -> None:
    from tsrec.estimators import ARNetForecaster

    y = pd.Series(np.sin(np.arange(40.0) / 3), index=pd.date_range("2024-01-01", periods=40, freq="D"))
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y).save(folder)


def test_load_cached_knows_a_folder_by_any_path_to_it(tmp_path, monkeypatch):
    # a relative path and the absolute one name one folder: one load, one shared model
    _saved_arnet(tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    assert load_cached("model") is load_cached(tmp_path / "model") is load_cached(tmp_path / "." / "model")


def test_threads_loading_one_folder_at_once_share_one_load(tmp_path, monkeypatch):
    # Dask's threads ask for the model together: the second must wait for the first's load, not load it again
    import time
    _saved_arnet(tmp_path / "model")
    loads, load = [], models_module.load

    def slow_load(path):
        loads.append(path)
        time.sleep(0.3)
        return load(path)

    monkeypatch.setattr(models_module, "load", slow_load)
    got = []
    threads = [threading.Thread(target=lambda: got.append(load_cached(tmp_path / "model"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(got) == 3 and got[0] is got[1] is got[2]
