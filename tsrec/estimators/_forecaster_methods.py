"""Public methods of :class:`~tsrec.estimators._forecaster.DeepForecaster` that only pass through
to sktime or to :mod:`tsrec.estimators._evaluate`, kept apart so that the base stays small:
probabilistic forecasts (for forecasters with the ``capability:pred_int`` tag) and residuals;
all-windows evaluation is in :mod:`tsrec.estimators._window_forecasts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sktime.forecasting.base import ForecastingHorizon
from sktime.utils.validation.forecasting import check_alpha

from tsrec.estimators._evaluate import Context, forecast_context, new_context, stored_context, stored_context_at
from tsrec.estimators._params import check_levels
from tsrec.estimators._series import FhLike, SeriesLike, as_flat, check_raw_y, from_flat
from tsrec.estimators._steps import given_zone, in_given_zone
from tsrec.estimators.errors import InputError, InSampleError
from tsrec.estimators._updates import checked_rows


class ProbabilisticForecasts:
    """sktime's probabilistic methods with tsrec's checks of ``fh`` and of the levels, and a new
    context ``y`` as ``predict`` takes one; a mixin placed before ``BaseForecaster``, whose methods
    (or, with ``y``, their private ones) do the work."""

    def predict_interval(
        self, fh: FhLike = None, X: SeriesLike | None = None, coverage: float | list = 0.90,
        y: SeriesLike | None = None,
    ) -> pd.DataFrame:
        """Prediction intervals at ``coverage``, after the training data or a new context ``y``; see sktime.

        Only forecasters with the ``capability:pred_int`` tag (:class:`~tsrec.estimators.LS4Forecaster`)
        make them; the others raise a ``NotImplementedError`` (sktime's type) that names it, with ``y`` too.

        Parameters
        ----------
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast, as for :meth:`predict`.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        coverage : float or list of float, default=0.90
            Nominal coverage of each interval, strictly between 0 and 1.
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to forecast from instead of the training data, as for :meth:`predict`
            (same variates, at least ``lookback`` rows; a panel's series each): the rows are its
            future stamps, and nothing in the estimator changes.

        Returns
        -------
        pandas.DataFrame
            Lower and upper bounds in sktime's layout (columns: variable, coverage, bound).
        """
        self._refuse_without_distribution("prediction intervals")
        coverage = check_levels("coverage", coverage)
        context = self._new_context(fh, y)
        if context is None:
            with self._fh_kept(on_error_only=True):
                return super().predict_interval(fh=self._checked_fh(fh), X=X, coverage=coverage)
        out = self._predict_interval(fh=None, X=None, coverage=check_alpha(coverage, name="coverage"), context=context)
        return in_given_zone(out, given_zone(y))

    def predict_quantiles(
        self, fh: FhLike = None, X: SeriesLike | None = None, alpha: float | list | None = None,
        y: SeriesLike | None = None,
    ) -> pd.DataFrame:
        """Quantile forecasts at ``alpha``, after the training data or a new context ``y``; see sktime.

        Only forecasters with the ``capability:pred_int`` tag make them (see :meth:`predict_interval`).

        Parameters
        ----------
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast, as for :meth:`predict`.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        alpha : float, list of float or None, default=None
            Quantile levels strictly between 0 and 1; None is sktime's default, [0.05, 0.95].
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to forecast from instead of the training data, as for :meth:`predict`
            (same variates, at least ``lookback`` rows; a panel's series each): the rows are its
            future stamps, and nothing in the estimator changes.

        Returns
        -------
        pandas.DataFrame
            The quantiles in sktime's layout (columns: variable, level).
        """
        self._refuse_without_distribution("quantile predictions")
        alpha = check_levels("alpha", alpha)
        context = self._new_context(fh, y)
        if context is None:
            with self._fh_kept(on_error_only=True):
                return super().predict_quantiles(fh=self._checked_fh(fh), X=X, alpha=alpha)
        alpha = check_alpha([0.05, 0.95] if alpha is None else alpha, name="alpha")  # as sktime's method reads it
        return in_given_zone(self._predict_quantiles(fh=None, X=None, alpha=alpha, context=context), given_zone(y))

    def predict_var(
        self, fh: FhLike = None, X: SeriesLike | None = None, cov: bool = False, y: SeriesLike | None = None
    ) -> pd.DataFrame:
        """Variance forecasts, after the training data or a new context ``y``; see sktime.

        Only forecasters with the ``capability:pred_int`` tag make them (see :meth:`predict_interval`).

        Parameters
        ----------
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast, as for :meth:`predict`.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        cov : bool, default=False
            Return covariances across time steps instead of marginal variances (sktime's meaning).
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to forecast from instead of the training data, as for :meth:`predict`
            (same variates, at least ``lookback`` rows; a panel's series each): the rows are its
            future stamps, and nothing in the estimator changes.

        Returns
        -------
        pandas.DataFrame
            The variance forecasts in sktime's layout.
        """
        self._refuse_without_distribution("variance predictions")
        context = self._new_context(fh, y)
        if context is None:
            with self._fh_kept(on_error_only=True):
                return super().predict_var(fh=self._checked_fh(fh), X=X, cov=cov)
        return in_given_zone(self._predict_var(fh=None, X=None, cov=cov, context=context), given_zone(y))

    def predict_proba(
        self, fh: FhLike = None, X: SeriesLike | None = None, marginal: bool = True, y: SeriesLike | None = None
    ) -> object:
        """Distribution forecasts (an sktime distribution), after the training data or a new context ``y``; see sktime.

        Only forecasters with the ``capability:pred_int`` tag make them (see :meth:`predict_interval`).

        Parameters
        ----------
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast, as for :meth:`predict`.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        marginal : bool, default=True
            Return the marginal distribution at each time step (sktime's meaning).
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to forecast from instead of the training data, as for :meth:`predict`
            (same variates, at least ``lookback`` rows; a panel's series each): the rows are its
            future stamps, and nothing in the estimator changes.

        Returns
        -------
        object
            An sktime/skpro distribution object.
        """
        self._refuse_without_distribution("fully probabilistic predictions")
        self.check_is_fitted()
        context = self._new_context(fh, y)
        if context is None:
            # sktime's steps, but not its private _predict_proba: overriding that sent pipelines such as
            # TransformedTargetForecaster to a path that needs skpro, instead of their own Normal fallback
            with self._fh_kept(on_error_only=True):
                fh = self._check_fh(self._checked_fh(fh), pred_int=True)
                self._check_X(X=X)
                return self._normal_forecast(stored_context(self, fh))
        return self._normal_forecast(context, given_zone(y))

    def _normal_forecast(self, context: Context, zone: object = None) -> object:
        """sktime's Normal approximation (``predict``'s mean, ``predict_var``'s variance), from the
        inner frames: sktime's default reads the public ``predict``, whose NumPy container (after a
        NumPy fit or update) has lost the time stamps the distribution is indexed by."""
        try:  # the distribution sktime's default returns: skpro's where installed, else sktime's fork
            from skpro.distributions.normal import Normal
        except ImportError:
            from sktime.base._proba._normal import Normal
        mean = in_given_zone(forecast_context(self, context), zone)  # a new context's zone (None: as they are)
        sigma = np.sqrt(self._predict_var(fh=None, X=None, context=context)).set_axis(mean.columns, axis=1)
        sigma = sigma.set_axis(mean.index, axis=0)
        return Normal(mu=mean, sigma=sigma, index=mean.index, columns=mean.columns)

    def _refuse_without_distribution(self, what: str) -> None:
        """sktime's NotImplementedError and its words (its conformance checks match them) with tsrec's way
        out: sktime's own told users to "open an issue on sktime"."""
        if not self.get_tag("capability:pred_int"):
            raise NotImplementedError(
                f"{type(self).__name__} makes point forecasts only: it does not have the capability to return "
                f"{what}; LS4Forecaster samples forecast paths for intervals, quantiles, variances and distributions, "
                f"and sktime's ConformalIntervals({type(self).__name__}(...)) gives intervals around any forecaster's "
                "forecasts from its errors on earlier windows"
            )

    def _new_context(self, fh: object, y: SeriesLike | None) -> Context | None:
        """The new context ``y`` at the steps of ``fh``, checked as ``predict(y=...)`` checks it; None
        without one."""
        if y is None:
            return None
        # not sktime's public method: its checks of fh would store this fh as the fitted series'
        return new_context(self, fh, y)[0]


_UNSET = object()


def _check_scored_rows(y: object, forecast: SeriesLike) -> None:
    """``y`` must hold the forecast's rows: its stamps (pandas) or its length (an array)."""
    if isinstance(y, (pd.Series, pd.DataFrame)) and isinstance(forecast, (pd.Series, pd.DataFrame)):
        if not y.index.equals(forecast.index):
            raise InputError(
                f"score's y has {len(y)} rows ({_span(y.index)}) but the forecast is at {len(forecast)} stamps "
                f"({_span(forecast.index)}), and score compares them row by row; give the observations at the "
                f"forecast's stamps, or forecast at y's: {_fh_of_rows(y.index)}"
            )
    elif len(y) != len(forecast):
        raise InputError(f"score's y has {len(y)} rows but the forecast has {len(forecast)}, one per step of fh; "
                         "give one observation per forecast step")


def _fh_of_rows(index: pd.Index) -> str:
    """How to forecast at the stamps of ``index``: sktime refuses an fh of a panel's (id, time) pairs."""
    if not isinstance(index, pd.MultiIndex):
        return "fh=ForecastingHorizon(y.index, is_relative=False)"
    return ("fh=ForecastingHorizon(y.index.get_level_values(-1).unique(), is_relative=False) with rows of every "
            "fitted series at the same stamps (for series at different stamps, or some series only, compare y "
            "with est.predict_residuals(y))")


def _span(index: pd.Index) -> str:
    return "none" if not len(index) else str(index[0]) if len(index) == 1 else f"{index[0]} to {index[-1]}"


class Residuals:
    """sktime's ``predict_residuals``, forecasting at the stamps of ``y`` and leaving the last ``fh``
    as it was, and ``score``, refusing observations at other stamps than the forecast's; a mixin
    placed before ``BaseForecaster``."""

    def score(self, y: SeriesLike, X: SeriesLike | None = None, fh: FhLike = None) -> float:
        """MAPE of the forecast at ``fh`` (or the last given) against ``y``; see sktime.

        sktime compares the two row by row: observations at other stamps than the forecast's gave
        a plausible score of the wrong rows. They are refused, as are arrays of another length.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The observations at the forecast's stamps (an array: in its order).
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored.
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps or stamps to forecast; None takes the last given.

        Returns
        -------
        float
            The mean absolute percentage error (non-symmetric), as sktime's ``score``.
        """
        from sktime.performance_metrics.forecasting import mean_absolute_percentage_error

        forecast = self.predict(fh, X)
        _check_scored_rows(y, forecast)
        return mean_absolute_percentage_error(y, forecast, symmetric=False)

    def predict_residuals(self, y: SeriesLike | None = None, X: SeriesLike | None = None) -> SeriesLike:
        """Residuals ``y - forecast`` at the time stamps of ``y``; see sktime.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            Observations after the cutoff; None means the training series (in-sample, which
            tsrec forecasters do not make). An array's rows follow the cutoff, as in ``update``;
            a panel's rows continue the fitted series.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            ``y`` minus the forecast at its stamps.
        """
        self.check_is_fitted()  # before the array and panel paths, which read the fitted state first
        if y is None:  # sktime would forecast the training stamps and fail with every one of them in its message
            raise InSampleError(
                "predict_residuals() without y asks for residuals on the training series, in-sample forecasts, "
                "which tsrec forecasters do not make; pass the observations after the cutoff as y"
            )
        if isinstance(y, np.ndarray) and y.size:
            return self._array_residuals(y, X)
        with self._fh_kept():
            if isinstance(y, (pd.Series, pd.DataFrame)):
                # with a relative fh stored, sktime turns y's stamps into steps in the index's units, which on an
                # integer index of step 2 are twice tsrec's steps of the grid; without one it forecasts the stamps
                self._fh = None
                if len(y) and not _is_panel(y):  # stamps at or before the cutoff: tsrec's message, not sktime's
                    self._checked_fh(ForecastingHorizon(y.index, is_relative=False))
            if _is_panel(y):
                return self._panel_residuals(y, X)
            return super().predict_residuals(y=y, X=X)

    @contextlib.contextmanager
    def _fh_kept(self, on_error_only: bool = False) -> Iterator[None]:
        """sktime's fh and tsrec's record of the fh as given (see ``_checked_fh``), restored on exit,
        or with ``on_error_only`` if the block raises: a refused forecast (an X sktime refuses after
        the fh is stored, an interrupt) must not change the steps later forecasts make."""
        fh, given = self._fh, self.__dict__.get("_fh_given", _UNSET)
        failed = True
        try:
            yield
            failed = False
        finally:
            if failed or not on_error_only:
                self._fh = fh
                if given is _UNSET:
                    self.__dict__.pop("_fh_given", None)
                else:
                    self._fh_given = given

    def _panel_residuals(self, y: SeriesLike, X: SeriesLike | None) -> SeriesLike:
        """A panel's residuals at its own stamps; sktime makes an fh of the (id, time) index and fails."""
        mtype = check_raw_y(y)
        rows = as_flat(y, mtype)
        # each series at its own stamps: one fh for all would be refused where another series ends later
        forecast = forecast_context(self, stored_context_at(self, rows))
        forecast = forecast.set_axis(forecast.index.set_names(rows.index.names), axis=0).reindex(rows.index)
        return from_flat(rows - forecast.to_numpy(), mtype)

    def _array_residuals(self, y: np.ndarray, X: SeriesLike | None) -> np.ndarray:
        """An array holds no stamps: its rows follow the cutoff, as ``update`` places them (sktime
        would number them 0, 1, ..., in-sample steps); the residuals come back in ``y``'s shape."""
        rows, _ = checked_rows(self, y)
        residuals = self.predict_residuals(rows, X)  # in the type sktime last saw: y's or fit's
        if y.ndim == 3 and isinstance(residuals, pd.DataFrame):  # to numpy3D (series, variates, time)
            keys = rows.index.droplevel(-1).unique()
            residuals = np.stack([residuals.loc[key].to_numpy().T for key in keys])
        return np.asarray(residuals).reshape(y.shape)


def _is_panel(y: object) -> bool:
    """A (series id, time) MultiIndex frame or sktime's df-list."""
    if isinstance(y, list):
        return bool(y) and all(isinstance(part, pd.DataFrame) for part in y)
    return isinstance(y, pd.DataFrame) and isinstance(y.index, pd.MultiIndex)
