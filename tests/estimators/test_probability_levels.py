"""coverage/alpha of probabilistic forecasts are validated with a message naming the argument."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import LS4Forecaster


@pytest.fixture(scope="module")
def est():
    y = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.date_range("2024-01-01", periods=60, freq="h"))
    return LS4Forecaster(lookback=8, horizon=2, d_model=4, d_state=4, n_layers=1, n_samples=8, max_epochs=1,
                         random_state=0).fit(y)


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), "0.9", True, [0.5, 1], [0.9, "0.5"]])
def test_bad_levels_are_refused_naming_the_argument(est, bad):
    with pytest.raises(ValueError, match="coverage must be a number strictly between 0 and 1"):
        est.predict_interval(fh=[1], coverage=bad)
    with pytest.raises(ValueError, match="alpha must be a number strictly between 0 and 1"):
        est.predict_quantiles(fh=[1], alpha=bad)


@pytest.mark.parametrize("good", [0.5, np.float32(0.8), [0.1, 0.9], (0.25, 0.75), np.array([0.2, 0.6])])
def test_good_levels_give_one_column_pair_or_column_each(est, good):
    assert_read_as_given(est, good)
    assert est.predict_quantiles(fh=[1, 2]).columns.get_level_values(-1).tolist() == [0.05, 0.95]  # sktime's default


def assert_read_as_given(est, levels):
    """One quantile column per level and a lower/upper pair per coverage, labelled as given, in order."""
    given = [float(str(x)) for x in np.atleast_1d(levels)]  # a float32 0.8 is labelled 0.8, as it prints
    quantiles = est.predict_quantiles(fh=[1, 2], alpha=levels)
    assert quantiles.shape == (2, len(given)) and quantiles.columns.get_level_values(-1).tolist() == given
    intervals = est.predict_interval(fh=[1, 2], coverage=levels)
    assert intervals.columns.droplevel(0).tolist() == [(c, side) for c in given for side in ("lower", "upper")]
    bounds = {c: (intervals.xs((c, "lower"), axis=1, level=[1, 2]).to_numpy(),
                  intervals.xs((c, "upper"), axis=1, level=[1, 2]).to_numpy()) for c in given}
    for c in sorted(given):  # each interval holds the narrower ones: the levels were read, not reversed
        assert (bounds[c][0] <= bounds[c][1]).all()
        assert all((bounds[c][0] <= bounds[n][0]).all() and (bounds[n][1] <= bounds[c][1]).all()
                   for n in given if n < c)
    # the quantiles rise with their levels
    assert (np.diff(quantiles[[(quantiles.columns[0][0], q) for q in sorted(given)]].to_numpy(), axis=1) >= 0).all()


@pytest.mark.parametrize("good", [np.array(0.8), pd.Series([0.2, 0.6]), pd.Index([0.4])])
def test_zero_d_arrays_and_pandas_levels_are_read(est, good):
    assert_read_as_given(est, good)


def test_a_float32_level_labels_its_column_as_it_prints(est):
    quantiles = est.predict_quantiles(fh=[1], alpha=np.float32(0.3))
    assert quantiles.columns.get_level_values(-1).tolist() == [0.3]
    assert (quantiles.columns.get_level_values(0)[0], 0.3) in quantiles


@pytest.mark.parametrize("empty", [[], np.array([])])
def test_no_levels_are_refused(est, empty):
    with pytest.raises(ValueError, match="alpha is empty"):
        est.predict_quantiles(fh=[1], alpha=empty)
    with pytest.raises(ValueError, match="coverage is empty"):
        est.predict_interval(fh=[1], coverage=empty)


def test_one_sample_path_is_refused():
    y = pd.Series(np.sin(np.arange(60) / 3.0))
    with pytest.raises(ValueError, match="n_samples"):
        LS4Forecaster(lookback=8, horizon=2, d_model=4, d_state=4, n_layers=1, n_samples=1, max_epochs=1).fit(y)
