"""load_cached: one load per saved folder while its files are unchanged, the four most recently used kept."""

from __future__ import annotations

import os
import shutil
from collections import OrderedDict

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
