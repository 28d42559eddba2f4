"""Forecasts from seeded sample paths (LS4's): point forecasts are their mean, quantiles,
intervals and variances their empirical distribution, per series on its own scale.

A mixin for a :class:`~tsrec.estimators._forecaster.DeepForecaster` whose network samples paths
(``network.sample``) and that has ``n_samples``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators import _horizon, _newdata
from tsrec.estimators._evaluate import Context, new_context, stored_context
from tsrec.estimators._modes import predicting
from tsrec.estimators._params import check_flag, check_int
from tsrec.estimators._series import SeriesLike, join_panel
from tsrec.estimators._timeindex import future_index
from tsrec._warn import warn_user
from tsrec.errors import InputError

if TYPE_CHECKING:
    from tsrec.estimators._scale_statistics import Scales


#: Sample paths (series x n_samples) carried through the network in one pass.
PATHS_PER_PASS = 2048


class _SharedWalks(threading.local):
    """Per thread (Dask's threads share one model): the noisy draws that a point forecast's walks
    kept for the quantile forecast of the same contexts after it (:meth:`SamplePathForecasts._sharing_walks`)."""

    def __init__(self) -> None:
        self.owner: object = None
        self.steps: np.ndarray | None = None
        self.walks: list[tuple[torch.Tensor, torch.Tensor]] = []  # (contexts, their draws at steps)


_SHARED = _SharedWalks()


class SamplePathForecasts:
    """Forecasts of a sampling network's paths: ``sample_paths``, and sktime's point and
    probabilistic forecasts read from the same seeded draws."""

    def sample_paths(self, n_steps: int, noise: bool = True, y: SeriesLike | None = None) -> np.ndarray:
        """``n_samples`` sample paths of the ``n_steps`` after the training data (or after a new
        context ``y``), on the data scale.

        Parameters
        ----------
        n_steps : int
            Steps to sample, >= 1 (NumPy integers too).
        noise : bool, default=True
            Draws of the observation model ``N(decoder mean, sigma^2)``, else the decoder means.
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            A new context to sample after instead of the training data, as ``predict(y=...)``
            takes it (same variates, at least ``lookback`` rows; a panel's series each); nothing
            in the estimator changes.

        Returns
        -------
        numpy.ndarray
            Shape (n_samples, n_series, n_steps, variates). Path ``s`` of every series comes from
            the same random draws (a series' paths do not depend on the others in the panel), so
            paths of different series are not independent: do not sum them across series.
            ``predict`` is the mean of the paths without noise (to float rounding),
            ``predict_quantiles`` the quantiles of those with it (the same draws).
        """
        self.check_is_fitted()
        # int(n_steps) would truncate 2.7 and take "3"; 0 or less failed inside torch
        n_steps = check_int("n_steps", n_steps, minimum=1)
        noise = check_flag("noise", noise)
        fh = ForecastingHorizon([n_steps])  # every step up to n_steps is sampled: the context's steps are unused
        context = stored_context(self, fh) if y is None else new_context(self, fh, y)[0]
        self._check_paths_size(len(context.parts), n_steps)
        x, scales = self._context_inputs(context)
        return scales.unscaled(self._scaled_paths(x, n_steps, noise, context.parts).numpy(), series_axis=1)

    @contextmanager
    def _sharing_walks(self, steps: Sequence[int]) -> Iterator[None]:
        """Within the block, each pass of a point forecast (in this thread) keeps its paths' noisy
        draws at the relative ``steps``, and a quantile or variance forecast at those steps reads a
        pass of the same contexts from them instead of walking its paths again: batch forecasting
        asks for both, and the walk is nearly all of their time."""
        _SHARED.owner, _SHARED.steps, _SHARED.walks = self, np.unique(np.asarray(steps, dtype=np.int64)), []
        try:
            yield
        finally:
            _SHARED.owner, _SHARED.steps, _SHARED.walks = None, None, []

    def _context_inputs(self, context: Context) -> tuple[torch.Tensor, Scales]:
        """The standardised contexts the sampler reads, and the statistics that standardised them
        (LS4 reads no positions)."""
        x, _, _, scales = self._contexts(context.parts, context.offsets, context.freqs, context.keys_fitted)
        return x, scales

    def _get_varnames(self) -> pd.Index:
        """The variates' names as the inner frame has them: sktime reads them from the input's
        metadata, where a NumPy panel names its variates 0, 1, ... although its own conversion
        (and so every point forecast) names them var_0, var_1, ..."""
        return self._y.columns

    def _check_paths_size(self, n_series: int, n_steps: int) -> None:
        """One pass of the walk (:meth:`_check_walk_size`) and ``n_steps`` steps of every sample
        path must fit in memory."""
        self._check_walk_size(n_series)
        _horizon.check_output_size(n_series * self._n_paths(), n_steps, self.n_channels_, "sample paths",
                          "ask for fewer steps or lower n_samples")

    def _check_walk_size(self, n_series: int) -> None:
        """A pass of the walk carries each path's context and latents: at least lookback x
        (d_model + variates) float32 values a path (a univariate walk of 10**9 paths was killed)."""
        n_paths, memory = self._n_paths(), _horizon.physical_memory()
        width = self._as_fitted("d_model") + self.n_channels_  # the fitted network's sizes, not later assignments
        need = min(n_series, self._series_per_pass()) * n_paths * self._lookback_length() * width * 4
        if memory is not None and need > memory:
            raise InputError(f"n_samples={n_paths:,} sample paths would need at least {need / 2**30:.3g} GiB while "
                             f"sampling, more than the {memory / 2**30:.3g} GiB of memory this process may use; "
                             "lower n_samples")

    def _scaled_paths(self, x: torch.Tensor, n_steps: int, noise: bool, parts: list,
                      steps: np.ndarray | None = None) -> torch.Tensor:
        """The paths of the series ``parts`` from their contexts ``x``; an overflow inside the
        network is the InputError a point forecast gives, not NaN paths or a kernel's message."""
        network = self.network_
        network.eval()
        # a fresh generator a pass: path s takes the same draws in each; no caller's autocast (_modes)
        with predicting(), _newdata.overflow_as_input_error():
            paths = torch.cat([_shared_draws(xc) if _shares(self, xc, noise, steps) else
                               network.sample(xc, n_steps, self._n_paths(), network.generator(x.device), noise=noise,
                                              steps=steps) for xc in x.split(self._series_per_pass())], dim=1)
        if not bool(torch.isfinite(paths).all()):  # one row per series: its paths end to end
            rows = paths.transpose(0, 1).reshape(len(parts), -1, paths.shape[-1])
            _newdata.check_forecast(rows.double().numpy(), [key for key, _ in parts])
        return paths

    def _forecast_path(self, x: torch.Tensor, position: torch.Tensor, n_steps: int) -> torch.Tensor:
        # the mean of the same seeded paths that the quantiles come from (without their noise,
        # whose mean is zero): every step is sampled, none is fed back. Averaged step by step in
        # float64, as the quantiles are taken, so the first steps do not depend on how many follow
        self._check_walk_size(x.shape[0])  # the mean walks every path too (a step's paths at a time)
        network = self.network_
        network.eval()
        kept = _SHARED.steps
        if _SHARED.owner is not self or kept[-1] > n_steps:
            return network.sample_mean(x, n_steps, self._n_paths(), network.generator(x.device))
        draws, mean = network.sample_with_mean(x, n_steps, self._n_paths(), network.generator(x.device), kept.tolist())
        _SHARED.walks.append((x.clone(), draws))
        return mean

    def _n_paths(self) -> int:
        """``n_samples``, read at each forecast (it may be set after fit), checked as fit checks it."""
        # 0 divided by zero here; 1 gave zero-width intervals. As an int: a NumPy one would not split a tensor
        return check_int("n_samples", self.n_samples, minimum=2, hint=" (sample paths per forecast)")

    def _series_per_pass(self) -> int:
        """Series sampled in one pass: each carries ``n_samples`` paths through the S4 stacks (about
        0.5 MiB a path at the defaults, benchmarks/ls4_panel.py), so a pass holds about :data:`PATHS_PER_PASS`
        paths."""
        return max(1, PATHS_PER_PASS // self._n_paths())

    def _noisy_paths(self, context: Context, covariances: bool = False
                     ) -> tuple[torch.Tensor, list[np.ndarray], Scales]:
        """The seeded sample paths of ``context`` that quantiles and variances read (float64,
        standardised scale, (n_samples, series, kept steps, variates)), where each series' steps
        lie among the kept ones, and the statistics that standardised them.

        Only the steps some series asks for are kept: a far step costs time, not memory. With
        ``covariances``, the covariances of every kept step with every other must fit in memory
        too; both are checked before any step is sampled."""
        parts, steps = context.parts, context.steps
        # at least one series' steps are kept: checked first, as the union of 3e7 steps took 44 s to refuse
        self._check_paths_size(len(parts), max((len(s) for s in steps), default=0))
        kept = np.unique(np.concatenate(steps))  # sorted
        self._check_paths_size(len(parts), len(kept))
        if covariances:  # a row per series and kept step, of covariances with every kept step
            _horizon.check_output_size(len(parts), len(kept), self.n_channels_ * len(kept), "series' covariance",
                              "ask for cov=False, or for fewer steps")
        x, scales = self._context_inputs(context)
        paths = self._scaled_paths(x, int(kept[-1]), True, parts, steps=kept).double()
        return paths, [np.searchsorted(kept, k) for k in steps], scales

    def _per_series(self, rows: list[np.ndarray], context: Context, columns: pd.Index) -> pd.DataFrame:
        """Each series' ``rows`` (one per step of ``fh``) at its stamps, joined as its data was."""
        frames = [pd.DataFrame(r, columns=columns, index=future_index(df.index, f, k))
                  for r, (_, df), f, k in zip(rows, context.parts, context.freqs, context.steps)]
        return join_panel([k for k, _ in context.parts], frames, context.like)

    def _predict_quantiles(self, fh, X, alpha: list[float], context: Context | None = None) -> pd.DataFrame:
        """Quantiles of the noisy sample paths of the stored series at ``fh``, or of ``context``
        (a new one, whose steps it holds: ``fh`` is then unused)."""
        context = stored_context(self, fh) if context is None else context
        _warn_unresolved_tails(alpha, self._n_paths())
        paths, at, scales = self._noisy_paths(context)
        levels = torch.quantile(paths, torch.tensor(alpha, dtype=paths.dtype), dim=0).numpy()  # (A, B, S, C)
        # a standard scaler is increasing and affine, so it maps quantiles to quantiles
        levels = scales.unscaled(levels, series_axis=1).transpose(1, 2, 3, 0)  # (B, S, C, A)
        # sktime's layout (variate-major, then alpha), under the context's names as predict(y=...) gives them
        columns = pd.MultiIndex.from_product([context.variates, alpha])
        rows = [levels[b, i].reshape(len(i), -1) for b, i in enumerate(at)]
        return self._per_series(rows, context, columns)

    def _predict_interval(self, fh, X, coverage: list[float], context: Context | None = None) -> pd.DataFrame:
        """sktime's intervals, the quantiles at 0.5 -/+ coverage / 2, whose variates sktime names by
        the fitted ones: with ``context`` (a new one) they take its names, as the quantiles do."""
        interval = super()._predict_interval(fh=fh, X=X, coverage=coverage, context=context)
        if context is None:  # the stored series: sktime's names are theirs
            return interval
        return interval.set_axis(pd.MultiIndex.from_product([context.variates, coverage, ["lower", "upper"]]), axis=1)

    def _predict_var(self, fh, X=None, cov: bool = False, context: Context | None = None) -> pd.DataFrame:
        """Variances of the sample paths' empirical distribution, whose quantiles
        ``predict_quantiles`` gives; with ``cov`` their covariances across the steps of ``fh``.

        With ``cov=True`` the layout is sktime's: a column (variate, stamp) per variate and stamp
        of ``fh``, a row per stamp (under the series' keys for a panel), and no covariances
        between variates. A panel needs every series to forecast the same stamps (one set of
        columns). With ``context`` (a new one) its series and steps, as in :meth:`_predict_quantiles`.
        """
        cov = check_flag("cov", cov)
        context = stored_context(self, fh) if context is None else context
        paths, at, scales = self._noisy_paths(context, covariances=cov)
        # a copy: the statistics may be a read-only array, which torch warns about sharing
        scale2 = torch.tensor(np.asarray(scales.scale), dtype=paths.dtype)[:, None] ** 2  # (B, 1, C)
        names = context.variates
        if not cov:  # dividing by n_samples, as the variance of that empirical distribution does
            variances = (paths.var(dim=0, correction=0) * scale2).numpy()
            return self._per_series([variances[b, i] for b, i in enumerate(at)], context, names)
        stamps = [future_index(df.index, f, k) for (_, df), f, k in zip(context.parts, context.freqs, context.steps)]
        if any(not s.equals(stamps[0]) for s in stamps[1:]):
            raise InputError("predict_var(cov=True) on a panel needs every series to forecast the same time "
                             "stamps, as the columns are one set of stamps; these series end at different times "
                             "or have different steps: ask for cov=False, or for one series at a time")
        centred = paths - paths.mean(dim=0)
        # (B, S, C, T) times each series' variance per variate
        covs = (torch.einsum("nbsc,nbtc->bsct", centred, centred) / len(paths) * scale2[..., None]).numpy()
        rows = [covs[b][np.ix_(i, range(covs.shape[2]), i)].reshape(len(i), -1) for b, i in enumerate(at)]
        return self._per_series(rows, context, pd.MultiIndex.from_product([names, stamps[0]]))


def _shares(est: SamplePathForecasts, x: torch.Tensor, noise: bool, steps: np.ndarray | None) -> bool:
    """Whether a pass of the noisy paths of contexts ``x`` at ``steps`` was walked already (:meth:`_sharing_walks`)."""
    return (_SHARED.owner is est and noise and steps is not None and np.array_equal(steps, _SHARED.steps)
            and any(torch.equal(x, seen) for seen, _ in _SHARED.walks))


def _shared_draws(x: torch.Tensor) -> torch.Tensor:
    """The draws a point forecast's walk of contexts ``x`` kept, handed over once (their memory is freed)."""
    at = next(i for i, (seen, _) in enumerate(_SHARED.walks) if torch.equal(x, seen))
    return _SHARED.walks.pop(at)[1]


def _warn_unresolved_tails(alpha: list[float], n_paths: int) -> None:
    """Warn of levels in the tails beyond the sample paths: with ``n_paths`` of them a level under
    ``1 / n_paths`` (or above ``1 - 1 / n_paths``) is the sample minimum (maximum), and an interval
    of such coverage covers what the paths span, less than it says (at ``n_samples=10``, 0.80 at
    nominal 0.99 on an AR(1))."""
    def tail(a: float) -> float:  # 1 - 0.9 is 0.09999999999999998, which ten paths resolve
        return round(min(a, 1 - a), 12)

    far = [a for a in alpha if tail(a) < 1 / n_paths]
    # 0.0005, not 0.0005000000000000004; a level that 6 digits round to 0 or 1 as it is
    tails = [short if 0 < (short := float(f"{a:.6g}")) < 1 else a for a in far]
    if tails:
        # a tail under 5e-13 rounds to 0: divide by the level's own (a ZeroDivisionError before)
        need = int(np.ceil(round(10 / min(tail(a) or min(a, 1 - a) for a in far), 6)))
        warn_user(f"quantile level(s) {tails} lie beyond what n_samples={n_paths} sample paths resolve (a level "
                  f"under 1/{n_paths} or above 1 - 1/{n_paths} is their minimum or maximum), so an interval "
                  f"of that coverage covers less than it says; raise n_samples (e.g. to {need:,}) for such tails")
