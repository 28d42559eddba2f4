"""Training a forecaster's network on its series' windows, and restoring a saved one in its place."""

from __future__ import annotations

import functools

import torch

from tsrec._warn import import_lightning
from tsrec.estimators import _divergence, _newdata, _persistence, _seeding, _steps
from tsrec.estimators._params import (
    check_val_size, data_dtype, sizes_named_when_out_of_memory, warn_no_validation, warn_partial_validation,
    warn_unused, warn_validated_only,
)
from tsrec.estimators._losses import StandardisedRows, check_huber_delta, check_loss, forecast_loss
from tsrec.estimators._saved_context import RestoredRuns
from tsrec.estimators._saved_weights import network_with_weights
from tsrec.estimators._scaling import check_scale_params, fit_scales, scales_of
from tsrec.estimators._series import scaled_rows
from tsrec.estimators._timeindex import positions
from tsrec.estimators._training import TrainingConfig
from tsrec.estimators._windows import build_windows, validation_cuts, window_loader


class NetworkTraining:
    """The network half of :class:`~tsrec.estimators._forecaster.DeepForecaster`'s ``_fit``: windows
    from the scaled series, the Lightning run, and the weights of a saved model loaded instead."""

    def _loss(self):
        """``loss_fn(network, batch) -> (loss, n_windows)`` used in training and validation: the mean
        ``loss`` (a point loss, :mod:`~tsrec.estimators._losses`) of the windows' forecasts."""
        if check_loss(self.loss) != "huber":  # once a fit: the parameter checks run twice
            warn_unused(self, ("huber_delta",), f"with loss={self.loss!r}; set loss='huber' to use it")
        return functools.partial(forecast_loss, loss=self.loss, delta=check_huber_delta(self.huber_delta))

    def _check_shared_params(self) -> None:
        """``scaling``, ``scaler`` and ``loss``: the parameters every fit checks before it reads the data."""
        check_scale_params(self)
        self._check_loss()

    def _check_loss(self) -> None:
        """``loss`` and ``huber_delta``; a model trained on its paper's own criterion has neither (and
        overrides this)."""
        check_loss(self.loss)
        check_huber_delta(self.huber_delta)

    def _trivial_loss(self, rows: StandardisedRows) -> tuple[float, str] | None:
        """The training loss of a trivial predictor, and what it is: a fit ending far above it diverged.
        ``rows``: the standardised training rows."""
        # forecasting the centre (0 once standardised) scores the mean loss of the rows themselves
        trivial = "forecasting the training " + ("median" if self.scaler == "robust" else "mean")
        return rows.mean_loss(self.loss, self.huber_delta), trivial

    @torch.inference_mode(False)  # a fit called inside inference mode must still build tensors autograd takes
    def _train(self, parts: list, meta: dict, config: TrainingConfig) -> None:
        lookback, horizon = self._lookback_length(), self._horizon_length()
        val_size = check_val_size(self.val_size)
        cuts = validation_cuts([len(df) for _, df in parts], val_size, lookback, horizon)
        unvalidated = [key for (key, df), cut in zip(parts, cuts) if cut == len(df)]
        if val_size and len(unvalidated) == len(parts):
            warn_no_validation(self.val_size, f"it must hold at least horizon = {horizon} rows and leave "
                                              f"{self._lookback_name} + horizon = {lookback + horizon} for training")
        elif val_size and unvalidated:
            warn_partial_validation(unvalidated, len(parts), f"{self._lookback_name} = {lookback}", horizon)
        untrained = [key for (key, df), cut in zip(parts, cuts) if cut < min(len(df), lookback + horizon)]
        if untrained:
            warn_validated_only(untrained, len(parts), f"{self._lookback_name} + horizon = {lookback + horizon}")
        names = list(self._y.index.names)[:-1]
        self.scaler_, self.series_scales_ = fit_scales(parts, cuts, self.columns_, names, self.scaling, self.scaler)
        steps = _steps.held_list(self, parts)
        series = [
            (values, positions(df.index, step), cut)
            for values, (_, df), cut, step in zip(scaled_rows(scales_of(self, parts), parts), parts, cuts, steps)
        ]
        for values, _, _ in series:
            _newdata.check_scaled(values, "y")
        windows = build_windows(series, lookback, horizon, data_dtype(config.precision))
        import_lightning()  # the user's warning filters stay ahead of Lightning's
        from tsrec.estimators import _engine  # noqa: PLC0415 - Lightning is imported by the first fit (_training)
        _persistence.remember_fitted_params(self)
        self._check_training_memory(config, self.n_channels_, lookback, min(config.batch_size,
                                                                            len(windows.train_starts)))
        with _seeding.seeded(config.seed, _seeding.uses_gpu(config)), sizes_named_when_out_of_memory(self):
            network = self._build_network(self.n_channels_, meta)
            self._start_from_pretrained(network)
            module = _engine.TrainingModule(network, self._loss(), config, self._lr_lambda(), self._penalty())
            train_loader = window_loader(windows, windows.train_starts, config.batch_size, True, config.seed)
            val_loader = None
            if len(windows.val_starts):
                val_loader = window_loader(windows, windows.val_starts, config.batch_size, False, config.seed)
            with _divergence.divergence_as_error(network, config):
                result = _engine.train(module, train_loader, val_loader)
        if (trivial := self._trivial_loss(_training_rows(series, self.scaler))) is not None:
            _divergence.warn_far_above_baseline(result, *trivial, config)
        self.network_ = module.network
        self.history_ = result.as_history()

    def _restore(self, state: dict, parts: list | RestoredRuns) -> NetworkTraining:
        """Set the fitted state saved in ``state``; ``parts`` are the saved panel's series (split), or
        its runs of rows (:func:`~tsrec.estimators._saved_context.restored_runs`)."""
        self.network_meta_ = state["network_meta"]
        _persistence.remember_fitted_params(self)
        self.network_ = network_with_weights(
            lambda: self._build_network(self.n_channels_, self.network_meta_), state["weights"], type(self).__name__)
        self.scaler_ = state["scaler"]
        self.series_scales_ = state["series_scales"]
        self.history_ = state["history"]
        # the saved context is all the data it has; a refit on it would discard the training (see update)
        self._context_only = True
        if isinstance(parts, RestoredRuns):
            now = parts.last_positions()
        else:
            now = [int(positions(df.index, step)[-1]) for (_, df), step in zip(parts, _steps.held_list(self, parts))]
        self.position_offset_ = [saved - cur for saved, cur in zip(state["last_positions"], now)]
        return self


def _training_rows(series: list[tuple], scaler: str) -> StandardisedRows:
    """The standardised training rows of ``series`` ((values, positions, cut) each), which the loss
    of a trivial forecast (``_trivial_loss``) is computed from: under robust scaling an outlier
    raises it."""
    return StandardisedRows(tuple(values[:cut] for values, _, cut in series), scaler)
