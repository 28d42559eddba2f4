"""All-windows evaluation of a fitted forecaster (the benchmark protocol: no dropped windows)."""

from __future__ import annotations

import numpy as np
import torch
from sktime.datatypes import convert_to

from tsrec._checks import check_int
from tsrec.estimators._engine import network_dtype
from tsrec.estimators._newdata import check_forecast, check_scaled, series_name
from tsrec.estimators._series import check_raw_y, split_panel
from tsrec.estimators._steps import context_steps
from tsrec.estimators._timeindex import in_zone, positions
from tsrec.estimators.errors import InputError


def _series_parts(est, y) -> list:
    est.check_is_fitted()
    check_raw_y(y)
    inner = convert_to(y, to_type=["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"])
    # predict(y=...)'s check: a count alone would let swapped columns through, forecast silently wrong
    est._check_variates(inner, named=not isinstance(y, np.ndarray))
    width = est._lookback_length() + est._horizon_length()
    parts = split_panel(inner)
    for key, df in parts:
        if len(df) < width:
            raise InputError(f"{series_name(key)} has {len(df)} rows; a window needs lookback + horizon = {width}")
    return parts


def forecast_windows(est, y, batch_size: int = 1024) -> np.ndarray:
    """Forecasts of every complete window of every series of ``y`` (see the forecaster method)."""
    batch_size = check_int("batch_size", batch_size)
    lookback, horizon = est._lookback_length(), est._horizon_length()
    outputs = []
    network = est.network_
    parts = _series_parts(est, y)
    # calendar features or a cycle phase at another step would be wrong; a few rows cannot tell the step
    steps = context_steps(est, parts)
    for (_, df), step in zip(parts, steps):
        scaled = est.scaler_.transform(df.to_numpy(float))
        check_scaled(scaled, "y")
        values = torch.as_tensor(scaled, dtype=network_dtype(network))
        # the fitted zone's wall-clock time, as predict(y=...) reads it: a context in UTC names the same instants
        position = torch.as_tensor(positions(in_zone(df.index, est._fitted_zone()), step))
        inputs = values[: len(df) - horizon].unfold(0, lookback, 1)  # (n, channels, lookback)
        starts = position[: len(inputs)]
        with torch.no_grad():
            for begin in range(0, len(inputs), batch_size):
                x = inputs[begin : begin + batch_size].transpose(1, 2)
                pos = starts[begin : begin + batch_size]
                pred = network(x, pos) if network.uses_position else network(x)
                outputs.append(pred.double().numpy())
    forecasts = np.concatenate(outputs)
    check_forecast(forecasts)
    shape = forecasts.shape
    return est.scaler_.inverse_transform(forecasts.reshape(-1, shape[-1])).reshape(shape)


def window_targets(est, y) -> np.ndarray:
    """True values of every complete window, aligned with :func:`forecast_windows`."""
    lookback, horizon = est._lookback_length(), est._horizon_length()
    targets = []
    for _, df in _series_parts(est, y):
        # contiguous: a frame of reordered columns (y[est.columns_]) may give negative strides,
        # which torch refuses
        values = torch.tensor(np.ascontiguousarray(df.to_numpy(float)))
        targets.append(values[lookback:].unfold(0, horizon, 1).transpose(1, 2).numpy())
    return np.concatenate(targets)
