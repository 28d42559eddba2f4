"""A panel's saved context from whole-panel arrays: each series' last rows, stamps and step count.

``save`` wrote each series of a panel through a frame of its own (split_panel, iloc, torch.tensor,
index_to_json: ~0.2 ms a series, 3 s for 16,000 series). Where the panel's series are runs of rows
(the usual layout), :func:`context_series` gives the same config entries and tensors from a few
arrays of the whole panel. Any other panel (interleaved or categorical ids, columns of other dtypes,
stamps whose per-series freq would differ from the level's, steps not learned at fit) gives None,
and is saved series by series as before (:func:`series_one_by_one`); both write the same bytes
(tests/estimators/test_saved_context_fast.py). ``tsrec.load`` restores such a panel from its runs
too (:func:`restored_runs`: no frame per series).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from tsrec.estimators._saved_json import index_to_json, key_to_json, tz_to_json
from tsrec.estimators._onepass import panel_runs


def context_series(est, lookback: int) -> tuple[list[dict], dict[str, np.ndarray]] | None:
    """The fitted ``est``'s saved series entries and context tensors, or None for the slow path.

    Parameters
    ----------
    est : DeepForecaster
        A fitted forecaster whose stored data ``est._y`` is a (series id, time) panel.
    lookback : int
        The rows kept of each series (its last ones).

    Returns
    -------
    tuple of (list of dict, dict of str to numpy.ndarray) or None
        The ``fitted["series"]`` entries, and ``context.i`` (with per-series scaling also
        ``scales.mean`` and ``scales.scale``) as C-contiguous float64 arrays; None where this
        panel is saved series by series.
    """
    from tsrec.estimators._steps import held_steps

    y = est._y
    if lookback < 1 or not isinstance(y, pd.DataFrame) or not isinstance(y.index, pd.MultiIndex) \
            or not _plain_numbers(y):
        return None
    runs = panel_runs(y)
    if runs is None:
        return None
    starts, ends = runs.starts, runs.ends
    tails = np.maximum(starts, ends - lookback)  # as df.iloc[-lookback:]
    stamps = _stamps_json(y.index, starts, ends, tails)
    keys, held = list(runs.keys), held_steps(est)
    if stamps is None or not held or any(key not in held for key in keys):  # steps read off the rows: slow path
        return None
    steps = [held[key] for key in keys]
    scales = _fitted_scales(est, keys)
    if scales is None:
        return None
    lasts = _last_positions(y.index, ends - 1, steps)
    values = np.ascontiguousarray(y.to_numpy(float))  # row slices of it are contiguous
    tensors = {f"context.{i}": values[tail:end] for i, (tail, end) in enumerate(zip(tails.tolist(), ends.tolist()))}
    tensors.update(scales)
    as_json = _steps_as_json(steps)
    series = [{"key": key_to_json(key), "index": index, "last_position": int(last) + int(offset),
               "step": as_json[type(step), step]}
              for key, index, last, offset, step in zip(keys, stamps, lasts.tolist(), est.position_offset_, steps)]
    return series, tensors


def _plain_numbers(y: pd.DataFrame) -> bool:
    """Columns of NumPy numbers, whose rows ``to_numpy(float)`` reads alike for the panel and a series."""
    return all(isinstance(dtype, np.dtype) and dtype.kind in "fiu" for dtype in y.dtypes)


def _stamps_json(index: pd.MultiIndex, starts: np.ndarray, ends: np.ndarray, tails: np.ndarray) -> list | None:
    """Each series' kept stamps as :func:`~tsrec.estimators._saved_json.index_to_json` writes them."""
    level, codes = index.levels[-1], index.codes[-1]
    if isinstance(level, pd.PeriodIndex):
        head, values = {"kind": "period", "freq": level.freqstr}, level.asi8
    elif isinstance(level, pd.DatetimeIndex):
        # a series' stamps keep the level's freq where its rows are a run of the level (pandas' take of a
        # slice); of other runs pandas derives another freq, which this path leaves to the slow one
        if level.freq is not None and not _runs_of_level(codes, starts):
            return None
        tz = tz_to_json(level)
        head = {"kind": "datetime", "freq": level.freqstr, "tz": tz, "unit": level.unit}
        values = level.as_unit("ns").asi8
    elif level.dtype.kind in "iu":
        head, values = {"kind": "int", "dtype": str(level.dtype)}, np.asarray(level)
    else:
        return None
    listed = values[codes].tolist()  # one conversion to Python ints, sliced per series
    return [{**head, "values": listed[tail:end]} for tail, end in zip(tails.tolist(), ends.tolist())]


def _runs_of_level(codes: np.ndarray, starts: np.ndarray) -> bool:
    """Whether each series' time codes count up by one (its stamps are consecutive ones of the level)."""
    steps = np.diff(codes) == 1
    steps[starts[1:] - 1] = True  # from one series to the next
    return bool(steps.all())


def _last_positions(index: pd.MultiIndex, last_rows: np.ndarray, steps: list) -> np.ndarray:
    """The step count of each series' last stamp (:func:`~tsrec.estimators._timeindex.positions`),
    counted once for all series of a step: it counts each stamp on its own."""
    from tsrec.estimators._timeindex import positions

    stamps = index.levels[-1].take(index.codes[-1][last_rows])
    rows_of = {}
    for i, step in enumerate(steps):
        rows_of.setdefault((type(step), step), []).append(i)
    counts = np.empty(len(steps), dtype=np.int64)
    for rows in rows_of.values():
        counts[rows] = positions(stamps[rows], steps[rows[0]])
    return counts


def _steps_as_json(steps: list) -> dict:
    """Each distinct step's JSON, by (type, step): a panel holds few distinct steps (~50 us each)."""
    from tsrec.estimators._steps import step_to_json

    as_json = {}
    for step in steps:  # equal steps of one type share the first one's JSON
        if (type(step), step) not in as_json:
            as_json[type(step), step] = step_to_json(step)
    return as_json


def _fitted_scales(est, keys: list) -> dict | None:
    """With ``scaling="series"`` the fitted statistics of each series, in order (none with one
    global scaler); None where a series has none (saved series by series, as before)."""
    from tsrec.estimators._scaling import fitted_scales

    if est.series_scales_ is None:
        return {}
    scales, known = fitted_scales(est, [(key, None) for key in keys])  # reads the keys only
    if not known.all():
        return None
    mean, scale = (np.array(a) for a in scales)  # C-contiguous copies, as torch.tensor(np.array(a)) saved them
    return {"scales.mean": mean, "scales.scale": scale}


@dataclass(frozen=True)
class RestoredRuns:
    """The series of a panel restored by ``tsrec.load``, as runs of its rows: what the restoring fit
    reads of them (each one's step count at its last row), without a frame per series."""

    index: pd.MultiIndex
    last_rows: np.ndarray
    steps: list

    def last_positions(self) -> list[int]:
        """Each series' step count at its last stamp, as ``positions(frame.index, step)[-1]``."""
        return _last_positions(self.index, self.last_rows, self.steps).tolist()


def restored_runs(y: object, lookback: int, saved_steps: dict | None) -> tuple[dict, RestoredRuns] | None:
    """The steps by series key and the runs of a panel a saved model is restored on, or None where
    the restoring fit splits it into a frame per series (~0.1 ms each) as any fit does.

    Parameters
    ----------
    y : object
        The saved context the restoring fit is given.
    lookback : int
        The rows each series needs; a shorter one (a damaged folder) is refused by the split path.
    saved_steps : dict or None
        The saved steps by series key; None for folders saved before steps were (read off the rows).

    Returns
    -------
    tuple of (dict, RestoredRuns) or None
        The steps of the series in order (a KeyError for a series without one, as in
        :func:`~tsrec.estimators._steps.restored_steps`), and the series' runs.
    """
    if saved_steps is None or not isinstance(y, pd.DataFrame) or not isinstance(y.index, pd.MultiIndex) or not len(y):
        return None
    runs = panel_runs(y)
    if runs is None or (runs.ends - runs.starts < lookback).any():
        return None
    steps = {key: saved_steps[key] for key in runs.keys}
    return steps, RestoredRuns(y.index, runs.ends - 1, list(steps.values()))


def series_one_by_one(est, lookback: int, tensors: dict) -> list[dict]:
    """The saved series entries, each from a frame of its own; adds its context (and scales) to ``tensors``."""
    from tsrec.estimators._series import split_panel
    from tsrec.estimators._steps import held_list
    from tsrec.estimators._timeindex import positions

    parts = split_panel(est._y)
    steps = held_list(est, parts)
    series, as_json = [], _steps_as_json(steps)
    for i, ((key, df), step) in enumerate(zip(parts, steps)):
        tail = df.iloc[-lookback:]
        tensors[f"context.{i}"] = torch.tensor(tail.to_numpy(float))
        last = int(positions(df.index, step)[-1]) + int(est.position_offset_[i])
        series.append({"key": key_to_json(key), "index": index_to_json(tail.index), "last_position": last,
                       "step": as_json[type(step), step]})
    _save_series_scales(est, parts, tensors)
    return series


def _save_series_scales(est, parts: list, tensors: dict) -> None:
    """With ``scaling="series"``, each saved series' statistics, in the order of the saved series."""
    from tsrec.estimators._scaling import scales_of

    if est.series_scales_ is not None:
        scales = scales_of(est, parts)  # every stored series was fitted: its fitted statistics
        tensors["scales.mean"], tensors["scales.scale"] = (torch.tensor(np.array(a)) for a in scales)
