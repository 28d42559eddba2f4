"""Details of the fast save path (tsrec/estimators/_saved_context.py, _weights_file.py): which path a panel
takes, what each guard keeps from the NumPy writer, and folders the restoring fit must still read. From a
mutation round: each test fails on a mutant the byte-for-byte tests let through."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster, _folder
from tsrec.estimators._persistence import save_estimator
from tsrec.estimators._saved_context import context_series

HOURS = pd.date_range("2024-01-01", periods=30, freq="h")


def _panel(ids: list, stamps: pd.Index, columns: int = 1, seed: int = 0) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([ids, stamps])
    values = np.random.default_rng(seed).standard_normal((len(index), columns))
    return pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(columns)])


def _rewrite_config(folder: Path, change) -> None:
    """Edit config.json as a careful forger would (as test_saved_models_stay_the_fitted_ones.rewrite)."""
    config = json.loads((folder / "config.json").read_text())
    change(config)
    config["config_sha256"] = _folder._config_sha256(config)
    (folder / "config.json").write_text(json.dumps(config))


def _same_folders(fast: Path, slow: Path) -> None:
    assert sorted(p.name for p in fast.iterdir()) == sorted(p.name for p in slow.iterdir())
    for file in slow.iterdir():
        assert (fast / file.name).read_bytes() == file.read_bytes(), file.name


def test_a_loaded_model_saved_again_keeps_its_step_counts(tmp_path):
    """A loaded model's step counts go on from the training's (position_offset_, nonzero where the saved
    counts differ from its stamps'); a fast re-save must write them with the offset, as the slow one does.
    Every fitted model has offsets of 0, so the fast-path tests cannot see a lost offset."""
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], HOURS), fh=[1, 2])
    folder = est.save(tmp_path / "model")
    _rewrite_config(folder, lambda c: [s.update(last_position=s["last_position"] + 7 * (i + 1))
                                       for i, s in enumerate(c["fitted"]["series"])])
    saved = [s["last_position"] for s in json.loads((folder / "config.json").read_text())["fitted"]["series"]]
    loaded = tsrec.load(folder)
    assert loaded.position_offset_ == [7, 14]
    assert context_series(loaded, loaded._lookback_length()) is not None  # the fast path is taken
    again = save_estimator(loaded, tmp_path / "again")
    assert [s["last_position"] for s in json.loads((again / "config.json").read_text())["fitted"]["series"]] == saved
    _same_folders(again, save_estimator(loaded, tmp_path / "slow", fast=False))


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_a_time_level_without_a_freq_is_saved_fast_where_its_series_skip_stamps(tmp_path):
    """Only a level with a freq hands it to each series' stamps: where it has none, a series that
    skips stamps of the level (its step is two of the level's) is no reason for the slow path.
    "differing lengths" has a freq-less level, but each of its series is a run of it."""
    y = pd.concat([_panel(["a"], pd.date_range("2024-01-01", periods=30, freq="h")),
                   _panel(["b"], pd.date_range("2024-01-01", periods=30, freq="2h"), seed=1)])
    assert y.index.levels[-1].freq is None
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    assert context_series(est, est._lookback_length()) is not None
    _same_folders(save_estimator(est, tmp_path / "fast"), save_estimator(est, tmp_path / "slow", fast=False))


def test_a_forecaster_holding_no_step_for_a_series_is_saved_series_by_series(tmp_path):
    """A series without a held step (its step read off its rows, as for pickles of earlier versions)
    sends the save down the slow path, which reads it; the fast one would fail on the missing key."""
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], HOURS), fh=[1, 2])
    est._series_steps = {"a": est._series_steps["a"]}  # "b" held none
    assert context_series(est, est._lookback_length()) is None
    _same_folders(save_estimator(est, tmp_path / "fast"), save_estimator(est, tmp_path / "slow", fast=False))


@pytest.mark.parametrize("stamps", [pd.Index(np.arange(30, dtype="uint64")), pd.Index(np.arange(30, dtype="int32")),
                                    HOURS.as_unit("s").tz_localize("Asia/Tokyo")], ids=["uint64", "int32", "seconds"])
def test_time_levels_of_other_dtypes_and_units_are_saved_fast(stamps, tmp_path):
    """Unsigned and 32-bit integer steps and second-unit stamps are runs of plain numbers too: the fast
    path takes them, and writes the slow one's bytes (dtype and unit included)."""
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], stamps), fh=[1, 2])
    assert context_series(est, est._lookback_length()) is not None
    _same_folders(save_estimator(est, tmp_path / "fast"), save_estimator(est, tmp_path / "slow", fast=False))


def test_a_stored_series_without_fitted_statistics_is_saved_series_by_series(tmp_path):
    """With scaling="series", a stored series missing from series_scales_ gets the statistics of its
    rows on the slow path; the fast one has none to write (it would write unset memory)."""
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, scaling="series").fit(
        _panel(["a", "b"], HOURS), fh=[1, 2])
    est.series_scales_ = est.series_scales_.iloc[:1]  # "b" has none
    assert context_series(est, est._lookback_length()) is None
    _same_folders(save_estimator(est, tmp_path / "fast"), save_estimator(est, tmp_path / "slow", fast=False))


@pytest.mark.parametrize("odd", ["bfloat16", "fortran", "big-endian", "list"])
def test_weights_numpy_cannot_write_as_they_are_go_to_torchs_writer(odd, tmp_path):
    """A network tensor NumPy has no dtype for (bfloat16), an array not C-contiguous or not in the
    machine's byte order, or a value that is neither: as_arrays leaves them to torch's writer, which
    writes what as_tensors gives (contexts that are views of one array included: each gets memory of
    its own, or torch's writer would refuse them as sharing it)."""
    import torch
    from tsrec.estimators._folder import save_file
    from tsrec.estimators._weights_file import as_arrays, as_tensors

    values = np.arange(8.0).reshape(4, 2)
    tensors = {"network.w": torch.ones(2, 3), "context.0": values[:2], "context.1": values[2:]}
    if odd == "bfloat16":
        tensors["network.w"] = torch.ones(2, 3, dtype=torch.bfloat16)
    elif odd == "fortran":
        tensors["context.2"] = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    elif odd == "big-endian":
        tensors["context.2"] = np.arange(6.0).reshape(3, 2).astype(">f8")
    else:
        tensors["network.n"] = [1, 2]
    assert as_arrays(tensors) is None
    if odd in ("bfloat16", "fortran"):
        save_file(as_tensors(tensors), str(tmp_path / "w"))  # written: no two share memory


def test_a_saved_panel_context_shorter_than_the_lookback_is_refused_at_load(tmp_path):
    """A damaged folder whose second series kept fewer rows than n_lags: restoring from the panel's
    runs (no frame per series) must refuse it as the split path does, not build a model on 3 rows."""
    from safetensors.torch import load_file, save_file

    from tsrec.estimators.errors import LoadError

    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], HOURS), fh=[1, 2])
    folder = est.save(tmp_path / "model")
    tensors = load_file(folder / "weights.safetensors")
    tensors["context.1"] = tensors["context.1"][-3:].clone()
    save_file(tensors, folder / "weights.safetensors")

    def shorten(config):
        config["weights_sha256"] = _folder._sha256((folder / "weights.safetensors").read_bytes())
        config["fitted"]["series"][1]["index"]["values"] = config["fitted"]["series"][1]["index"]["values"][-3:]

    _rewrite_config(folder, shorten)
    with pytest.raises(LoadError, match=r"series 'b' of y has 3 rows but needs at least n_lags = 4"):
        tsrec.load(folder)


def test_a_saved_panel_of_runs_is_restored_without_a_frame_per_series(tmp_path, monkeypatch):
    """tsrec.load restores a panel of runs from its arrays (restored_runs): the restoring fit must not
    split it into a frame per series (~0.1 ms each, the cost the fast path removes)."""
    from tsrec.estimators import _forecaster

    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(
        _panel([f"s{i}" for i in range(5)], HOURS), fh=[1, 2])
    folder = est.save(tmp_path / "model")

    def refused(y):
        raise AssertionError("split into a frame per series")

    monkeypatch.setattr(_forecaster, "split_panel", refused)
    loaded = tsrec.load(folder)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_fast_false_takes_the_old_path_throughout_and_fast_the_new_one(tmp_path, monkeypatch):
    """The byte-for-byte test compares save(fast=False) with the fast save: were fast=False to reach
    context_series or NumPy's writer, it would compare the fast path with itself and pass whatever
    that wrote; and a fast save of a panel must take both (else its speed is lost unseen)."""
    from tsrec.estimators import _saved_context

    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], HOURS), fh=[1, 2])
    called = []
    real_context, real_arrays = _saved_context.context_series, _folder.save_arrays
    monkeypatch.setattr(_saved_context, "context_series", lambda *a: called.append("context") or real_context(*a))
    monkeypatch.setattr(_folder, "save_arrays", lambda *a: called.append("numpy") or real_arrays(*a))
    save_estimator(est, tmp_path / "slow", fast=False)
    assert called == []
    save_estimator(est, tmp_path / "fast")
    assert called == ["context", "numpy"]


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_the_fit_step_is_the_first_series_one_at_fit_and_after_load(tmp_path):
    """The fit's step (which new contexts must have) is the first series' step, whether the steps come
    from the split frames or from the restored runs' dict: with the last series' step it changes."""
    y = pd.concat([_panel(["a"], pd.date_range("2024-01-01", periods=30, freq="2h")),
                   _panel(["b"], pd.date_range("2024-01-01", periods=30, freq="h"), seed=1)])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    assert est._fit_step == pd.tseries.frequencies.to_offset("2h")
    assert tsrec.load(est.save(tmp_path / "model"))._fit_step == est._fit_step


def test_a_panel_folder_saved_before_steps_were_stored_still_loads(tmp_path):
    """An old panel folder holds no steps (None): the restoring fit reads them off the rows, series by
    series; the runs path must step aside, not index None by the series keys. The steps tests used a
    single series only, which that path never takes."""
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(_panel(["a", "b"], HOURS), fh=[1, 2])
    folder = est.save(tmp_path / "model")

    def saved_before_steps_were_stored(config):
        config["params"] = json.loads(json.dumps(config["params"]).replace('{"__tuple__": ', "").replace("]}", "]"))
        if config["fitted"]["scaler"] is not None:
            config["fitted"]["scaler"].pop("n_samples_seen")
        config["fitted"].pop("id_dtypes")
        config["fitted"].pop("columns_index")
        for spec in config["fitted"]["series"]:
            spec.pop("step")
        config["format_version"] = 2

    _rewrite_config(folder, saved_before_steps_were_stored)
    loaded = tsrec.load(folder)
    assert list(loaded._series_steps.items()) == list(est._series_steps.items())
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
