"""Forecasts of every complete window of held-out series, for evaluation (the benchmark protocol),
with the true values and the cutoff of each window: public methods of
:class:`~tsrec.estimators._forecaster.DeepForecaster` that pass through to :mod:`tsrec.estimators._evaluate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._evaluate import forecast_windows, window_cutoffs, window_targets
from tsrec.estimators._series import SeriesLike


class WindowForecasts:
    """Forecasts of every complete window of a series, for evaluation (the benchmark protocol)."""

    def forecast_windows(self, y: SeriesLike, batch_size: int | None = None) -> np.ndarray:
        """Forecast every complete window of ``y`` in one pass, for evaluation.

        Window ``i`` reads rows ``i .. i + lookback - 1`` of each series and forecasts the next
        ``horizon`` rows; every window whose targets lie inside ``y`` is used (nothing is
        dropped). Returns an array (n_windows, horizon, variates); for a panel the windows of
        the series follow each other in order. With per-series scaling a series the model was not
        fitted on is standardised window by window, by each window's own ``lookback`` rows (as
        ``predict(y=context)`` does), so that no forecast reads rows after its window.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            Series of the fitted variates (or a panel of them) to cut into windows.
        batch_size : int or None, default=None
            Windows forecast per network call (memory, not results); None: as many as ``predict``
            takes a panel's series a pass, the estimator's ``batch_size``, or for LS4
            ``2048 // n_samples`` (each window carries ``n_samples`` sample paths).

        Returns
        -------
        numpy.ndarray
            The forecasts, (n_windows, horizon, variates), on the data scale.
        """
        self.check_is_fitted()
        return forecast_windows(self, y, batch_size)

    def window_targets(self, y: SeriesLike) -> np.ndarray:
        """The true values matching :meth:`forecast_windows`, shape (n_windows, horizon, variates).

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The same series as given to :meth:`forecast_windows`.

        Returns
        -------
        numpy.ndarray
            The targets of every complete window, (n_windows, horizon, variates).
        """
        return window_targets(self, y)

    def window_cutoffs(self, y: SeriesLike) -> pd.Index:
        """The cutoff of each window of :meth:`forecast_windows`: the stamp of its last context row.

        Window ``i`` of a series forecasts the ``horizon`` rows after its cutoff, so that the
        forecasts of :meth:`forecast_windows` and the targets of :meth:`window_targets` can be
        labelled, grouped by series, or set beside a peer library's cross-validation table.

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame or numpy.ndarray
            The same series as given to :meth:`forecast_windows`.

        Returns
        -------
        pandas.Index
            One entry a window, in the order of :meth:`forecast_windows`, named ``"cutoff"``: the
            stamps of ``y`` (row positions for an array); for a panel a MultiIndex of its series id
            levels and the cutoff.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from tsrec.estimators import ARNetForecaster
        >>> y = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.date_range("2024-01-01", periods=60, freq="D"))
        >>> est = ARNetForecaster(n_lags=8, horizon=2, max_epochs=1).fit(y[:48])
        >>> cutoffs = est.window_cutoffs(y[40:])
        >>> len(cutoffs) == len(est.forecast_windows(y[40:])), str(cutoffs[0].date()), str(cutoffs[-1].date())
        (True, '2024-02-17', '2024-02-27')
        """
        self.check_is_fitted()
        return window_cutoffs(self, y)
