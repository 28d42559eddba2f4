"""Panels read in one pass where each series is one run of rows: the batch's up-front checks, and
forecasts on the fitted step's grid (``predict`` of a stored panel or of ``y=panel``, and so the
batch's chunks).

The per-series path builds a frame for each series' context and another for its forecasts (about
0.2 ms a series). Where every series is one run of rows (sorted panels, files read by the batch),
the steps and the scaled contexts come from the panel's arrays instead, read as ``context_steps``
and ``scales_of`` read each series; on the fitted step's grid (a fixed-length step, or integers),
the forecasts and their stamps do too (:func:`forecast_on_grid`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import torch

from tsrec.estimators._evaluate import new_frame
from tsrec.estimators._fh_stamps import align_stamps
from tsrec.estimators._horizon import (
    ROLLOUT_ROW_BYTES, aligned_fh, check_output_size, relative_steps, stamps_fh, warn_long_rollout,
)
from tsrec.estimators._newdata import check_scaled, uses_stamps
from tsrec.estimators._panel_values import warn_far_context, warn_rounded_context
from tsrec.estimators._scale_statistics import Scales, run_scales
from tsrec.estimators._scaling import fitted_scales, warn_constant_contexts
from tsrec.estimators._series import run_keys, run_starts
from tsrec.estimators._steps import fixed_length, fixed_units, held_steps
from tsrec.estimators._timeindex import check_integer_room, past_last_date
from tsrec.estimators._training import network_dtype
from tsrec.estimators.errors import InputError

if TYPE_CHECKING:
    from sktime.forecasting.base import ForecastingHorizon

    from tsrec.estimators._forecaster import DeepForecaster

_INT64 = np.iinfo(np.int64)


class Runs(NamedTuple):
    """Each series' first row, the row after its last, and its key (as ``split_panel`` gives it)."""

    starts: np.ndarray
    ends: np.ndarray
    keys: pd.Index


def panel_runs(panel: pd.DataFrame) -> Runs | None:
    """The runs of rows of ``panel``'s series; None where a series' rows are not one run."""
    starts = run_starts(panel.index)
    if starts is None:
        return None
    return Runs(starts, np.append(starts[1:], len(panel)), run_keys(panel.index, starts))


class Grid(NamedTuple):
    """Series on one fitted step's grid: the step, each series' last stamp (int64: the stamps'
    units, or the integers), the step in those units, and the date-times' unit (None: integers)."""

    step: object
    last: np.ndarray
    units: int
    unit: str | None


def fitted_grid(est: DeepForecaster, panel: pd.DataFrame, runs: Runs | None) -> Grid | None:
    """The :class:`Grid` of the fitted step ``context_steps`` would read every series of ``panel``
    at, because each lies on that step's grid; None where telling takes each series' own look
    (stamps the model reads, a time zone, several fitted steps, calendar steps, a series off the grid)."""
    first = getattr(est, "_fit_step", None)
    if runs is None or not _grid_model(est):
        return None
    held = held_steps(est)
    codes = panel.index.codes[-1]
    if (codes < 0).any() or (held and any(held.get(key, first) != first for key in runs.keys)):
        return None
    values, units = _stamp_units(panel.index.levels[-1], first)
    if values is None or units is None or units != units:  # NaN: a step finer than the stamps' unit
        return None
    values = values[codes]
    inner = np.ones(max(len(values) - 1, 0), dtype=bool)
    inner[runs.starts[1:] - 1] = False  # the gap from one series to the next
    # rising too: int64 stamps that wrap past the largest differ by the step as well
    if not ((np.diff(values)[inner] == units).all() and (values[1:] > values[:-1])[inner].all()):
        return None
    unit = getattr(panel.index.levels[-1], "unit", None)
    return Grid(first, values[runs.ends - 1], int(units), unit)


def _grid_model(est: DeepForecaster) -> bool:
    """Whether ``est`` can read any panel on a grid: one fitted step of fixed length (or integers),
    naive stamps, none of them read by the network."""
    first = getattr(est, "_fit_step", None)
    zone = est._fitted_zone()
    fixed = isinstance(first, int) or fixed_length(first, zone)
    return fixed and not uses_stamps(est.network_meta_) and zone is None


def _stamp_units(times: pd.Index, step: object) -> tuple[np.ndarray | None, float | None]:
    """The stamps as int64 and ``step`` in their units, where adding the step adds that many units."""
    if isinstance(step, int):
        return (np.asarray(times), step) if times.dtype == np.int64 else (None, None)
    if isinstance(times, pd.DatetimeIndex) and times.tz is None:
        return times.asi8, fixed_units(times, step)
    return None, None


def check_room_on_grid(grid: Grid, ahead: list[int]) -> None:
    """``predict``'s refusal of the first series whose forecasts' stamps would pass int64's largest
    (integers, or date-times in their unit), if any."""
    room = _INT64.max - max(ahead) * grid.units  # a Python int: the furthest stamp may pass int64's largest
    late = np.flatnonzero(grid.last > room) if room >= _INT64.min else [0]
    if not len(late):
        return
    last = int(grid.last[late[0]])
    if grid.unit is None:
        check_integer_room(last, grid.step, np.asarray(ahead))
    else:
        raise past_last_date(grid.unit, pd.Timestamp(np.datetime64(last, grid.unit)), ahead, grid.step)


def scaled_last_rows(est: DeepForecaster, panel: pd.DataFrame, runs: Runs, lookback: int) -> np.ndarray:
    """The last ``lookback`` rows of each series (series, lookback, variates), standardised as
    ``scaled_contexts(scales_of(est, parts), parts, lookback)`` standardises them."""
    return _scaled_last_rows(est, panel, runs, lookback)[0]


def _scaled_last_rows(est: DeepForecaster, panel: pd.DataFrame, runs: Runs, lookback: int) -> tuple[np.ndarray, Scales]:
    """:func:`scaled_last_rows`, and the statistics that standardised them."""
    values = panel.to_numpy(float)
    scales = _run_scales(est, values, runs)
    rows = runs.ends[:, None] - lookback + np.arange(lookback)
    return scales.stacked(values[rows]), scales


def _run_scales(est: DeepForecaster, values: np.ndarray, runs: Runs) -> Scales:
    """``scales_of``: fitted statistics where known, else those of all a series' rows."""
    scales, known = fitted_scales(est, [(key, None) for key in runs.keys])
    if not known.all():
        counts = runs.ends - runs.starts
        own = run_scales(values[np.repeat(~known, counts)], counts[~known], est.scaler)
        scales.centre[~known], scales.scale[~known] = own
        new = [(key, values[start:end]) for key, start, end, seen in zip(runs.keys, runs.starts, runs.ends, known)
               if not seen]
        warn_constant_contexts(new, est.columns_)
    return scales


def _stamp_steps(grid: Grid, stamps: pd.Index) -> np.ndarray | None:
    """(series, stamps): the steps from each series' end to each of the absolute ``stamps``; None
    unless each is a whole number of steps after every end, in the grid's kind (naive date-times or
    integers), where the per-series path names what is wrong."""
    values = _grid_values(grid, stamps) if len(stamps) else None
    ends, which = np.unique(grid.last, return_inverse=True)  # sorted panels mostly share one end
    if values is None or not (_within(values) and _within(ends)):  # no int64 wrap below
        return None
    steps, rest = np.divmod(values[None, :] - ends[:, None], grid.units)
    return None if rest.any() or steps.min() < 1 else steps[which]


def _grid_values(grid: Grid, stamps: pd.Index) -> np.ndarray | None:
    """``stamps`` as int64 in the grid's units; None for another kind, or where that loses a digit."""
    if grid.unit is None:
        values = np.asarray(stamps)
        fits = values.dtype.kind == "i" or (values.dtype.kind == "u" and values.max() <= _INT64.max)
        return values.astype(np.int64) if fits else None
    if not isinstance(stamps, pd.DatetimeIndex) or stamps.tz is not None:
        return None
    try:
        converted = stamps.as_unit(grid.unit)
    except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
        return None
    return converted.asi8 if (converted == stamps).all() else None  # as_unit rounds to a coarser unit


def _within(values: np.ndarray) -> bool:
    """Whether ``values`` lie within 2**62 of 0 (differences of two such fit an int64)."""
    return bool((values > -(2**62)).all() and (values < 2**62).all())


def stored_fh(est: DeepForecaster, fh: object) -> ForecastingHorizon | None:
    """``aligned_fh(fh, est._y, ...)`` for absolute stamps on the grid of every stored series, read
    from the panel's arrays (the per-series look split a panel of 16,000 series in 1.4 s); None
    where that takes each series' look (relative steps, another kind, stamps off a series' grid)."""
    y = est._y
    if not isinstance(y.index, pd.MultiIndex) or y.index.nlevels != 2:
        return None
    given = aligned_fh(fh, None)  # unique, and read by sktime: as aligned_fh does before looking at y
    if given is None or given.is_relative:
        return None
    grid, stamps = fitted_grid(est, y, panel_runs(y)), given.to_pandas()
    steps = None if grid is None else _stamp_steps(grid, stamps)
    if steps is None:
        return None
    # of the data's kind already: only uint64 stamps of int64 data change, as the per-series look changes them
    stamps = align_stamps(stamps, y.index.levels[-1], grid.step, "y")
    return stamps_fh(stamps, list(np.unique(steps, axis=0)), grid.step)


def forecast_runs(est: DeepForecaster, chunk: pd.DataFrame, horizon: list[int] | pd.Index) -> pd.DataFrame | None:
    """``est.predict(fh=horizon, y=chunk)`` read from the chunk's arrays (:func:`forecast_on_grid`),
    after ``predict``'s checks of the chunk as a whole; None where that needs a frame per series."""
    mtype, chunk = new_frame(est, chunk)  # values, dtypes, variates, sorted stamps
    return forecast_on_grid(est, chunk, horizon) if mtype == "pd-multiindex" else None


def forecast_new_context(est: DeepForecaster, fh: object, y: object) -> pd.DataFrame | None:
    """``est.predict(fh, y=y)`` for a (series id, time) panel ``y`` and relative steps or absolute
    stamps (given, or fit's), read from its arrays (:func:`forecast_runs`); None elsewhere, for
    ``predict``'s path."""
    if not est.is_fitted or not isinstance(y, pd.DataFrame) or getattr(y.index, "nlevels", 1) != 2:
        return None
    if not _grid_model(est) or est.network_.uses_position:  # before checking y, which that path does again
        return None
    try:
        aligned = aligned_fh(fh if fh is not None else est._given_fh(), None)
        horizon = None if aligned is None else _horizon_of(aligned)
    except (InputError, TypeError, ValueError):  # predict's path refuses it, after its checks of y
        return None
    if horizon is None or (aligned.is_relative and aligned.freq is not None):  # that path checks the freq too
        return None
    if aligned.is_relative:
        warn_long_rollout(max(horizon), est._horizon_length())
    return forecast_runs(est, y, horizon)


def forecast_stored(est: DeepForecaster, fh: ForecastingHorizon) -> pd.DataFrame | None:
    """``est.predict(fh)``'s forecasts of the stored panel, read from its arrays
    (:func:`forecast_on_grid`); None where that needs a frame per series."""
    y = est._y
    if not isinstance(y.index, pd.MultiIndex) or y.index.nlevels != 2:
        return None
    return forecast_on_grid(est, y, _horizon_of(fh))


def _horizon_of(fh: ForecastingHorizon) -> list[int] | pd.Index:
    """A relative ``fh``'s steps, or an absolute one's stamps, as :func:`forecast_on_grid` takes them."""
    return [int(k) for k in relative_steps(fh)] if fh.is_relative else fh.to_pandas()


def forecast_on_grid(est: DeepForecaster, panel: pd.DataFrame, horizon: list[int] | pd.Index) -> pd.DataFrame | None:
    """The forecasts of a checked (series id, time) ``panel`` at ``horizon``, steps after the end of
    each series (a list) or absolute stamps (an Index), as ``predict`` gives them, where each series
    is one run of rows on the fitted step's grid (see :func:`fitted_grid`), the stamps lie on it, and
    the model reads no positions; None elsewhere.

    The per-series path builds a frame for each series' context and another for its forecasts
    (0.2 ms a series); here the contexts, the forecasts and their stamps are one array each. The
    forecasts are that path's to the bit: the same standardised contexts, network passes and unscaling.
    """
    runs = panel_runs(panel)
    grid = fitted_grid(est, panel, runs)
    lookback = est._lookback_length()
    if grid is None or est.network_.uses_position or (runs.ends - runs.starts).min() < lookback:
        return None
    ahead = _ahead(grid, horizon, len(runs.keys))  # (series, steps)
    if ahead is None:
        return None
    last = int(ahead.max())
    # in the per-series path's order: the output's size, the contexts, the forecasts, their stamps
    check_output_size(len(runs.keys), last, est.n_channels_, row_bytes=ROLLOUT_ROW_BYTES)
    if isinstance(horizon, pd.Index):  # relative steps were weighed as fh was checked
        warn_long_rollout(last, est._horizon_length(), stamps=True)
    context, scales = _scaled_last_rows(est, panel, runs, lookback)
    keys = list(runs.keys)
    check_scaled(context, "the context", keys)
    dtype = network_dtype(est.network_)
    warn_rounded_context(context, dtype == torch.float32, keys, est.scaler)
    warn_far_context(est, context, keys)
    x = torch.as_tensor(context, dtype=dtype)
    path = est._checked_paths(x, torch.zeros(len(x), dtype=torch.int64), last, keys)
    check_room_on_grid(grid, [last])
    values = scales.unscaled(path[np.arange(len(keys))[:, None], ahead - 1])
    index = pd.MultiIndex.from_arrays([runs.keys.repeat(ahead.shape[1]), _future_stamps(panel, grid, ahead)],
                                      names=panel.index.names)
    return pd.DataFrame(values.reshape(-1, values.shape[-1]), index=index, columns=panel.columns)


def _ahead(grid: Grid, horizon: list[int] | pd.Index, n_series: int) -> np.ndarray | None:
    """(series, steps): each series' steps of ``horizon``, relative steps (a list) or absolute
    stamps (an Index: None unless on the grid after every end, see :func:`_stamp_steps`)."""
    if isinstance(horizon, pd.Index):
        return _stamp_steps(grid, horizon)
    return np.broadcast_to(np.asarray(horizon, dtype=np.int64), (n_series, len(horizon)))


def _future_stamps(panel: pd.DataFrame, grid: Grid, ahead: np.ndarray) -> pd.Index:
    """The stamps ``ahead`` (series, steps) after each series' last, series after series."""
    times = panel.index.levels[-1]
    stamps = (grid.last[:, None] + ahead * grid.units).ravel()
    if isinstance(times, pd.DatetimeIndex):
        return pd.DatetimeIndex(stamps.view(f"datetime64[{times.unit}]"), name=times.name)
    return pd.Index(stamps, name=times.name)
