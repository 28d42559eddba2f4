"""Window cutting: counts, time-order split, no leakage across series, full evaluation batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.estimators._windows import WindowBatches, build_windows, cut_point, validation_cuts, window_loader


def series(n, start=0, channels=1):
    values = np.arange(start, start + n, dtype=float).reshape(-1, 1).repeat(channels, 1)
    return values, np.arange(n), n


def test_cut_point_fraction_and_rows():
    assert cut_point(100, 0.2, lookback=10, horizon=5) == 80
    assert cut_point(100, 30, lookback=10, horizon=5) == 70
    assert cut_point(100, 0.0, lookback=10, horizon=5) == 100
    assert cut_point(20, 0.1, lookback=10, horizon=5) == 20  # too few rows: no validation
    assert cut_point(24, 10, lookback=15, horizon=5) == 24  # 14 rows cannot precede a validation target


@pytest.mark.parametrize("lookback", [2, 10, 15])
def test_a_series_validation_targets_do_not_depend_on_the_lookback(lookback):
    # 28 rows, the last 10 validate: a lookback of 15 leaves no training window in this series, but
    # in a panel whose other series trains it validates the same targets as a lookback of 2
    cuts = validation_cuts([28, 100], 10, lookback, horizon=5)
    assert cuts == [18, 90]
    values, pos, _ = series(28)
    windows = build_windows([(values, pos, cuts[0])], lookback=lookback, horizon=5)
    targets = {int(start) + lookback for start in windows.val_starts}
    assert targets == set(range(18, 28 - 5 + 1))
    # alone, nothing would be left to train on: it trains on every row without validation
    assert validation_cuts([28], 10, lookback, horizon=5) == ([28] if lookback + 5 > 18 else [18])


def test_train_windows_end_before_cut_and_val_targets_start_after():
    values, pos, _ = series(100)
    windows = build_windows([(values, pos, 80)], lookback=10, horizon=5)
    assert windows.train_starts.max() + 15 <= 80
    assert len(windows.train_starts) == 80 - 15 + 1
    assert windows.val_starts.min() + 10 == 80
    assert len(windows.val_starts) == 100 - 80 - 5 + 1


def test_windows_never_cross_series():
    a, b = series(30, 0), series(20, 1000)
    windows = build_windows([a, b], lookback=4, horizon=2)
    assert len(windows.train_starts) == (30 - 6 + 1) + (20 - 6 + 1)
    data = WindowBatches(windows, windows.train_starts)
    x, y, position = data[list(range(len(data)))]
    # consecutive values inside every window: it lies in one series
    full = torch.cat([x, y], dim=1)[..., 0]
    assert torch.all(full[:, 1:] - full[:, :-1] == 1)
    # every step's position (the series' own, which need not rise by one), each window inside one series
    starts = list(range(30 - 6 + 1)) + list(range(20 - 6 + 1))
    assert position.tolist() == [list(range(start, start + 6)) for start in starts]


def test_unfold_view_shares_memory_with_the_data():
    values, pos, n = series(50, channels=3)
    windows = build_windows([(values, pos, n)], lookback=8, horizon=4)
    data = WindowBatches(windows, windows.train_starts)
    assert data.view.data_ptr() == windows.values.data_ptr()
    x, y, _ = data[[0, 5]]
    assert x.shape == (2, 8, 3) and y.shape == (2, 4, 3)
    assert float(x[1, 0, 0]) == 5.0 and float(y[1, 0, 0]) == 13.0


def test_evaluation_keeps_the_ragged_last_batch_training_drops_it():
    values, pos, n = series(100)
    windows = build_windows([(values, pos, n)], lookback=10, horizon=5)
    total = len(windows.train_starts)  # 86
    eval_sizes = [len(b[0]) for b in window_loader(windows, windows.train_starts, 32, False, 0)]
    train_sizes = [len(b[0]) for b in window_loader(windows, windows.train_starts, 32, True, 0)]
    assert sum(eval_sizes) == total and eval_sizes[-1] == total % 32
    assert all(size == 32 for size in train_sizes) and len(train_sizes) == total // 32


def test_shuffling_is_seeded():
    values, pos, n = series(100)
    windows = build_windows([(values, pos, n)], lookback=10, horizon=5)
    order = lambda seed: torch.cat([b[2] for b in window_loader(windows, windows.train_starts, 8, True, seed)])
    assert torch.equal(order(1), order(1)) and not torch.equal(order(1), order(2))


def test_cut_point_bounds_are_inclusive():
    # exactly one horizon of validation rows validates; so does a cut with exactly lookback rows before it
    assert cut_point(100, 5, lookback=10, horizon=5) == 95
    assert cut_point(30, 10, lookback=20, horizon=5) == 20
    assert cut_point(100, 4, lookback=10, horizon=5) == 100  # one row short of a horizon
    assert cut_point(30, 11, lookback=20, horizon=5) == 30  # one row short of a lookback


def test_training_keeps_a_single_batch_smaller_than_batch_size():
    # fewer windows than batch_size: the one (ragged) batch trains, rather than no batch at all
    values, pos, n = series(20)
    windows = build_windows([(values, pos, n)], lookback=10, horizon=5)
    sizes = [len(b[0]) for b in window_loader(windows, windows.train_starts, 32, True, 0)]
    assert sizes == [len(windows.train_starts)] == [6]
