"""Forecasts from new data: a new context (``predict(y=...)``, and the probabilistic forecasts'
``y=...``), and all-windows evaluation (the benchmark protocol: no dropped windows).

A :class:`Context` is what every forecast from series' ends reads, whether of the stored series
(:func:`stored_context`) or of a new context (:func:`new_context`): one place checks and splits ``y``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view

from tsrec._checks import check_int
from tsrec.estimators._modes import predicting
from tsrec.estimators._training import network_dtype
from tsrec.estimators._fh_stamps import steps_to
from tsrec.estimators._horizon import (
    ROLLOUT_ROW_BYTES, aligned_fh, check_output_size, steps_per_series, warn_long_rollout,
)
from tsrec.estimators._newdata import check_forecast, check_scaled, overflow_as_input_error, series_name
from tsrec.estimators._scale_statistics import Scales, window_scales
from tsrec.estimators._scaling import fitted_keys, fitted_scales
from tsrec.estimators._series import as_flat, check_raw_y, from_flat, join_panel, split_panel
from tsrec.estimators._steps import check_array_context, check_zone_first, context_steps, held_list, in_fitted_zone
from tsrec.estimators._timeindex import in_zone, positions
from tsrec.estimators._variates import check_variates
from tsrec.estimators.errors import InputError

if TYPE_CHECKING:
    from sktime.forecasting.base import ForecastingHorizon


def new_parts(est, y) -> tuple[str, pd.DataFrame, list]:
    """New data ``y`` for a fitted ``est``, checked: its sktime mtype, inner frame and series."""
    mtype, inner = new_frame(est, y)
    return mtype, inner, split_panel(inner)


def new_frame(est, y) -> tuple[str, pd.DataFrame]:
    """New data ``y`` for a fitted ``est``, checked as a whole: its sktime mtype and inner frame."""
    est.check_is_fitted()
    check_zone_first(est, y)
    y = in_fitted_zone(y, est._y)
    mtype = check_raw_y(y)
    inner = as_flat(y, mtype)
    # a count alone would let swapped columns through, forecast silently wrong
    check_variates(est, inner, named=not isinstance(y, np.ndarray))
    check_array_context(est, y)
    if isinstance(y, np.ndarray):  # it names no variates (sktime numbers them): they are the fitted ones
        inner.columns = est._y.columns
    return mtype, inner


class Context(NamedTuple):
    """Series to forecast from, and what a forecast of them needs: each series' (key, frame), its
    steps of ``fh`` after its end, its step (``freqs``), its offset of positions (a restored model's),
    whether the keys name fitted series (:func:`fitted_keys`), and the index whose id levels the
    output takes."""

    parts: list
    steps: list[np.ndarray]
    freqs: list
    offsets: list[int]
    keys_fitted: bool
    like: pd.Index

    @property
    def variates(self) -> pd.Index:
        """The variates' names, as its forecasts (``predict``'s, and so the probabilistic ones) take
        them: a new context's own, which for a univariate model may differ from the fitted one's."""
        return self.parts[0][1].columns


def stored_context(est, fh: ForecastingHorizon) -> Context:
    """The fitted ``est``'s stored series, at the steps of ``fh`` (sktime's, checked)."""
    parts = split_panel(est._y)
    steps = est._steps_per_series(fh, parts)
    if not fh.is_relative:  # relative steps were weighed as fh was checked
        _warn_long(est, steps, stamps=True)
    return Context(parts, steps, held_list(est, parts), est.position_offset_, True, est._y.index)


def stored_context_at(est, rows: pd.DataFrame) -> Context:
    """The fitted ``est``'s stored series that the panel ``rows`` continues, each at its own stamps
    in ``rows`` (residuals): the others' ends do not matter, as they would to one fh for all."""
    wanted = dict(split_panel(rows))
    chosen = [(i, key, df) for i, (key, df) in enumerate(split_panel(est._y)) if key in wanted]
    known = {key for _, key, _ in chosen}
    unknown = [key for key in wanted if key not in known]  # one set: not rebuilt for each key of a large panel
    if unknown:
        raise InputError(f"y holds series the forecaster was not fitted on ({unknown[:3]}); residuals continue "
                         "the fitted series: pass rows of those only")
    parts = [(key, df) for _, key, df in chosen]
    freqs = held_list(est, parts)
    steps = [steps_to(df.index, freq, wanted[key].index, series_name(key)) for (key, df), freq in zip(parts, freqs)]
    _warn_long(est, steps, stamps=True)
    offsets = [est.position_offset_[i] for i, _, _ in chosen]
    return Context(parts, steps, freqs, offsets, True, est._y.index)


def new_context(est, fh: object, y) -> tuple[Context, str]:
    """The new context ``y`` of ``est.predict(fh, y=y)`` (and of the probabilistic forecasts), checked,
    at the steps of ``fh`` (or the last given), with its sktime mtype."""
    mtype, inner, parts = new_parts(est, y)
    est._check_lengths(parts, est._lookback_length(), with_horizon=False, mtype=mtype)
    freqs = context_steps(est, parts)
    known = {key: freq for (key, _), freq in zip(parts, freqs)}
    aligned = aligned_fh(fh if fh is not None else est._given_fh(), inner, known)
    if aligned is None:
        raise ValueError("no fh was given in fit or predict; pass fh, e.g. fh=[1, 2, 3]")
    steps = steps_per_series(aligned, parts, known)
    _warn_long(est, steps, stamps=not aligned.is_relative)
    # positions from 0: a restored model's offsets belong to its saved series, not to new ones
    return Context(parts, steps, freqs, [0] * len(parts), fitted_keys(est, mtype, len(parts)), inner.index), mtype


def _warn_long(est, steps: list[np.ndarray], stamps: bool) -> None:
    """:func:`warn_long_rollout` for the furthest of each series' ``steps``, once a roll-out there is known to
    fit in memory (``fh=[10**9]`` was warned of as slow, then refused)."""
    last = max(int(s.max()) for s in steps if len(s))
    check_output_size(len(steps), last, est.n_channels_, row_bytes=ROLLOUT_ROW_BYTES)
    warn_long_rollout(last, est._horizon_length(), stamps)


def forecast_context(est, context: Context) -> pd.DataFrame:
    """Point forecasts of ``context``, as the inner frame (a panel's under its keys)."""
    frames = est._forecast(context.parts, context.steps, context.offsets, context.freqs, context.keys_fitted)
    return join_panel([k for k, _ in context.parts], frames, context.like)


def predict_new_context(est, fh: object, y) -> object:
    """``est.predict(fh, y=y)``: forecasts after the new context ``y``, in its container."""
    context, mtype = new_context(est, fh, y)
    out = forecast_context(est, context)
    if mtype == "pd.Series":  # sktime's converter drops a Series' name
        return out.iloc[:, 0].rename(y.name)
    return from_flat(out, mtype)


def _series_parts(est, y) -> tuple[list, bool]:
    """The series of ``y`` for window forecasts, each long enough for a window, and whether
    their keys name fitted series (:func:`fitted_keys`)."""
    mtype, _, parts = _window_parts(est, y)
    return parts, fitted_keys(est, mtype, len(parts))


def _window_parts(est, y) -> tuple[str, pd.DataFrame, list]:
    """:func:`new_parts` of ``y``, each series long enough for a window."""
    mtype, inner, parts = new_parts(est, y)
    width = est._lookback_length() + est._horizon_length()
    for key, df in parts:
        if len(df) < width:
            raise InputError(f"{series_name(key)} has {len(df)} rows; a window needs lookback + horizon = {width}")
    return mtype, inner, parts


def window_cutoffs(est, y) -> pd.Index:
    """The last context stamp of every complete window, aligned with :func:`forecast_windows`."""
    lookback, horizon = est._lookback_length(), est._horizon_length()
    _, inner, parts = _window_parts(est, y)
    stamps = [df.index[lookback - 1 : len(df) - horizon] for _, df in parts]
    cutoffs = stamps[0].append(stamps[1:]).rename("cutoff")
    if not isinstance(inner.index, pd.MultiIndex):
        return cutoffs
    keys = [key if isinstance(key, tuple) else (key,) for key, _ in parts]
    counts = [len(part) for part in stamps]
    ids = [pd.Index([key[level] for key in keys]).repeat(counts) for level in range(len(keys[0]))]
    return pd.MultiIndex.from_arrays([*ids, cutoffs], names=[*inner.index.names[:-1], "cutoff"])


def forecast_windows(est, y, batch_size: int | None = None) -> np.ndarray:
    """Forecasts of every complete window of every series of ``y`` (see the forecaster method).

    Each batch is unscaled into one preallocated array: the result is the only large allocation
    (collecting the batches and concatenating them peaked at three times its size).
    """
    batch_size = est._series_per_pass() if batch_size is None else check_int("batch_size", batch_size)
    lookback, horizon = est._lookback_length(), est._horizon_length()
    network = est.network_
    parts, keys_fitted = _series_parts(est, y)
    # calendar features or a cycle phase at another step would be wrong; a few rows cannot tell the step
    steps = context_steps(est, parts)
    counts = [len(df) - horizon - lookback + 1 for _, df in parts]
    forecasts = np.empty((sum(counts), horizon, est.n_channels_))
    row = 0
    fitted, known = fitted_scales(est, parts, keys_fitted)
    dtype = network_dtype(network)
    for i, ((key, df), step) in enumerate(zip(parts, steps)):
        # (n, lookback, channels) views: each batch is standardised when it is read
        inputs = sliding_window_view(df.to_numpy(float)[: len(df) - horizon], lookback, axis=0).transpose(0, 2, 1)
        # the fitted zone's wall-clock time, as predict(y=...) reads it: a context in UTC names the same instants
        # (n, lookback + horizon): the positions of every step of each window, as training reads them
        position = torch.as_tensor(positions(in_zone(df.index, est._fitted_zone()), step))
        position = position.unfold(0, lookback + horizon, 1)
        with predicting(), overflow_as_input_error(past_horizon=False):
            for begin in range(0, len(inputs), batch_size):
                raw = inputs[begin : begin + batch_size]
                # a series not fitted: each window by its own context, as predict(y=context) does,
                # never by rows after it
                scales = (Scales(*(np.broadcast_to(a[i], (len(raw), a.shape[1])) for a in fitted)) if known[i]
                          else window_scales(raw, est.scaler))
                x = scales.stacked(raw)
                check_scaled(x, "y", [key] * len(x))
                x = torch.as_tensor(x, dtype=dtype)
                pos = position[begin : begin + len(x)]
                pred = (network(x, pos) if network.uses_position else network(x)).double().numpy()
                check_forecast(pred)
                forecasts[row : row + len(pred)] = scales.unscaled(pred)
                row += len(pred)
    return forecasts


def window_targets(est, y) -> np.ndarray:
    """True values of every complete window, aligned with :func:`forecast_windows`."""
    lookback, horizon = est._lookback_length(), est._horizon_length()
    targets = []
    for _, df in _series_parts(est, y)[0]:
        # contiguous: a frame of reordered columns (y[est.columns_]) may give negative strides,
        # which torch refuses
        values = torch.tensor(np.ascontiguousarray(df.to_numpy(float)))
        targets.append(values[lookback:].unfold(0, horizon, 1).transpose(1, 2).numpy())
    return np.concatenate(targets)
