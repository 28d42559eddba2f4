"""Forecasting from contexts: the last ``lookback`` rows of each series, standardised, rolled forward.

:class:`ContextRollouts` is a mixin of :class:`~tsrec.estimators._forecaster.DeepForecaster`. It
reads the forecaster's ``network_``, ``n_channels_``, ``_lookback_length()``,
``_horizon_length()``, ``_fitted_zone()`` and ``_feeds_back_past_horizon``, and turns contexts into
forecast frames: one horizon at a time, each forecast fed back as input, or in one pass for models
that roll their own state (closed-loop decoders, samplers).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from tsrec._checks import check_int
from tsrec.estimators import _newdata, _steps
from tsrec.estimators._horizon import ROLLOUT_ROW_BYTES, check_output_size
from tsrec.estimators._modes import predicting
from tsrec.estimators._panel_values import warn_far_context, warn_rounded_context
from tsrec.estimators._scale_statistics import Scales
from tsrec.estimators._scaling import scales_of
from tsrec.estimators._series import forecast_frames, scaled_contexts
from tsrec.estimators._timeindex import future_indexes, in_zone, positions
from tsrec.estimators._training import network_dtype


class ContextRollouts:
    """Forecasts from the stored series' ends or from new contexts (see the module notes)."""

    def _forecast(self, parts: list, steps: list[np.ndarray], offsets: list[int], freqs: list | None = None,
                  keys_fitted: bool = True) -> list[pd.DataFrame]:
        """Forecast each series' ``steps`` after its end (at its step of ``freqs``; by default the
        learned steps of the stored series), rolling past the horizon. ``keys_fitted``: whether the
        series' keys name fitted series (see :func:`_scaling.scales_of`)."""
        last = int(max(s.max() for s in steps))
        # a row per series and step up to the last
        check_output_size(len(parts), last, self.n_channels_, row_bytes=ROLLOUT_ROW_BYTES)
        horizon = self._horizon_length()
        reads_steps = self._feeds_back_past_horizon and getattr(self.network_, "uses_position", False)
        future = math.ceil(last / horizon) * horizon if reads_steps else 0
        x, position, freqs, scales = self._contexts(parts, offsets, freqs, keys_fitted, future)
        path = self._checked_paths(x, position, last, [key for key, _ in parts])
        return forecast_frames(scales, path, steps, parts, freqs)

    def _checked_paths(self, x: torch.Tensor, position: torch.Tensor, last: int, keys: list) -> np.ndarray:
        """The standardised forecasts (series, >= ``last``, channels) after contexts ``x`` (positions as
        :meth:`_contexts` gives them), float64, in passes of :meth:`_series_per_pass` series, checked
        finite (``keys`` name the series in the message)."""
        chunk = self._series_per_pass()
        with predicting(), _newdata.overflow_as_input_error():
            # float64 before unscaling: a float32 forecast of a series near 1e9 loses its digits
            path = torch.cat([self._forecast_path(xc, pc, last).cpu() for xc, pc in
                              zip(x.split(chunk), position.split(chunk))]).double().numpy()
        _newdata.check_forecast(path, keys, self._horizon_length())
        return path

    def _series_per_pass(self) -> int:
        """Series forecast in one network pass: ``batch_size``, the training batch (as darts
        predicts), so that a panel's working memory is a training step's at most, whatever the
        panel. Passes of 1024 series (before) took about 1.0 GiB more for SpaceTime's defaults and
        1.6x as long for Chimera's (benchmarks/results/prediction_passes.md)."""
        return check_int("batch_size", self.batch_size)

    def _contexts(self, parts: list, offsets: list[int], freqs: list | None = None, keys_fitted: bool = True,
                  future: int = 0) -> tuple[torch.Tensor, torch.Tensor, list, Scales]:
        """The standardised last ``lookback`` rows of each series (batch, lookback, channels), their
        positions, each series' step (``freqs``; by default the learned steps of stored series), and
        the statistics that standardised them. The positions are each context's first (batch,),
        or with ``future`` steps those of every context row and of the ``future`` steps after it
        (batch, lookback + future)."""
        lookback = self._lookback_length()
        freqs = _steps.held_list(self, parts) if freqs is None else freqs
        scales = scales_of(self, parts, keys_fitted)
        context = scaled_contexts(scales, parts, lookback)
        keys, dtype = [key for key, _ in parts], network_dtype(self.network_)
        _newdata.check_scaled(context, "the context", keys)
        warn_rounded_context(context, dtype == torch.float32, keys, self.scaler)
        warn_far_context(self, context, keys)
        tz = self._fitted_zone()  # calendar features and cycle phases are the fitted zone's wall-clock time
        # positions count from a fixed origin: the last lookback stamps tell them (a long history cost O(rows))
        rows = [positions(in_zone(df.index[-lookback:], tz), f) + off for (_, df), f, off in zip(parts, freqs, offsets)]
        position = np.asarray([r[0] for r in rows], dtype=np.int64)
        if future:  # wall-clock positions of zoned stamps skip or repeat one at a daylight-saving change
            position = (position[:, None] + np.arange(lookback + future) if tz is None
                        else zoned_positions(parts, freqs, offsets, rows, future, tz))
        return torch.as_tensor(context, dtype=dtype), torch.as_tensor(position), freqs, scales

    def _forecast_path(self, x: torch.Tensor, position: torch.Tensor, n_steps: int) -> torch.Tensor:
        """The scaled forecast (batch, >= n_steps, channels) after contexts ``x``; a hook for
        models that forecast otherwise (e.g. by sampling) than one horizon at a time."""
        if not self._feeds_back_past_horizon:  # a closed loop: one pass rolls any number of steps
            return self.network_(x, max(n_steps, self._horizon_length()))
        return self._fed_back_path(x, position, n_steps)

    def _fed_back_path(self, x: torch.Tensor, position: torch.Tensor, n_steps: int) -> torch.Tensor:
        """One horizon at a time, each forecast appended to the context of the next."""
        lookback, horizon = self._lookback_length(), self._horizon_length()
        outputs = []
        for i in range(math.ceil(n_steps / horizon)):
            if not self.network_.uses_position:
                pred = self.network_(x)
            else:  # each window's first position, or its steps' positions (see _contexts)
                pred = self.network_(x, position[:, i * horizon :] if position.ndim == 2 else position + i * horizon)
            outputs.append(pred)
            x = torch.cat([x, pred], dim=1)[:, -lookback:]
        return torch.cat(outputs, dim=1)


def zoned_positions(parts: list, freqs: list, offsets: list[int], rows: list[np.ndarray], future: int,
                    tz: object) -> np.ndarray:
    """The wall-clock positions of each context's rows (``rows``) and of the ``future`` stamps after them."""
    ahead = future_indexes([df.index for _, df in parts], freqs, [np.arange(1, future + 1)] * len(parts))
    return np.stack([np.concatenate([r, positions(in_zone(stamps, tz), f) + off])
                     for r, stamps, f, off in zip(rows, ahead, freqs, offsets)]).astype(np.int64)
