"""The time between each sample's stamps, for classifiers that read irregular sampling (``timing="stamps"``).

A panel's stamps (pd-multiindex time level, nested_univ cell index, df-list frame index) give each
sample's gaps: differences of integers (nanoseconds of date-times and durations, ordinals of
periods) taken before any rounding to float, so that a gap of a microsecond between stamps of
2026 keeps its digits. Gaps are counted in the fit data's median gap (``time_unit_``): evenly
spaced samples then read one unit a step, exactly as ``timing="steps"`` reads them. The stamps'
order, repeats and lengths are checked where the values are read (:mod:`tsrec.estimators._panels`);
this module runs after that check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._panel_formats import dask_to_multiindex, is_dask_frame
from tsrec.estimators.errors import InputError

TIMINGS = ("steps", "stamps")
_NO_STAMPS = ("timing='stamps' reads the time between each sample's stamps, which {what} does not carry; pass a "
              "pd-multiindex panel (rows (instance, time), the time level holding the stamps), a nested_univ frame "
              "or a df-list, or timing='steps' (every value one unit of time)")


def refuse_without_stamps(X: object) -> None:
    """Refuse an array (no stamps) before the values are read: scikit-learn's check would first warn of the
    missing feature names of a classifier fitted on a panel."""
    if not (isinstance(X, (pd.DataFrame, pd.Series, list, tuple)) or is_dask_frame(X)):
        what = "a numpy array" if isinstance(X, np.ndarray) else f"X of type {type(X).__name__}"
        raise InputError(_NO_STAMPS.format(what=what))


_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _integer_stamps(stamps: pd.Index, where: str) -> tuple[np.ndarray, str, float]:
    """Stamps as int64 (or float for float numbers), their kind, and the seconds (or 1) a count is."""
    if stamps.dtype == object and len(stamps) and all(isinstance(s, pd.Timestamp) for s in stamps):
        stamps = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True))  # several time zones: one instant each
    if isinstance(stamps, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        # counts of the stamps' own unit: dates past 2262 have no nanosecond count
        return stamps.asi8, "date-times or durations", _SECONDS[stamps.unit]
    if isinstance(stamps, pd.PeriodIndex):
        return stamps.asi8, f"periods of {stamps.freqstr}", 1.0
    if pd.api.types.is_numeric_dtype(stamps.dtype) and not pd.api.types.is_bool_dtype(stamps.dtype):
        return stamps.to_numpy(), "numbers", 1.0
    example = stamps[0] if len(stamps) else None
    raise InputError(f"timing='stamps' reads the time between each sample's stamps, but {where} holds stamps of "
                     f"dtype {stamps.dtype} (e.g. {example!r}), which measure no time: give numbers, date-times, "
                     "durations or periods, or use timing='steps'")


def _sample_stamps(X: object) -> list[tuple[pd.Index, str]]:
    """Each sample's stamps and where they come from, in the order the classifier reads the samples."""
    if is_dask_frame(X):
        X = dask_to_multiindex(X)
    if isinstance(X, (list, tuple, np.ndarray)) and len(X) and all(isinstance(s, pd.Series) for s in X):
        X = pd.Series(list(X))  # one channel's series, one a sample: a nested_univ panel, as the values are read
    if isinstance(X, pd.Series) and X.dtype == object:
        X = X.to_frame()
    if isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex):
        codes, _ = pd.factorize(X.index.get_level_values(0), use_na_sentinel=False)  # as the values are grouped
        order = np.argsort(codes, kind="stable")  # samples in the order they first appear, as their values
        stamps, bounds = X.index.get_level_values(-1)[order], np.flatnonzero(np.diff(codes[order])) + 1
        return [(part, "X's time level") for part in np.split(stamps, bounds)]
    if isinstance(X, pd.DataFrame) and len(X.columns):
        if X.map(lambda c: isinstance(c, pd.Series)).to_numpy().all():
            return [_shared_cell_stamps(X, row) for row in range(len(X))]
        if X.map(lambda c: isinstance(c, (np.ndarray, list, tuple))).to_numpy().any():
            raise InputError(_NO_STAMPS.format(what="X's cells (arrays or lists, not pd.Series indexed by time)"))
    if isinstance(X, (list, tuple)) and len(X) and all(isinstance(frame, pd.DataFrame) for frame in X):
        return [(frame.index, f"X[{i}]'s index") for i, frame in enumerate(X)]
    raise InputError(_NO_STAMPS.format(what=f"X of type {type(X).__name__} (values without stamps)"))


def _shared_cell_stamps(X: pd.DataFrame, row: int) -> tuple[pd.Index, str]:
    """A nested_univ sample's stamps: one set for all its channels (a step's channels are one input)."""
    first = X.iloc[row, 0].index
    for col in range(1, X.shape[1]):
        if not X.iloc[row, col].index.equals(first):
            raise InputError(f"timing='stamps': sample {row}'s channels {X.columns[0]!r} and {X.columns[col]!r} have "
                             "other time stamps, but a step's channels are read as one input at one time; give every "
                             "channel of a sample the same stamps (reindex and interpolate), or use timing='steps'")
    return first, f"X.iloc[{row}, 0]'s index"


def sample_gaps(X: object) -> tuple[np.ndarray, str]:
    """``(n_samples, n_timepoints - 1)`` gaps between consecutive stamps (seconds for date-times and
    durations, counts of the stamps' unit otherwise), and the stamps' kind."""
    gaps: list[np.ndarray] = []
    kinds: set[str] = set()
    for stamps, where in _sample_stamps(X):
        values, kind, seconds = _integer_stamps(stamps, where)
        own = np.diff(values).astype(np.float64) * seconds
        if not (np.isfinite(own) & (own > 0)).all():  # a missing stamp, a repeat
            raise InputError(f"timing='stamps': {where} has stamps that are missing or not strictly increasing "
                             f"({list(stamps[:5])}...); sort each sample's rows by time and drop repeats and rows "
                             "without a stamp")
        gaps.append(own)
        kinds.add(kind)
    if len(kinds) > 1:
        raise InputError(f"timing='stamps': X's samples have stamps of different kinds ({sorted(kinds)}); give every "
                         "sample stamps of one kind")
    return np.stack(gaps), kinds.pop()


def time_unit(gaps: np.ndarray) -> float:
    """The median gap of the fit data: the unit steps are counted in (1 where samples have one step)."""
    return float(np.median(gaps)) if gaps.size else 1.0


def step_lengths(gaps: np.ndarray, unit: float) -> np.ndarray:
    """Each step's length in ``unit``s, ``(n_samples, n_timepoints)``: the first step's is 1 (no earlier stamp
    to count from), the others the gaps."""
    return np.concatenate([np.ones((len(gaps), 1)), gaps / unit], axis=1)


def check_lengths_fit(lengths: np.ndarray, dtype: np.dtype) -> None:
    """Refuse lengths near the limits of the network's dtype: the LTC solver's ``cm_t / elapsed`` overflowed
    float32 to inf, then NaN, for a gap 1e-40 times the median, which surfaced as a diverged training."""
    bound = float(np.finfo(dtype).max) ** 0.75  # float32: about 1e29
    low, high = float(lengths.min()), float(lengths.max())
    if low < 1 / bound or high > bound:
        raise InputError(f"timing='stamps': the steps' lengths range from {low:.3g} to {high:.3g} times the fit's "
                         f"median gap, beyond what {np.dtype(dtype).name} computes safely ({1 / bound:.0e} to "
                         f"{bound:.0e}); fit with precision='64-true', or drop the outlying stamps")


def check_kind(kind: str, fitted_kind: str) -> None:
    """Refuse stamps of another kind than the fit's: their gaps would be counted in another unit."""
    if kind != fitted_kind:
        raise InputError(f"X's stamps are {kind}, but the classifier was fitted on stamps that are {fitted_kind}: "
                         "their gaps would be counted in another unit; give X stamps of the fit's kind")
