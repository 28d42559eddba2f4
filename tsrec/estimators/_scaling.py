"""How a forecaster standardises its series before the network reads them.

``scaling="global"``: one ``StandardScaler`` fitted on the training rows of every series (the
benchmark protocol's). ``scaling="series"``: each series by the mean and standard deviation of
its own training rows (neuralforecast's ``local_scaler_type``, darts' per-series ``Scaler``), so
that series of very different levels and spreads look alike to one global network. A new context
(``predict(y=...)``, batch files) of a series that was not fitted is standardised by the rows
given for it; a fitted series keeps its fitted statistics.

Every path goes through :class:`Scales`, the (mean, scale) of each series of a list of parts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from tsrec._warn import warn_user
from tsrec.estimators._params import check_choice
from tsrec.estimators.errors import InputError

SCALINGS = ("global", "series")

#: a series whose spread is this many times below the spread of all series together comes out of
#: the one global scaler nearly constant (next to series of other spreads or levels), and the
#: network's small errors on it grow by the global spread
SCALE_SPREAD = 1e3


def check_scaling(value: object) -> str:
    """``scaling`` is one of :data:`SCALINGS`."""
    return check_choice("scaling", value, SCALINGS)


class Scales(NamedTuple):
    """The mean and scale, each (series, variates), that standardise each series of a list of parts."""

    mean: np.ndarray
    scale: np.ndarray

    def standardise(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        """Series ``i``'s ``rows[i]`` (rows, variates) minus its mean, over its scale."""
        return [(values - mean) / scale for values, mean, scale in zip(rows, self.mean, self.scale)]

    def unscaled_rows(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        """Series ``i``'s standardised ``rows[i]`` back on its scale (the inverse of :meth:`standardise`)."""
        return [values * scale + mean for values, mean, scale in zip(rows, self.mean, self.scale)]

    def stacked(self, values: np.ndarray) -> np.ndarray:
        """``values`` (series, rows, variates) standardised, series ``i`` by row ``i``."""
        return (values - self.mean[:, None]) / self.scale[:, None]

    def unscaled(self, values: np.ndarray, series_axis: int = 0) -> np.ndarray:
        """Standardised ``values`` back on each series' scale; the series run along ``series_axis``
        and the variates along the last axis (e.g. sample paths (samples, series, steps, variates))."""
        shape = [1] * values.ndim
        shape[series_axis], shape[-1] = self.mean.shape
        return values * self.scale.reshape(shape) + self.mean.reshape(shape)


def group_moments(rows: np.ndarray, counts) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) variance, each (groups, variates), of consecutive runs of ``counts``
    rows each. Two passes: E[x^2] - mean^2 cancels to noise for series at a large level."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    with np.errstate(over="ignore", invalid="ignore"):  # overflows are reported by check_statistics
        mean = np.add.reduceat(rows, starts, axis=0) / counts[:, None]
        centred = rows - np.repeat(mean, counts, axis=0)
        return mean, np.add.reduceat(centred**2, starts, axis=0) / counts[:, None]


def standard_scales(rows: list[np.ndarray]) -> tuple[Scales, np.ndarray]:
    """Each array of ``rows`` standardised as ``StandardScaler`` does on its own: a variate whose
    variance is within rounding of zero gets scale 1 (scikit-learn's rule for constant features).
    Returns the scales and the variances."""
    counts = np.array([len(values) for values in rows])
    mean, var = group_moments(np.concatenate(rows), counts)
    eps = np.finfo(np.float64).eps
    with np.errstate(over="ignore", invalid="ignore"):
        constant = var <= counts[:, None] * eps * var + (counts[:, None] * mean * eps) ** 2
        scale = np.where(constant, 1.0, np.sqrt(var))
    return Scales(mean, scale), var


def check_statistics(mean: np.ndarray, var: np.ndarray, rows: list[np.ndarray], what: str = "y") -> None:
    """The standardising statistics must be finite: |y| near 1e155 overflows the variance."""
    if np.isfinite(mean).all() and np.isfinite(var).all():
        return
    big = max(float(np.abs(values).max()) for values in rows)
    raise InputError(
        f"{what}'s values (up to |y| = {big:.3g}) are too large to standardise: their variance overflows float64; "
        f"divide {what} by a power of ten (e.g. {what} / 1e{int(np.floor(np.log10(big)))}) and multiply the "
        "forecasts back"
    )


def series_scales_frame(scales: Scales, keys: list, key_names: list, columns: list) -> pd.DataFrame:
    """The fitted ``series_scales_``: a row per series key, columns ("mean" | "scale", variate)."""
    index = pd.Index(keys, tupleize_cols=True, name=key_names[0] if len(key_names) == 1 else None)
    if isinstance(index, pd.MultiIndex):
        index = index.set_names(key_names)
    columns = pd.MultiIndex.from_product([["mean", "scale"], columns])
    return pd.DataFrame(np.hstack([scales.mean, scales.scale]), index=index, columns=columns)


def fit_scales(parts: list, cuts: list[int], columns: list, key_names: list, scaling: str
               ) -> tuple[StandardScaler, pd.DataFrame | None]:
    """The fitted ``scaler_`` (on the training rows, the first ``cuts[i]`` of series ``i``, of every
    series) and ``series_scales_`` (each series' own statistics with ``scaling="series"``, else
    None). The global scaler warns of series it would squeeze (:func:`warn_mixed_scales`)."""
    train_parts = [df.to_numpy(float)[:cut] for (_, df), cut in zip(parts, cuts)]
    train_rows = np.concatenate(train_parts)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by check_statistics
        scaler = StandardScaler().fit(train_rows)
    check_statistics(scaler.mean_, scaler.var_, [train_rows])
    keys = [key for key, _ in parts]
    if scaling == "global":
        warn_mixed_scales(train_rows, keys, cuts, columns, scaler.scale_)
        return scaler, None
    scales, var = standard_scales(train_parts)
    check_statistics(scales.mean, var, train_parts)
    return scaler, series_scales_frame(scales, keys, key_names, columns)


def scales_of(est, parts: list) -> Scales:
    """The statistics that standardise each series of ``parts`` for the fitted ``est``: the global
    scaler's, or with per-series scaling each fitted series' own, and for a series ``est`` was not
    fitted on those of the rows given for it."""
    fitted = est.series_scales_
    if fitted is None:
        shape = (len(parts), est.n_channels_)
        return Scales(np.broadcast_to(est.scaler_.mean_, shape), np.broadcast_to(est.scaler_.scale_, shape))
    rows = fitted_rows(fitted.index, [key for key, _ in parts])
    known = rows >= 0
    mean = np.empty((len(parts), est.n_channels_))
    scale = np.empty_like(mean)
    mean[known], scale[known] = np.split(fitted.to_numpy()[rows[known]], 2, axis=1)
    new = [df.to_numpy(float) for (_, df), seen in zip(parts, known) if not seen]
    if new:
        own, var = standard_scales(new)
        check_statistics(own.mean, var, new)
        mean[~known], scale[~known] = own
    return Scales(mean, scale)


def fitted_rows(index: pd.Index, keys: list) -> np.ndarray:
    """Each key's row in the fitted statistics' ``index``, -1 for a series not fitted. Batch files
    read ids as text, so a text key that is no fitted key matches the one fitted key that reads
    as it (id "7" of a file is series 7)."""
    row_of = dict(zip(index, range(len(index))))
    rows = np.array([row_of.get(key, -1) for key in keys], dtype=np.int64)
    unmatched = [i for i, key in enumerate(keys) if rows[i] < 0 and isinstance(key, str)]
    if unmatched:
        as_text: dict[str, list[int]] = {}
        for key, row in row_of.items():
            as_text.setdefault(str(key), []).append(row)
        for i in unmatched:
            found = as_text.get(keys[i], [])
            rows[i] = found[0] if len(found) == 1 else -1
    return rows


def warn_mixed_scales(rows: np.ndarray, keys: list, counts: list[int], columns: list, scale: np.ndarray) -> None:
    """Warn when a series of a panel (``counts`` consecutive ``rows`` each, named by ``keys``) has a
    spread :data:`SCALE_SPREAD` or more times below the global ``scale`` in a variate, with the fix."""
    if len(keys) < 2:
        return
    _, var = group_moments(rows, counts)
    spread = np.sqrt(var)
    narrow = (spread > 0) & (spread * SCALE_SPREAD <= scale)  # a constant series is not squeezed: it has no spread
    for channel, column in enumerate(columns):
        if not narrow[:, channel].any():
            continue
        worst = int(np.argmin(np.where(narrow[:, channel], spread[:, channel], np.inf)))
        others = int(narrow[:, channel].sum()) - 1
        warn_user(
            f"series {keys[worst]!r} of y{f' (and {others} more)' if others else ''} has a spread (std "
            f"{spread[worst, channel]:.3g} in variate {column!r}) {scale[channel] / spread[worst, channel]:.3g} times "
            f"below that of all series together ({scale[channel]:.3g}), which differ in spread or level: one scaler "
            "for all leaves it nearly constant to the network, and its forecasts can be far off; standardise each "
            "series on its own with scaling='series'",
            RuntimeWarning,
        )
        return
