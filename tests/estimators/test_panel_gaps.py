"""A panel whose series have gaps, or several of which are too short, is told a fix that runs on the
panel: one series' fix (y.asfreq, y.reindex) failed on the (id, time) index with a TypeError or a dtype
mismatch, and short series were named one failed fit at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, InputError

HOURS = pd.date_range("2020", periods=80, freq="h")
STAMPS = {"dates": HOURS, "integers": pd.Index(range(0, 160, 2)), "periods": HOURS.to_period("h")}


def _panel(stamps: pd.Index, ids: list) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([*ids, stamps])
    return pd.DataFrame({"y": np.sin(np.arange(len(index), dtype=float))}, index=index)


@pytest.mark.parametrize("ids", [[["a", "b"]], [["r1", "r2"], ["a", "b"]]], ids=["one id level", "two id levels"])
@pytest.mark.parametrize("kind", list(STAMPS))
def test_the_fix_for_uneven_stamps_in_a_panel_runs_on_the_panel(kind, ids):
    y = _panel(STAMPS[kind], ids)
    y = y.drop(y.index[[85, 86, 87]])  # three rows out of the second series
    with pytest.raises(InputError, match="not evenly spaced") as info:
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    fix = str(info.value).rsplit("e.g. ", 1)[1]
    regridded = eval(fix, {"pd": pd}, {"y": y})  # noqa: S307 - the message's own code, as a user would paste it
    assert regridded.shape == (len(y) + 3, 1) and not regridded.isna().any().any()
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(regridded)


@pytest.mark.parametrize("keys", [["a", "b", "c", "d"], [("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")]],
                         ids=["one id level", "two id levels"])
def test_several_short_series_are_counted_and_told_the_filter_that_leaves_them_out(keys):
    lengths = dict(zip(keys, [80, 5, 3, 80]))
    y = pd.concat({key: pd.DataFrame({"y": np.sin(np.arange(n, dtype=float))}, index=HOURS[:n])
                   for key, n in lengths.items()})
    with pytest.raises(InputError, match=r"2 of the 4 series are shorter than n_lags \+ horizon = 6 rows, e\.g\. "
                                         r".*\(5 rows\), .*\(3 rows\)") as info:
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)
    kept = eval(str(info.value).rsplit("y = ", 1)[1], {}, {"y": y})  # noqa: S307 - the message's own code
    assert kept.index.droplevel(-1).unique().tolist() == [keys[0], keys[3]]
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(kept)
