"""The base of every tsrec forecaster: an sktime ``BaseForecaster`` trained by the Lightning engine.

Subclasses store their constructor arguments and implement ``_lookback_length``,
``_horizon_length``, ``_network_meta`` and ``_build_network`` (and optionally ``_penalty``,
``_lr_lambda`` and ``_loss``). Everything else -- validation, scaling, windows, training, recursive forecasts
past the horizon, new contexts, panels and persistence -- lives here and in its mixins: forecasting from
contexts in ``_rollout``, updates in ``_updates``, intervals and window forecasts in ``_forecaster_methods``,
the network's training and a saved one's weights in ``_network_training``.
"""

from __future__ import annotations

import inspect
import os
import warnings

import numpy as np
import pandas as pd
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon
from torch import nn

from tsrec._checks import check_flag
from tsrec.estimators import (
    _evaluate, _newdata, _onepass, _persistence, _series_lengths, _sktime_filters, _steps, _updates,
)
from tsrec.estimators._horizon import (
    aligned_fh, check_fit_steps, check_step_count, held_fh_moved_past, in_sample_check_on_instants, relative_steps,
    same_fh, steps_per_series, warn_long_rollout,
)
from tsrec.estimators._attribute_docs import FORECASTER_ATTRIBUTES, with_shared_attributes
from tsrec.estimators._fitted_params import fitted_value
from tsrec.estimators._forecaster_methods import ProbabilisticForecasts, Residuals
from tsrec.estimators._window_forecasts import WindowForecasts
from tsrec.estimators._network_training import NetworkTraining
from tsrec.estimators._params import training_config
from tsrec.estimators._pretrain import Pretraining
from tsrec.estimators._rollout import ContextRollouts
from tsrec.estimators._saved_context import restored_runs
from tsrec.estimators._series import (
    FLAT_MTYPES, FhLike, SeriesLike, as_flat, check_raw_y, check_x_not_fh, split_panel, warn_time_across,
    x_values_ignored,
)
from tsrec.estimators._series_values import time_level
from tsrec.estimators._sktime_zip import load_zip, sktime_save
from tsrec.estimators._timeindex import stamp_offset_ns
from tsrec.estimators.errors import InputError


class DeepForecaster(
    _updates.StoredDataUpdates, ProbabilisticForecasts, Residuals, WindowForecasts, ContextRollouts, NetworkTraining,
    Pretraining, BaseForecaster,
):
    """Shared machinery of tsrec forecasters (not used directly).

    Notes
    -----
    No tsrec forecaster reads exogenous data: ``X`` is accepted by ``fit``, ``predict`` and
    ``update`` (sktime pipelines and ``evaluate`` pass it along) and ignored, as the sktime tag
    ``capability:exogenous=False`` (formerly ``ignores-exogeneous-X``) declares; sktime drops it
    before the model sees it. ``patience`` needs validation data: with ``val_size=0`` training
    runs all ``max_epochs`` and ``fit`` warns that ``patience`` is not used.

    Values are standardised before the network reads them. With ``scaling="series"`` (the
    default) each series of a panel has its own statistics, ``series_scales_`` (a row per series
    key, columns ("mean" | "scale", variate)), and a new context of a series not fitted is
    standardised by the rows given for it; ``scaler_`` is then None. With ``scaling="global"``,
    or for a single series, ``scaler_`` is the ``StandardScaler`` of every training row and
    ``series_scales_`` is None. ``scaler="robust"``: medians and interquartile ranges instead
    (a ``RobustScaler``; the column "median" for "mean").
    """

    _tags = {
        "authors": ["tsrec developers"],
        "maintainers": ["tsrec developers"],
        "y_inner_mtype": FLAT_MTYPES,
        "X_inner_mtype": FLAT_MTYPES,
        "capability:exogenous": False,
        "capability:multivariate": True,
        "capability:insample": False,
        "capability:pred_int": False,
        "capability:missing_values": False,
        "requires-fh-in-fit": False,
        "property:randomness": "derandomized",
        "capability:random_state": True,
        "capability:pretrain": True,
        "pretrain:fitted_params": ["pretrained_"],
        "python_dependencies": ["torch", "lightning"],
    }
    # tsrec forecasts from the end of the stored series (sktime 1.3 plans to stop storing them by default)
    _config = {"remember_data": True}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        _sktime_filters.keep_warning_filters(cls, inherited=False)  # a model's own predict_interval, ...
        cls.__doc__ = with_shared_attributes(cls.__doc__, FORECASTER_ATTRIBUTES)

    #: False for models that roll their own state past the horizon instead of feeding forecasts
    #: back in as inputs: their network takes ``network(x, steps)`` (closed-loop decoders), or
    #: they override ``_forecast_path`` (sampling models)
    _feeds_back_past_horizon = True
    #: the constructor parameter that sets the lookback, for messages
    _lookback_name = "lookback"
    #: whether the network takes each window's level away (instance norm, RevIN): True, False, or the
    #: constructor flag that sets it; forecasts from contexts far from the training level warn where not
    _window_norm: bool | str = True
    #: parameters besides ``scaling`` and ``scaler`` that set the units of the validation loss (tune refuses
    #: to search them)
    _loss_unit_params: tuple[str, ...] = ()

    def __init__(self) -> None:
        # tsrec keeps the training data (remember_data=True) to forecast from its end; sktime
        # warns about a future default change on every construction, which is noise here
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*remember_data.*", category=FutureWarning)
            super().__init__()

    def __setstate__(self, state: dict) -> None:
        # pickled before per-series scaling: every such forecaster had one global scaler
        state.setdefault("scaling", "global")
        state.setdefault("scaler", "standard")  # and before robust scaling: a StandardScaler's statistics
        if "loss" in inspect.signature(type(self).__init__).parameters:
            state.setdefault("loss", "mse")  # and before the loss could be chosen
            state.setdefault("huber_delta", 1.0)
        if "scaler_" in state:
            state.setdefault("series_scales_", None)
        self.__dict__.update(state)

    # ---- hooks for subclasses -------------------------------------------------------------
    def _lookback_length(self) -> int:
        return self._as_fitted(self._lookback_name)

    def _horizon_length(self) -> int:
        return self._as_fitted("horizon")

    def _as_fitted(self, name: str) -> object:
        """Parameter ``name`` as the network was built with it (:func:`fitted_value`): a save keeps
        the fitted value; its contexts are cut, and forecasts read, with it."""
        return fitted_value(self, name)

    def _network_meta(self, freq: object, n_channels: int) -> dict:
        """JSON-able facts learned from the data that the network is built from."""
        return {}

    def _build_network(self, n_channels: int, meta: dict) -> nn.Module:
        raise NotImplementedError

    def _check_training_memory(self, config, n_variates: int, length: int, batch: int) -> None:
        """Refuse, before any training, batches that cannot fit the device (a network that knows its needs)."""

    def _penalty(self):
        return None

    def _lr_lambda(self):
        return None

    def _check_params(self) -> None:
        """Validate model-specific parameters; called at the start of fit."""

    def _check_X_y(self, X=None, y=None, *args, **kwargs):
        # X is ignored, so its values must not matter: sktime checks X, refusing the NaN of unknown
        # future rows (capability:missing_values=False is meant for y), before it drops it for
        # capability:exogenous=False. Its type and index are still checked, on zeros in its place;
        # every public method (fit, predict*, update*) checks through here
        check_x_not_fh(X)
        return super()._check_X_y(x_values_ignored(X), y, *args, **kwargs)

    # ---- public API -------------------------------------------------------------------------
    def fit(self, y: SeriesLike, X: SeriesLike | None = None, fh: FhLike = None) -> DeepForecaster:
        """Fit to ``y`` (Series, DataFrame, NumPy array or (series id, time) panel); see sktime.

        A fit that fails (bad input or parameters, an error or Ctrl+C while training) leaves the
        forecaster as it was, fitted to the earlier data if it was.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The series to fit: one column per variate, or a (series id, time) MultiIndex panel.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast, as sktime takes them; may be given here or at ``predict``.

        Returns
        -------
        self
            The fitted forecaster.
        """
        self._check_shared_params()  # before the data; the model's own in _fit
        training_config(self, early=True)
        if isinstance(y, (pd.Series, pd.DataFrame)):
            # sktime keeps the frame it is given for predict, save and update: the user's own, which an edit
            # after fit (y.iloc[-1] = ...) changed under the fitted model; copy-on-write copies no data here
            y = y.copy(deep=False)
        flat = self._fit_data(y)
        _updates.check_remembers_data(self)
        multiindex = isinstance(flat.index, pd.MultiIndex)

        def series_count() -> int:  # a pass over a panel's rows: only for an fh that needs it
            return flat.index.droplevel(-1).nunique() if multiindex else 1

        check_step_count(fh, series_count, flat.shape[1])  # before sktime's horizon holds an array of every step
        aligned = aligned_fh(fh, flat)
        check_fit_steps(aligned, series_count, flat.shape[1])
        with _updates.unchanged_on_error(self):  # sktime's fit resets the estimator before its checks
            super().fit(y, X=X, fh=aligned)
        self._fh_given = fh  # see _checked_fh
        return self

    def _fit_data(self, y, X=None) -> pd.DataFrame:
        """``y`` as a flat frame, checked as fit checks it whatever the parameters
        (``tsrec.tuning.tune`` checks the data once before its trials); ``X`` is ignored."""
        mtype = check_raw_y(y)
        warn_time_across(y)  # before a length check that would blame the series' length
        return as_flat(y, mtype)

    def update(self, y: SeriesLike, X: SeriesLike | None = None, update_params: bool = True) -> DeepForecaster:
        """Append new observations ``y`` (the fitted variates) and move the cutoff; see sktime.

        Each series' rows must continue it: same kind of time index, time zone and step, starting
        at most one step after its last stamp (rows that overlap replace the stored values). A
        NumPy array's rows follow the last stamp. A panel takes rows of its fitted series only.
        Nothing changes when ``y`` is refused. A forecaster restored by ``tsrec.load`` keeps only
        its last context, so it refuses ``update_params=True`` (which would refit on it).

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The new rows, of the fitted variates (and series, for a panel).
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        update_params : bool, default=True
            Refit the network on all stored data, the new rows included, as ``fit`` does; False
            only stores the rows and moves the cutoff, keeping the weights.

        Returns
        -------
        self
            The updated forecaster.
        """
        self.check_is_fitted()
        update_params = check_flag("update_params", update_params)  # "False" would read as True: a refit
        if _updates.is_empty(y):  # sktime warns that nothing was updated, and changes nothing
            return super().update(None, X=X, update_params=update_params)  # what sktime sees as empty
        _updates.check_remembers_data(self)
        if update_params and getattr(self, "_context_only", False):
            raise InputError(
                f"this forecaster was restored by tsrec.load(), which keeps only the last "
                f"{self._lookback_length()} rows of each series (the saved context), so update(update_params=True) "
                "would refit from scratch on those few rows; fit() it again on the full data, or call "
                "update(y, update_params=False) to move the cutoff and keep the weights"
            )
        rows, mtype = _updates.checked_rows(self, y)
        store = _updates.series_store(self, y)
        with _updates.unchanged_on_error(self):  # a refit that fails keeps the old rows and cutoff
            super().update(rows, X=X, update_params=update_params)
        _updates.keep_container(self, mtype, store)
        return self

    def predict(self, fh: FhLike = None, X: SeriesLike | None = None, y: SeriesLike | None = None) -> SeriesLike:
        """Forecast ``fh`` steps after the training data, or after a new context ``y``.

        As in sktime, ``fh`` must be given here or in ``fit``. Steps past ``horizon`` are
        produced by feeding forecasts back in as inputs (models that roll their own state,
        such as LS4's sampler, continue it instead). ``y`` forecasts from a new context with
        the fitted weights (same variates, at least ``lookback`` rows) and changes nothing in
        the estimator.

        Parameters
        ----------
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast: relative steps (ints) or time stamps; None uses ``fit``'s.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to forecast from instead of the training data.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The forecast, in the container type of the fitted ``y`` (of ``y`` when given).
        """
        if y is None:  # fit's fh too: its stamps may be in another time zone
            with self._fh_kept(on_error_only=True):
                return super().predict(fh=self._checked_fh(fh), X=X)
        fast = _onepass.forecast_new_context(self, fh, y)  # a panel on the fitted grid: no frame per series
        out = _evaluate.predict_new_context(self, fh, y) if fast is None else fast
        return _steps.in_given_zone(out, _steps.given_zone(y))

    def _checked_fh(self, fh: object, moved_past: bool = True) -> ForecastingHorizon | None:
        """``fh`` (or fit's) in the fitted terms (:func:`aligned_fh`); in-sample steps or stamps, or
        stamps off a series' time grid, raise here rather than in sktime (``moved_past``: saying
        where the held fh's stamps are past after an update)."""
        y, given = (self._y if self.is_fitted else None), self._given_fh()
        if y is not None:  # before sktime's horizon holds an array of every step
            check_step_count(fh, lambda: max(len(_steps.held_steps(self)), 1), self.n_channels_)
        with held_fh_moved_past(fh is None and moved_past):
            # stamps on the grid of a stored panel: from its arrays, without a look at each series
            aligned = _onepass.stored_fh(self, fh if fh is not None else given) if y is not None else None
            if aligned is None:
                aligned = aligned_fh(fh if fh is not None else given, y, _steps.held_steps(self))
        if aligned is not None and aligned.is_relative:
            last = int(relative_steps(aligned).max())
            if y is not None:  # a list fh=[10**9]: refused for memory, not first warned of as slow
                check_step_count(last, lambda: max(len(_steps.held_steps(self)), 1), self.n_channels_)
            warn_long_rollout(last, self._horizon_length())
        if fh is not None and not same_fh(fh, given):  # sktime's forecasts pass fit's fh on as objects
            self._fh_given = fh
        return aligned

    def _given_fh(self) -> object:
        """The last fh given (to fit or a forecast), as given: sktime keeps it aligned, and stamps it
        cannot place (business month ends) as steps, which an update would shift to other stamps."""
        return getattr(self, "_fh_given", self._fh)

    def save(self, path: str | os.PathLike | None = None, serialization_format: str | None = None) -> object:
        """Save to a folder ``path`` (config.json + weights.safetensors), loadable by ``tsrec.load``.

        With ``serialization_format="pickle"`` or ``"cloudpickle"`` (or ``path=None``) this is
        sktime's own zip/in-memory format, loadable by ``sktime.base.load``.

        Parameters
        ----------
        path : str, os.PathLike or None, default=None
            The folder to write (replaced atomically); with ``serialization_format``, sktime's zip
            file; None returns sktime's in-memory serialisation.
        serialization_format : {"pickle", "cloudpickle"} or None, default=None
            None writes tsrec's folder (or, with ``path=None``, pickles); a format name uses
            sktime's save.

        Returns
        -------
        object
            The folder's :class:`pathlib.Path`, or what sktime's ``save`` returns.
        """
        path = _persistence.checked_path(path, f"{type(self).__name__}.save", none_ok=True)
        if path is None or serialization_format is not None:
            return sktime_save(self, path, serialization_format)
        self._check_saved_fitted()
        return _persistence.save_estimator(self, path)

    load_from_path = classmethod(load_zip)  # what sktime.base.load calls with the zip

    # ---- sktime internals -------------------------------------------------------------------
    def _fit(self, y, X=None, fh=None):
        self._fitted_params = None  # a refit (update) reads, and records, the current parameters
        restore = getattr(self, "_DeepForecaster__restore", None)
        lookback, horizon = self._lookback_length(), self._horizon_length()
        self._check_params()
        self._check_shared_params()
        config = None if restore else training_config(self)  # every parameter is checked before the data
        runs = restored_runs(y, lookback, restore["steps"]) if restore else None  # no frame per series
        if runs is not None:
            self._series_steps, parts = runs
        else:
            parts = split_panel(y)
            self._check_lengths(parts, lookback + (0 if restore else horizon), with_horizon=restore is None)
            # each series' step, from its full history (a saved model's few rows cannot tell it)
            self._series_steps = _steps.restored_steps(parts, restore["steps"]) if restore else \
                _steps.learned_steps(parts)
        freq = next(iter(self._series_steps.values()))  # the first series'
        self.n_channels_ = y.shape[1]
        self.columns_ = list(y.columns)
        self._fit_step = freq  # new contexts of models that read the stamps must have this step
        _steps.cutoff_with_step(self)
        if restore is not None:
            return self._restore(restore, parts)
        _steps.warn_integer_steps(self._series_steps)
        with _steps.read_off_the_first_step(self._series_steps, freq):
            self.network_meta_ = self._network_meta(freq, self.n_channels_)
        _steps.check_mixed_steps(self, self._series_steps, self.network_meta_)
        if self.network_meta_.get("step_ns"):  # calendar features need the stamps, not just positions
            self.network_meta_["offset_ns"] = stamp_offset_ns(parts[0][1].index, self.network_meta_["step_ns"])
        _newdata.check_steps(parts, freq, self.network_meta_, "the first series", _steps.held_list(self, parts))
        self._train(parts, self.network_meta_, config)
        self.position_offset_ = [0] * len(parts)
        return self

    def _check_lengths(self, parts: list, needed: int, with_horizon: bool = True, mtype: str | None = None) -> None:
        """Refuse series shorter than ``needed`` rows (:func:`_series_lengths.check_lengths`)."""
        _series_lengths.check_lengths(self, parts, needed, with_horizon, mtype)

    def _check_fh(self, fh, pred_int=False):
        # zoned stamps after the cutoff pass as instants, not on sktime's wall clock (an autumn change)
        with in_sample_check_on_instants(self, fh):
            return super()._check_fh(fh, pred_int=pred_int)

    def _predict(self, fh, X=None):
        fast = _onepass.forecast_stored(self, fh)  # a panel on the fitted grid: no frame per series
        return _evaluate.forecast_context(self, _evaluate.stored_context(self, fh)) if fast is None else fast

    def _steps_per_series(self, fh: ForecastingHorizon, parts: list) -> list[np.ndarray]:
        return steps_per_series(fh, parts, _steps.held_steps(self))

    def _fitted_zone(self) -> object:
        """The time zone of the fitted stamps; None if naive or not date-times."""
        return getattr(time_level(self._y), "tz", None)


_sktime_filters.keep_warning_filters(DeepForecaster, inherited=True)

