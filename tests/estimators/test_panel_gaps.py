"""A panel whose series have gaps is told a fix that runs on the panel: one series' fix (y.asfreq,
y.reindex) failed on the (id, time) index with a TypeError or a dtype mismatch."""

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
