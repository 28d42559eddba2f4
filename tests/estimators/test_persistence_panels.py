"""A saved panel forecaster loads with the panel it was fitted on: the same series, stamps, level
kinds and cutoff, and the same forecasts, for every kind of time index and series key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster


def _panel(ids: list, stamps: pd.Index, names: list | None = None, seed: int = 0) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([*ids, stamps], names=names)
    return pd.DataFrame({"x": np.random.default_rng(seed).standard_normal(len(index))}, index=index)


def _uneven() -> pd.DataFrame:
    hourly = _panel([["p"]], pd.date_range("2024-01-01", periods=40, freq="h"))
    two_hourly = _panel([["q"]], pd.date_range("2024-01-05", periods=50, freq="2h"), seed=1)
    return pd.concat([hourly, two_hourly])


PANELS = {
    "ids out of sorted order": _panel([["b", "a", "c10", "c2"]], pd.date_range("2024-01-01", periods=40, freq="30min"),
                                      ["id", "t"]),
    "periods": _panel([[3, 1, 2]], pd.period_range("2020-01-01", periods=40, freq="D")),
    "integers": _panel([["u", "v"]], pd.RangeIndex(40), ["id", "step"]),
    "hierarchy in UTC": _panel([["r1", "r0"], ["s1", "s0"]],
                               pd.date_range("2024-01-01", periods=40, freq="D", tz="UTC"), ["r", "s", "t"]),
    "other ends and steps": _uneven(),
}


@pytest.fixture(params=list(PANELS), scope="module")
def saved(request, tmp_path_factory):
    est = ARNetForecaster(n_lags=8, horizon=3, max_epochs=1, random_state=0).fit(PANELS[request.param], fh=[1, 2, 3])
    folder = tmp_path_factory.mktemp("panel") / "model"
    est.save(folder)
    return est, tsrec.load(folder)


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_the_loaded_panel_is_each_series_last_rows(saved):
    est, loaded = saved
    tails = est._y.groupby(level=list(range(est._y.index.nlevels - 1)), sort=False).tail(8)
    pd.testing.assert_frame_equal(loaded._y, tails)
    assert [level.dtype for level in loaded._y.index.levels] == [level.dtype for level in tails.index.levels]


@pytest.mark.filterwarnings("ignore::tsrec.errors.MixedStepsWarning")  # steps mixed on purpose
def test_the_loaded_cutoff_and_forecasts_are_the_fitted_ones(saved):
    est, loaded = saved
    assert repr(loaded.cutoff) == repr(est.cutoff)  # its freq included
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    pd.testing.assert_frame_equal(loaded.predict(fh=[2, 5]), est.predict(fh=[2, 5]))


def test_a_panel_saved_before_steps_were_stored_keeps_its_cutoff_step(tmp_path):
    from test_persistence_steps import edit_config, saved_before_steps_were_stored  # the format-2 folder of that test

    est = ARNetForecaster(n_lags=8, horizon=3, max_epochs=1, random_state=0).fit(PANELS["ids out of sorted order"])
    folder = est.save(tmp_path / "model")
    edit_config(folder, saved_before_steps_were_stored)
    loaded = tsrec.load(folder)
    assert repr(loaded.cutoff) == repr(est.cutoff)  # freq "30min": sktime's relative-to-absolute fh needs it
    pd.testing.assert_frame_equal(loaded.predict(fh=[1, 2]), est.predict(fh=[1, 2]))
