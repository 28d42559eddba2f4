"""Training windows: all series in one tensor, windows cut as a strided view with ``Tensor.unfold``.

Series of a panel are concatenated; a window start is valid when the whole window (lookback +
horizon rows) lies inside one series. Each series is split in time order: training windows end
before the cut row, validation windows have all their targets after it (their inputs may reach
back into the training rows, as in the benchmark protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from tsrec.estimators._batches import batch_loader


@dataclass
class WindowSet:
    """Concatenated series with the valid training and validation window starts."""

    values: torch.Tensor  # (rows, channels) float32, or float64 to train in it
    position: torch.Tensor  # (rows,) int64, absolute step of each row
    train_starts: np.ndarray
    val_starts: np.ndarray
    lookback: int
    horizon: int


def cut_point(n_rows: int, val_size: float | int, lookback: int, horizon: int) -> int:
    """Row where validation targets begin; ``n_rows`` when there is no room for validation.

    ``val_size`` is a fraction of the rows (float in [0, 1)) or a number of rows (int). A series
    validates when its last ``val_size`` rows hold a horizon and ``lookback`` rows precede them:
    its validation targets are then those rows whatever the lookback, so that fits of different
    lookbacks (the trials of a search) are scored on the same targets. It may be left with no
    training window (see :func:`validation_cuts`).
    """
    n_val = int(round(val_size * n_rows)) if isinstance(val_size, float) else int(val_size)
    cut = n_rows - n_val
    if n_val < horizon or cut < lookback:
        return n_rows
    return cut


def validation_cuts(lengths: list[int], val_size: float | int, lookback: int, horizon: int) -> list[int]:
    """Each series' :func:`cut_point`; every series' length when no training window would be
    left (then every series trains on all its rows, without validation, as one short series does)."""
    cuts = [cut_point(n, val_size, lookback, horizon) for n in lengths]
    return list(lengths) if all(cut < lookback + horizon for cut in cuts) else cuts


def build_windows(
    series: list[tuple[np.ndarray, np.ndarray, int]], lookback: int, horizon: int, dtype: type = np.float32
) -> WindowSet:
    """Concatenate ``(values, positions, cut)`` triples, held in ``dtype``, and list valid window starts."""
    width = lookback + horizon
    train, val, offset = [], [], 0
    for values, _, cut in series:
        n = len(values)
        starts = np.arange(offset, offset + n - width + 1)
        local = starts - offset
        train.append(starts[local + width <= cut])
        val.append(starts[local + lookback >= cut])  # empty when cut == n
        offset += n
    values = torch.from_numpy(np.concatenate([s[0] for s in series]).astype(dtype))
    position = torch.from_numpy(np.concatenate([s[1] for s in series]).astype(np.int64))
    return WindowSet(values, position, np.concatenate(train), np.concatenate(val), lookback, horizon)


class WindowBatches(Dataset):
    """Map a list of window numbers to one batch ``(x, y, position)`` by a single gather (``position``:
    (batch, lookback + horizon), the position of every step of each window)."""

    def __init__(self, windows: WindowSet, starts: np.ndarray) -> None:
        self.lookback = windows.lookback
        # (n_windows, channels, width) strided view: no copy of the data
        self.view = windows.values.unfold(0, windows.lookback + windows.horizon, 1)
        # each window's positions step by step: wall-clock positions of zoned stamps skip or repeat
        # one at a daylight-saving change, so a window's first does not tell the rest
        self.position = windows.position.unfold(0, windows.lookback + windows.horizon, 1)
        self.starts = torch.from_numpy(starts)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, items: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        start = self.starts[items]
        block = self.view[start].transpose(1, 2)
        return block[:, : self.lookback], block[:, self.lookback :], self.position[start]


def window_loader(
    windows: WindowSet, starts: np.ndarray, batch_size: int, shuffle: bool, seed: int
) -> DataLoader:
    """A loader of whole batches; training drops a ragged last batch, evaluation never does."""
    dataset = WindowBatches(windows, starts)
    return batch_loader(dataset, batch_size, shuffle, seed, drop_last=shuffle and len(dataset) > batch_size)
