"""update details a mutation round over _updates.py found unpinned: a refused update leaves sktime's converter
store as it was, a df-list with one empty frame is no empty update, and the scale check centres by the fitted mean."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError


def test_a_refused_update_predict_single_keeps_the_converter_store():
    y = pd.Series(np.sin(np.arange(60) / 3.0) + 3, index=pd.date_range("2024-01-01", periods=60, freq="h"), name="v")
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:40])
    before = {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(est).items() if isinstance(v, dict)}
    with pytest.raises(ValueError):
        est.update_predict_single(y.iloc[40:45].to_frame("w"), fh=[0, 1], update_params=False)
    after = {k: v for k, v in vars(est).items() if isinstance(v, dict)}
    for key, value in before.items():
        assert after[key] == value, key


def test_update_predict_single_with_one_empty_frame_of_a_df_list_is_not_an_empty_update():
    index = pd.date_range("2024-01-01", periods=50, freq="h")
    frames = [pd.DataFrame({0: np.sin(np.arange(50) / 3.0) + 3 + k}, index=index) for k in (0, 1)]
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit([f.iloc[:40] for f in frames])
    rows = [frames[0].iloc[40:45], frames[1].iloc[:0]]  # series 0 gains 5 rows, series 1 none
    # refused, naming the empty frame and the panel that updates some series (not skipped as sktime's
    # empty update; fit's refusal asked for lookback + horizon rows)
    with pytest.raises(InputError, match=r"^y\[1\] is empty: a list of frames gives the fitted series their new "
                                         r"rows in order.*pd-multiindex panel whose first level holds their numbers"):
        est.update_predict_single(rows, fh=[1], update_params=False)
    assert est._y.shape[0] == 80  # unchanged
    new = pd.concat({0: frames[0].iloc[40:45]}, names=est._y.index.names)  # the advice: series 0 alone
    forecast = est.update(new, update_params=False).predict(fh=[1])
    assert forecast.index.tolist() == [(0, index[45]), (1, index[40])]


def test_update_rows_at_the_fitted_constant_level_far_past_float32_are_taken():
    index = pd.date_range("2024-01-01", periods=90, freq="h")
    y = pd.Series(np.full(90, 1e40), index=index, name="v")  # scale 1: 1e40 / 1 is past float32, 0 is not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y.iloc[:80])
        est.update(y.iloc[80:], update_params=False)
    assert est._y.shape[0] == 90
