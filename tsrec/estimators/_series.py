"""Checks and conversions of forecasting data before and after sktime's own conversion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sktime.datatypes import check_is_scitype, convert_to

from tsrec.estimators._timeindex import check_index
from tsrec.estimators.errors import InputError


FLAT_MTYPES = ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"]
SCITYPES = ["Series", "Panel", "Hierarchical"]


def check_raw_y(y: object, name: str = "y") -> str:
    """Validate ``y`` before sktime's conversion and return its sktime mtype.

    Rejects, each with the fix in the message: None, wrong types, empty data, non-numeric
    (e.g. categorical or string) columns, NaN/inf, duplicate or unsorted time stamps.
    """
    if y is None:
        raise InputError(f"{name} is None; pass a pd.Series, pd.DataFrame, NumPy array or panel")
    if isinstance(y, np.ndarray):
        _check_array(y, name)
    elif not isinstance(y, (pd.Series, pd.DataFrame)):
        raise TypeError(
            f"{name} has unsupported type {type(y).__name__}; pass a pd.Series, pd.DataFrame (one "
            "column per variate, or a (series id, time) MultiIndex panel) or a NumPy array"
        )
    elif len(y) == 0:
        raise InputError(f"{name} is empty; pass at least lookback + horizon rows")
    valid, message, meta = check_is_scitype(y, scitype=SCITYPES, return_metadata=["mtype"])
    frame = y if isinstance(y, pd.DataFrame) else None
    if valid:
        frame = convert_to(y, to_type=FLAT_MTYPES)
    elif isinstance(y, pd.Series):
        frame = y.to_frame()
    if frame is not None:
        _check_frame(frame, name)
    if not valid:
        raise TypeError(f"{name} is not a valid time series container (type {type(y).__name__}): {message}")
    return meta["mtype"]


def _check_array(y: np.ndarray, name: str) -> None:
    if y.size == 0:
        raise InputError(f"{name} is empty; pass at least lookback + horizon rows")
    if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise TypeError(f"{name} must hold real numbers, got dtype {y.dtype}; convert it with y.astype(float)")
    if y.ndim not in (1, 2):
        raise InputError(f"{name} must be 1-D (one series) or 2-D (time, variates), got shape {y.shape}")
    if not np.isfinite(y).all():
        raise InputError(f"{name} contains NaN or inf; fill or drop missing values first (e.g. y.interpolate())")


def _check_frame(frame: pd.DataFrame, name: str) -> None:
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise InputError(f"{name} has duplicate column names {dup}; give every variate its own name")
    bad = [
        c for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if bad:
        raise TypeError(
            f"{name} has non-numeric (e.g. categorical or string) columns {bad}; drop them or "
            "convert them to numbers"
        )
    if not np.isfinite(frame.to_numpy(dtype=float)).all():
        raise InputError(f"{name} contains NaN or inf; fill or drop missing values first (e.g. y.interpolate())")
    if isinstance(frame.index, pd.MultiIndex):
        if frame.index.has_duplicates:
            raise InputError(f"{name} has duplicate (series, time) rows; drop duplicates first")
        for key, part in split_panel(frame):
            check_index(part.index, f"{name} series {key!r}")
    else:
        check_index(frame.index, name)


def split_panel(y: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    """Split a flat frame into ``(series key, time-indexed frame)`` pairs, in order of appearance.

    A single series has the key None; a panel's keys are the values of every index level but
    the last (tuples for hierarchical data).
    """
    if not isinstance(y.index, pd.MultiIndex):
        return [(None, y)]
    levels = list(range(y.index.nlevels - 1))
    by = levels[0] if len(levels) == 1 else levels
    return [
        (key, part.droplevel(levels))
        for key, part in y.groupby(level=by, sort=False)
    ]


def join_panel(keys: list[object], frames: list[pd.DataFrame], names: list) -> pd.DataFrame:
    """Inverse of :func:`split_panel`."""
    if keys == [None]:
        return frames[0]
    out = pd.concat(frames, keys=keys)
    out.index.names = names
    return out
