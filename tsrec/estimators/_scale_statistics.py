"""The statistics that standardise series: the centre and scale of each, and the scikit-learn
scalers of a forecaster's one global standardisation.

``scaler="standard"``: the mean and the standard deviation, as ``StandardScaler`` computes them
(with the exceptions :func:`_standard` gives). ``scaler="robust"``: the median and the
interquartile range in a normal distribution's standard deviations (``RobustScaler(unit_variance
=True)``; neuralforecast's ``scaler_type="robust"`` takes the median absolute deviation), which a
few outliers do not set: a spike of 1e4 in a unit sine made the standard scale about 490 and
squeezed every other value to near 0 (``tests/estimators/test_robust_scaling.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.preprocessing import RobustScaler, StandardScaler

#: the interquartile range of a normal distribution in standard deviations (norm.ppf(0.75) -
#: norm.ppf(0.25)): a robust scale divided by it is a standard deviation for normal data, so the
#: network and the validation loss see values of the same size either way
NORMAL_IQR = 1.3489795003921634

#: the percentiles of a robust scaler: the quartiles and the median between them
QUARTILES = (25, 50, 75)


class Scales(NamedTuple):
    """The centre (the mean, or a robust scaler's median) and scale, each (series, variates), that
    standardise each series of a list of parts."""

    centre: np.ndarray
    scale: np.ndarray

    def standardise(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        """Series ``i``'s ``rows[i]`` (rows, variates) minus its centre, over its scale."""
        return [standardised(values, centre, scale) for values, centre, scale in zip(rows, self.centre, self.scale)]

    def unscaled_rows(self, rows: list[np.ndarray]) -> list[np.ndarray]:
        """Series ``i``'s standardised ``rows[i]`` back on its scale (the inverse of :meth:`standardise`)."""
        return [values * scale + centre for values, centre, scale in zip(rows, self.centre, self.scale)]

    def stacked(self, values: np.ndarray) -> np.ndarray:
        """``values`` (series, rows, variates) standardised, series ``i`` by row ``i``."""
        return standardised(values, self.centre[:, None], self.scale[:, None])

    def unscaled(self, values: np.ndarray, series_axis: int = 0) -> np.ndarray:
        """Standardised ``values`` back on each series' scale; the series run along ``series_axis``
        and the variates along the last axis (e.g. sample paths (samples, series, steps, variates))."""
        shape = [1] * values.ndim
        shape[series_axis], shape[-1] = self.centre.shape
        return values * self.scale.reshape(shape) + self.centre.reshape(shape)


def standardised(values: np.ndarray, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(values - centre) / scale``, also where the difference overflows: values near float64's
    largest on the other side of the centre from it (a robust scaler's median of a sine of
    amplitude 1.7e308 lies far from 0) are divided first. Only there: ``values / scale - centre /
    scale`` loses the digits of a narrow series at a large level (1e9 + 1e-3 noise), which the
    difference keeps exactly."""
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf: NaN, mended below
        out = (values - centre) / scale
    lost = ~np.isfinite(out) & np.isfinite(values)
    if lost.any():
        out = np.where(lost, values / scale - centre / scale, out)
    return out


def group_moments(rows: np.ndarray, counts) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) variance, each (groups, variates), of consecutive runs of ``counts``
    rows each. Two passes: E[x^2] - mean^2 cancels to noise for series at a large level."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    with np.errstate(over="ignore", invalid="ignore"):  # callers divide by the peak first; no warning either way
        mean = np.add.reduceat(rows, starts, axis=0) / counts[:, None]
        centred = rows - np.repeat(mean, counts, axis=0)
        return mean, np.add.reduceat(centred**2, starts, axis=0) / counts[:, None]


def own_scales(rows: list[np.ndarray], scaler: str = "standard") -> Scales:
    """Each array of ``rows`` standardised on its own: as ``StandardScaler`` does (see
    :func:`_standard`), or with ``scaler="robust"`` as :func:`_robust` does."""
    return run_scales(np.concatenate(rows), np.array([len(values) for values in rows]), scaler)


def run_scales(flat: np.ndarray, counts: np.ndarray, scaler: str = "standard") -> Scales:
    """:func:`own_scales` of consecutive runs of ``counts`` rows of ``flat`` (rows, variates)."""
    counts = np.asarray(counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    peak = _nonzero(np.maximum.reduceat(np.abs(flat), starts, axis=0))
    with np.errstate(over="ignore"):  # from -1e308 to 1e308 the spread is inf: not constant, as it should be
        spread = np.maximum.reduceat(flat, starts, axis=0) - np.minimum.reduceat(flat, starts, axis=0)
    divided = flat / np.repeat(peak, counts, axis=0)
    standard = _standard(*group_moments(divided, counts), peak, spread)
    if scaler == "standard":
        return standard
    if (counts == counts[0]).all():  # equal runs (windows, one series): one call, no loop over runs
        quartiles = np.percentile(divided.reshape(len(counts), counts[0], -1), QUARTILES, axis=1)
    else:
        quartiles = np.stack([np.percentile(run, QUARTILES, axis=0) for run in np.split(divided, starts[1:])], axis=1)
    return _robust(quartiles, peak, standard)


def window_scales(windows: np.ndarray, scaler: str = "standard") -> Scales:
    """Each window of ``windows`` (windows, rows, variates) standardised on its own, as
    :func:`own_scales` does a list of them."""
    n, rows, variates = windows.shape
    return run_scales(windows.reshape(n * rows, variates), np.full(n, rows), scaler)


def _nonzero(peak: np.ndarray) -> np.ndarray:
    return np.where(peak > 0, peak, 1.0)


def _standard(mean: np.ndarray, var: np.ndarray, peak: np.ndarray, spread: np.ndarray) -> Scales:
    """Mean and scale from the moments of values divided by their largest magnitude ``peak``, as
    ``StandardScaler`` computes them from the values, except that only a variate whose values are
    all equal (``spread``, max - min, of 0) is constant and gets scale 1. scikit-learn's rule also
    calls a variate constant whose spread is within its count times float64's rounding of its mean
    (1e9 + a wave of amplitude 1e-3 over 4,000 rows), whose forecasts then came back hundreds of times too
    wide. Dividing first keeps any magnitude of finite values from overflowing or underflowing
    the moments (a series near 1e155 or of spread 1e-170 standardises like one near 1)."""
    constant = (spread == 0) | ~(var > 0)  # var 0 with values that differ: never in float64, but no 1/0
    return Scales(mean * peak, np.where(constant, 1.0, np.sqrt(var) * peak))


def _robust(quartiles: np.ndarray, peak: np.ndarray, standard: Scales) -> Scales:
    """Median and scale from the ``quartiles`` (3, runs, variates) of values divided by their
    largest magnitude ``peak``: the interquartile range over :data:`NORMAL_IQR`. Where the middle
    half of the values is one value (an intermittent series, mostly zeros) that range is 0 and the
    ``standard`` deviation is the scale instead (neuralforecast's robust scaler falls back to it
    where its median absolute deviation is 0; scikit-learn's gives scale 1, which leaves the values
    in their own units); a constant variate keeps scale 1."""
    low, median, high = quartiles
    with np.errstate(over="ignore"):  # a range near 1e308 divided by 1.35: the standard scale instead
        scale = (high - low) / NORMAL_IQR * peak
    usable = (high > low) & np.isfinite(scale)
    return Scales(median * peak, np.where(usable, scale, standard.scale))


def _unconstant(scaler: StandardScaler, rows: np.ndarray) -> None:
    """Give ``scaler`` (fitted on ``rows``) the statistics of :func:`own_scales` for the
    variates it calls constant whose values differ: scikit-learn's rule for constant features
    (see :func:`_standard`), or a variance underflowed to 0 (a series of magnitude 1e-170); for
    those whose variance underflowed part way, to a subnormal number with few digits left (near
    1e-160: a scale 1e-4 off); and for those whose variance overflowed (near 1e155), as a panel's
    own scales do."""
    eps, count = np.finfo(np.float64).eps, len(rows)
    with np.errstate(over="ignore", invalid="ignore"):
        sklearn_constant = scaler.var_ <= count * eps * scaler.var_ + (count * scaler.mean_ * eps) ** 2
    overflowed = ~(np.isfinite(scaler.mean_) & np.isfinite(scaler.var_))
    subnormal = (scaler.var_ > 0) & (scaler.var_ < np.finfo(np.float64).tiny)
    wrong = ((sklearn_constant | subnormal) & (rows.max(axis=0) > rows.min(axis=0))) | overflowed
    if wrong.any():
        own = own_scales([rows])
        scaler.mean_[wrong], scaler.scale_[wrong] = own.centre[0][wrong], own.scale[0][wrong]
        with np.errstate(over="ignore"):  # a scale near 1e300 has an infinite variance; scale_ is what is used
            scaler.var_[wrong] = own.scale[0][wrong] ** 2


def standard_scaler(rows: np.ndarray) -> StandardScaler:
    """scikit-learn's ``StandardScaler`` of ``rows``, mended by :func:`_unconstant`."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is mended by _unconstant
        scaler = StandardScaler().fit(rows)
    _unconstant(scaler, rows)
    return scaler


def robust_scaler(rows: np.ndarray) -> RobustScaler:
    """scikit-learn's ``RobustScaler(unit_variance=True)`` of ``rows`` with :func:`_robust`'s
    statistics where they differ (beyond rounding): scikit-learn gives a variate whose middle half
    is one value scale 1, and an interquartile range past float64's largest an infinite scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = RobustScaler(unit_variance=True).fit(rows)
    own = own_scales([rows], "robust")
    wrong = ~(np.isclose(scaler.center_, own.centre[0], rtol=1e-9) & np.isclose(scaler.scale_, own.scale[0], rtol=1e-9))
    scaler.center_[wrong], scaler.scale_[wrong] = own.centre[0][wrong], own.scale[0][wrong]
    return scaler


def scaler_centre(scaler: StandardScaler | RobustScaler) -> np.ndarray:
    """The values a fitted scikit-learn ``scaler`` takes away before it divides by ``scale_``."""
    return scaler.center_ if isinstance(scaler, RobustScaler) else scaler.mean_

