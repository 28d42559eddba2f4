"""benchmarks/ltsf.py: the windows it scores, all of them or, with --drop-last, those a test loader keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def ltsf(benchmark_script):
    return benchmark_script("ltsf")


def test_drop_last_keeps_the_first_multiple_of_the_batch(ltsf):
    err = np.arange(70.0)[:, None]
    assert len(ltsf.scored_windows(err, 0)) == 70
    np.testing.assert_array_equal(ltsf.scored_windows(err, 32), err[:64])


def test_repeat_last_scores_the_kept_windows_only(ltsf):
    values = np.random.default_rng(0).standard_normal((50, 2)).cumsum(axis=0)
    test = pd.DataFrame(values)
    lookback, horizon = 4, 3  # 44 windows: 32 kept
    errors = np.stack([values[s + lookback:s + lookback + horizon] - values[s + lookback - 1] for s in range(44)])
    mse_all, mae_all, _, _ = ltsf.repeat_last_scores(test, lookback, horizon)
    mse_kept, mae_kept, _, _ = ltsf.repeat_last_scores(test, lookback, horizon, drop_last=32)
    assert mse_all == pytest.approx(np.mean(errors**2)) and mae_all == pytest.approx(np.mean(np.abs(errors)))
    assert mse_kept == pytest.approx(np.mean(errors[:32] ** 2)) and mae_kept == pytest.approx(np.mean(np.abs(errors[:32])))
    assert mse_kept != pytest.approx(mse_all)


def test_a_negative_drop_last_is_refused(ltsf):
    with pytest.raises(SystemExit):
        ltsf.main(["--model", "repeat-last", "--drop-last", "-1"])
