"""A classifier's X against the shapes it reads: its rank, and at predict time the channels and
length it was fitted on, refused with the shape as given and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tsrec.estimators.errors import InputError

# a plain table is read as one row per sample; a long one (a row per sample and time) is not that
_LONG_TABLE_FIX = ("if X is a long table (a row per sample and time point), make its sample-id and time columns the "
                   "index, X.set_index([id, time]) (sktime's pd-multiindex), or pass a numpy3D array")


def long_table_fix(X: object) -> list[str]:
    """The long-table fix where ``X`` is a plain table (no MultiIndex, and numbers in its cells, not
    the series of a nested panel), else nothing."""
    plain = isinstance(X, pd.DataFrame) and not isinstance(X.index, pd.MultiIndex)
    return [_LONG_TABLE_FIX] if plain and not (X.size and np.ndim(X.iat[0, 0]) == 1) else []


def rows_read_as_panel(X: object) -> list[str]:
    """Where ``X`` is a table of numbers with a row MultiIndex: how it was read (sktime's pd-multiindex
    panel, a row per sample and time point), and the fix where each row is one sample's series (a
    table indexed by subject and trial, say), else nothing."""
    if not (isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex)) or (
            X.size and np.ndim(X.iat[0, 0]) == 1):
        return []
    samples = X.index.get_level_values(0).nunique()
    fix = ("if X is (time, instance), pass X.swaplevel().sort_index()" if time_first(X.index) else
           "if each row is one sample's series, pass X.reset_index(drop=True) or X.to_numpy()")
    return [f"X, a table with a row MultiIndex, is read as an sktime pd-multiindex panel, a row per sample and time "
            f"point: its {len(X)} rows are {samples} samples of {X.shape[1]} channel(s); {fix}"]


def time_first(index: pd.MultiIndex) -> bool:
    """Whether the first level holds time stamps and the last does not: a (time, instance) index."""
    stamps = (pd.DatetimeIndex, pd.PeriodIndex, pd.TimedeltaIndex)
    return isinstance(index.levels[0], stamps) and not isinstance(index.levels[-1], stamps)


def series_per_sample(X: object) -> bool:
    """A one-channel panel as a 1-D container of one series per sample (a pd.Series or object array of them):
    1-D, as labels are, but no labels."""
    return isinstance(X, (pd.Series, np.ndarray)) and X.ndim == 1 and len(X) > 0 and all(
        isinstance(c, pd.Series) or (isinstance(c, (np.ndarray, list, tuple)) and np.ndim(c) == 1) for c in X)


def shape_of(X) -> tuple[int, ...] | None:
    """X's shape without converting it; None when it has none to read (ragged lists, array-likes
    that refuse numpy's functions): validate_data then explains."""
    if hasattr(X, "shape"):
        return tuple(X.shape)
    try:
        return np.shape(X)
    except (ValueError, TypeError):
        return None


def as_rank(X, ndim: int):
    """Univariate ``X`` (one channel) as a 2-D or 3-D ndarray; array-likes are converted as ndarrays are."""
    shape = shape_of(X)
    if shape is None or sp.issparse(X) or {len(shape), ndim} != {2, 3}:
        return X
    if ndim == 2:
        return np.asarray(X)[:, 0, :] if shape[1] == 1 else X
    return np.asarray(X)[:, None, :]


def check_ndim(ndim: int) -> None:
    """X is 2-D (n_samples, n_timepoints) or 3-D (n_samples, n_channels, n_timepoints)."""
    if ndim == 1:
        # "Reshape your data" is scikit-learn's wording, which its estimator checks look for
        raise InputError(
            "X is 1-D but must be 2-D (n_samples, n_timepoints) or 3-D (n_samples, n_channels, n_timepoints); "
            "Reshape your data: X.reshape(1, -1) if it is a single series"
        )
    if ndim not in (2, 3):
        raise InputError(
            f"X must be 2-D (n_samples, n_timepoints) or 3-D (n_samples, n_channels, n_timepoints), got {ndim}-D"
        )


def at_fitted_shape(est, X):
    """``X`` at the rank ``est`` was fitted on (univariate data may come 2-D or 3-D with one
    channel); a rank, channel count or series length other than the fitted ones is refused."""
    given = shape_of(X)
    X = as_rank(X, est.input_ndim_) if est.n_channels_ == 1 else X
    shape = shape_of(X)
    if shape is None:
        return X
    check_ndim(len(shape))
    got, fitted = ((1, shape[1]) if len(shape) == 2 else shape[1:]), (est.n_channels_, est.n_timepoints_)
    if got == fitted:
        return X
    fix = _shape_fixes(got, fitted, X, given)
    if len(shape) == est.input_ndim_ == 2:
        # scikit-learn's sentence first: its estimator checks look for it
        raise InputError(
            f"X has {got[1]} features, but {type(est).__name__} is expecting {est.n_features_in_} features "
            f"as input: its series have {got[1]} timepoints, the classifier was fitted on "
            f"{fitted[1]}; pass X of shape (n_samples, {fitted[1]}) ({fix})"
        )
    expected = fitted[1:] if est.input_ndim_ == 2 else fitted
    raise InputError(
        f"X has shape {given} ({got[0]} channel(s) x {got[1]} timepoints per sample) but the classifier "
        f"was fitted on {fitted[0]} x {fitted[1]}; pass X of shape (n_samples, {', '.join(map(str, expected))}) ({fix})"
    )


def _shape_fixes(got: tuple[int, int], fitted: tuple[int, int], X: object, given: tuple[int, ...]) -> str:
    """How to give samples of the fitted (channels, timepoints) instead of ``got``."""
    if got == fitted[::-1]:  # (n, T, C) where (n, C, T) is read
        return "the axes look swapped: pass (n_samples, n_channels, n_timepoints), e.g. X.transpose(0, 2, 1)"
    if got[0] == 1 and fitted[0] > 1 and got[1] == fitted[0] * fitted[1]:  # channels laid end to end
        return (f"the {fitted[0]} channels look laid end to end in one row per sample (as sktime's numpyflat "
                f"does): reshape to (n_samples, {fitted[0]}, {fitted[1]}), e.g. X.reshape(len(X), {fitted[0]}, "
                f"{fitted[1]})")
    fixes = [f"pass the {fitted[0]} channel(s) it was fitted on"] if got[0] != fitted[0] else []
    if len(given) == 2 and tuple(given) == fitted:  # one sample's (channels, timepoints)
        fixes.append(f"if X is one sample, add the sample axis: X[None], shape (1, {given[0]}, {given[1]})")
    if got[1] > fitted[1]:
        fixes.append(f"truncate or resample the series to {fitted[1]} timepoints, or fit on series of this length")
    elif got[1] < fitted[1]:
        fixes.append(f"resample or pad the series to {fitted[1]} timepoints")
    if got[1] != fitted[1]:
        fixes.append("UCR/UEA data: give both splits one length, load_ucr(name, split, pad=\"last\", length=...)")
    return "; ".join(fixes + long_table_fix(X))
