"""A panel saved from whole-panel arrays (the fast path) writes the very bytes of a save series by
series (the path every panel took before, still taken by those the fast path refuses), and loads
into a forecaster that predicts as the saved one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec
from tsrec.estimators import ARNetForecaster
from tsrec.estimators._persistence import save_estimator
from tsrec.estimators._saved_context import context_series
from tsrec.estimators._folder import save_arrays, save_file
from tsrec.estimators._weights_file import as_arrays, as_tensors

HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def _panel(ids: list, stamps: pd.Index, names: list | None = None, columns: int = 1, seed: int = 0) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([*ids, stamps], names=names)
    values = np.random.default_rng(seed).standard_normal((len(index), columns))
    return pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(columns)])


def _differing_lengths() -> pd.DataFrame:
    """Series of other lengths, ends and steps: the time level has no freq."""
    return pd.concat([_panel([["p"]], HOURS[:20]), _panel([["q"]], pd.date_range("2024-01-03", periods=26, freq="2h"),
                                                          seed=1), _panel([["r"]], HOURS[5:], seed=2)])


def _every_other_row() -> pd.DataFrame:
    """A time level with a freq (hourly) of which each series holds every other stamp: pandas gives
    each series' stamps a freq of two hours, which the fast path leaves to the slow one."""
    return _panel([["a", "b"]], pd.date_range("2024-01-01", periods=60, freq="h")).iloc[::2]


PANELS = {
    "ids not sorted as text": _panel([[f"s{i}" for i in range(12)]], HOURS, ["id", "ds"]),
    "ids sorted": _panel([[f"s{i}" for i in range(12)]], HOURS, ["id", "ds"]).sort_index(),
    "multivariate": _panel([["b", "a"]], HOURS, columns=3),
    "integer ids": _panel([[7, 3, 5]], HOURS),
    "tuple ids": _panel([["r1", "r0"], ["s1", "s0"]], HOURS, ["r", "s", "t"]),
    "time zone": _panel([["x", "y"]], pd.date_range("2024-03-30", periods=30, freq="h", tz="Europe/Berlin")),
    "utc days": _panel([["x", "y"]], pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")),
    "range index": _panel([["u", "v"]], pd.RangeIndex(30)),
    "periods": _panel([[2, 1]], pd.period_range("2020-01", periods=30, freq="M")),
    "business days": _panel([["m", "n"]], pd.bdate_range("2024-01-01", periods=30)),
    "differing lengths": _differing_lengths(),
    "one series": _panel([["only"]], HOURS),
    "every other row": _every_other_row(),
    "one flat series": pd.DataFrame({"y": np.sin(np.arange(30.0))}, index=HOURS),
}
SLOW_ONLY = {"every other row", "one flat series"}  # what the fast path refuses


@pytest.fixture(params=[(name, scaling) for name in PANELS for scaling in ("global", "series")],
                ids=lambda p: f"{p[0]}-{p[1]}", scope="module")
def fitted(request):
    name, scaling = request.param
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaling=scaling)
    return name, est.fit(PANELS[name], fh=[1, 2])


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_the_fast_path_writes_the_bytes_of_the_series_by_series_save(fitted, tmp_path):
    """Every file of the folder, byte for byte: config.json (its checksums too) and the weights."""
    name, est = fitted
    assert (context_series(est, est._lookback_length()) is None) == (name in SLOW_ONLY)  # each path is taken
    fast = save_estimator(est, tmp_path / "fast")
    slow = save_estimator(est, tmp_path / "slow", fast=False)
    assert sorted(p.name for p in fast.iterdir()) == sorted(p.name for p in slow.iterdir())
    for file in slow.iterdir():
        assert (fast / file.name).read_bytes() == file.read_bytes(), file.name


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")
def test_a_fast_save_loads_into_the_same_forecasts(fitted, tmp_path):
    """The loaded forecaster's stored rows, steps, step counts, cutoff and forecasts are the fitted one's."""
    from tsrec.estimators._series import split_panel
    from tsrec.estimators._timeindex import positions

    name, est = fitted
    folder = est.save(tmp_path / "model")
    loaded = tsrec.load(folder)
    # restored from the runs of rows: each series' step count as one frame per series gives it
    saved = json.loads((folder / "config.json").read_text())["fitted"]["series"]
    now = [int(positions(df.index, loaded._series_steps[key])[-1]) for key, df in split_panel(loaded._y)]
    assert loaded.position_offset_ == [spec["last_position"] - n for spec, n in zip(saved, now)]
    assert list(loaded._series_steps.items()) == list(est._series_steps.items())
    # every other row: the fitted cutoff has the level's freq (h), the loaded one the series' step (2h)
    assert list(loaded.cutoff) == list(est.cutoff)
    if name != "every other row":
        assert repr(loaded.cutoff) == repr(est.cutoff)
    pd.testing.assert_frame_equal(loaded._y, est._y.groupby(level=list(range(est._y.index.nlevels - 1)),
                                                             sort=False).tail(4) if est._y.index.nlevels > 1
                                  else est._y.tail(4))
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_tensors_sharing_memory_are_refused_as_before(tmp_path):
    """safetensors refuses tensors that share memory; arrays beside them must not change that."""
    weight = torch.zeros(3)
    tensors = {"a": weight, "b": weight, "context.0": np.zeros((2, 1))}
    assert as_arrays(tensors) is None
    with pytest.raises(RuntimeError, match="share memory"):
        save_file(as_tensors(tensors), str(tmp_path / "w"))


def test_weights_written_by_numpy_or_torch_are_the_same_file(tmp_path):
    tensors = {"network.w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "network.n": torch.tensor(3),
               "context.0": np.arange(4.0).reshape(2, 2)}
    save_arrays(as_arrays(tensors), str(tmp_path / "numpy"))
    save_file(as_tensors(tensors), str(tmp_path / "torch"))
    assert (tmp_path / "numpy").read_bytes() == (tmp_path / "torch").read_bytes()


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")
def test_a_loaded_forecaster_has_sktimes_cutoff_of_its_panel(fitted, tmp_path):
    from sktime.datatypes import get_cutoff

    _, est = fitted
    loaded = tsrec.load(est.save(tmp_path / "model"))
    expected = get_cutoff(loaded._y, return_index=True)
    assert repr(loaded._cutoff) == repr(expected) and loaded._cutoff.dtype == expected.dtype \
        and getattr(loaded._cutoff, "freq", None) == getattr(expected, "freq", None)
