"""A panel is forecast a bounded number of series per network pass, with the forecasts of one pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import CycleNetForecaster, LS4Forecaster, _sample_paths


def panel(n_series: int = 5, n_rows: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_product([[f"s{i}" for i in range(n_series)],
                                        pd.date_range("2024-01-01", periods=n_rows, freq="h")])
    return pd.DataFrame({"v": rng.normal(size=len(index)) + np.repeat(np.arange(n_series), n_rows)}, index=index)


def counted_passes(est, monkeypatch, entries=("forward", "sample", "sample_mean")) -> list[int]:
    """The batch sizes of the network's passes through its ``entries``, recorded as they happen."""
    sizes = []
    network = est.network_
    for name in entries:
        method = getattr(network, name, None)
        if method is not None:
            monkeypatch.setattr(network, name, lambda x, *a, _m=method, **k: sizes.append(x.shape[0]) or _m(x, *a, **k))
    return sizes


def test_point_forecasts_of_a_panel_are_those_of_one_pass(monkeypatch):
    y = panel()
    est = CycleNetForecaster(lookback=8, horizon=3, cycle_length=4, max_epochs=1, random_state=0).fit(y)
    whole = est.predict(fh=[1, 2, 3, 4, 5])
    est.batch_size = 2  # the training batch; sktime's set_params would reset the fitted forecaster
    passes = counted_passes(est, monkeypatch)
    pd.testing.assert_frame_equal(est.predict(fh=[1, 2, 3, 4, 5]), whole, rtol=1e-6)
    assert passes == [2, 2, 2, 2, 1, 1]  # each pass of series forecasts 3 steps, then 3 more fed back


@pytest.mark.parametrize("method", ["predict", "predict_quantiles", "predict_var", "sample_paths"])
def test_sample_paths_of_a_panel_are_those_of_one_pass(monkeypatch, method):
    y = panel()
    est = LS4Forecaster(**{**LS4Forecaster.get_test_params()[0], "random_state": 0}).fit(y)
    call = {"predict": lambda: est.predict(fh=[1, 2, 3]),
            "predict_quantiles": lambda: est.predict_quantiles(fh=[1, 3], alpha=[0.1, 0.5, 0.9]),
            "predict_var": lambda: est.predict_var(fh=[2, 3]),
            "sample_paths": lambda: est.sample_paths(3)}[method]
    whole = call()
    monkeypatch.setattr(_sample_paths, "PATHS_PER_PASS", 2 * est.n_samples)  # two series a pass
    passes = counted_passes(est, monkeypatch)
    chunked = call()
    np.testing.assert_allclose(np.asarray(chunked), np.asarray(whole), rtol=1e-6, atol=1e-9)
    assert passes == [2, 2, 1]


def test_window_forecasts_of_a_sampler_take_a_pass_of_sample_paths_at_a_time(monkeypatch):
    y = panel(n_series=1, n_rows=60)
    est = LS4Forecaster(**{**LS4Forecaster.get_test_params()[0], "random_state": 0}).fit(y)
    whole = est.forecast_windows(y, batch_size=1000)
    monkeypatch.setattr(_sample_paths, "PATHS_PER_PASS", 20 * est.n_samples)
    passes = counted_passes(est, monkeypatch, entries=("forward",))
    np.testing.assert_allclose(est.forecast_windows(y), whole, rtol=1e-5, atol=1e-6)  # float32 batches
    assert passes == [20, 20, 15]  # 55 windows of 4 + 2 rows, 20 a pass
