"""Checks and conversions of forecasting data before and after sktime's own conversion."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from sktime.datatypes import check_is_scitype, convert
from sktime.forecasting.base import ForecastingHorizon

from tsrec._warn import warn_user
from tsrec.estimators._long_tables import numeric_stamps_fix
from tsrec.estimators._padding import empty_parts_note, padding_note, wide_padding_note
from tsrec.estimators._series_values import (
    check_dtypes, check_same_zone, check_time_index, non_numeric_message, not_real,
)
from tsrec.estimators._timeindex import SEVERAL_SERIES, check_index, future_indexes
from tsrec.estimators.errors import InputError


FLAT_MTYPES = ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"]
#: what sktime takes as a series or panel, and as a forecasting horizon
SeriesLike = pd.Series | pd.DataFrame | np.ndarray
FhLike = ForecastingHorizon | int | list | range | np.ndarray | pd.Index | None
SCITYPES = ["Series", "Panel", "Hierarchical"]
# filling a NumPy y along its time axis: 1-D (time), 2-D (time, variates), 3-D (series, variates, time)
_ARRAY_FILLS = {1: "along time, e.g. pd.Series(y).interpolate(limit_direction='both').to_numpy()",
                2: "along time, e.g. pd.DataFrame(y).interpolate(limit_direction='both').to_numpy()",
                3: "each series along time, e.g. np.stack([pd.DataFrame(s.T).interpolate(limit_direction='both')"
                   ".to_numpy().T for s in y])"}


def check_raw_y(y: object, name: str = "y") -> str:
    """Validate ``y`` before sktime's conversion and return its sktime mtype.

    Rejects, each with the fix in the message: None, wrong types, empty data, a time index that
    is not dates, periods or integers (e.g. dates read as strings), non-numeric (e.g. categorical
    or string), complex or boolean columns, NaN/inf, duplicate or unsorted time stamps.
    """
    if y is None:
        raise InputError(f"{name} is None; pass a pd.Series, pd.DataFrame, NumPy array or panel")
    if isinstance(y, np.ndarray):
        _check_array(y, name)
    elif isinstance(y, list) and not y:  # before the type check below, whose "pass ... a list of" contradicted it
        raise InputError(f"{name} is an empty list; pass the series: a list of DataFrames (one per series), a "
                         "pd.Series, pd.DataFrame or NumPy array")
    elif isinstance(y, list) and all(isinstance(part, pd.DataFrame) for part in y):
        for i, part in enumerate(y):  # sktime's "df-list" panel: one frame per series
            _check_pandas(part, f"{name}[{i}]")
            if not part.columns.equals(y[0].columns):  # sktime would fill the union of the columns with NaN
                raise InputError(f"{name}[{i}] has columns {list(part.columns)} but {name}[0] has "
                                 f"{list(y[0].columns)}; give every series' frame the same variates")
            check_same_zone(part, y[0], f"{name}[{i}]", f"{name}[0]")
    elif isinstance(y, (list, tuple)) and all(isinstance(v, numbers.Real) for v in y):
        # a plain list of values: the type message below named lists of DataFrames as the fix
        # sktime's conformance suite matches "type" in the refusal of a tuple
        raise TypeError(f"{name} has type {type(y).__name__} (of numbers), which is no series type; pass them as one "
                        f"series: np.asarray({name}) or pd.Series({name}) (with a time index if the steps have stamps)")
    elif not isinstance(y, (pd.Series, pd.DataFrame)):
        raise TypeError(
            f"{name} has unsupported type {type(y).__name__}; pass a pd.Series, pd.DataFrame (one "
            "column per variate, or a (series id, time) MultiIndex panel), a list of DataFrames "
            "(one per series) or a NumPy array"
        )
    elif isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex):
        # sktime's panels are frames; its refusal lists every format's complaint
        raise TypeError(f"{name} is a Series with a MultiIndex; a panel is a DataFrame: pass {name}.to_frame()")
    elif not _nested(y):  # sktime's nested_univ: its index holds the series ids, checked once flattened below
        _check_pandas(y, name)
    valid, message, meta = check_is_scitype(y, scitype=SCITYPES, return_metadata=["mtype"])
    frame = y if isinstance(y, pd.DataFrame) else None
    if valid:
        frame = as_flat(y, meta["mtype"])
        if meta["mtype"] == "nested_univ":  # its pandas checks, skipped above
            _check_pandas(frame, name)
    elif isinstance(y, pd.Series):
        frame = y.to_frame()
    if frame is not None:
        _check_frame(frame, name, listed=isinstance(y, list))
    elif isinstance(y, list):  # frames sktime refused as a df-list: name the frame, and what is wrong in it
        for i, part in enumerate(y):
            _check_frame(part, f"{name}[{i}]", listed=False)
    if not valid:
        raise TypeError(f"{name} is not a valid time series container (type {type(y).__name__}): {message}")
    return meta["mtype"]


def _nested(y: object) -> bool:
    """Whether ``y`` is a frame of series in its cells, as sktime's ``nested_univ`` panel: a row per
    series, a column per variate. Its index holds series ids, not stamps."""
    return (isinstance(y, pd.DataFrame) and len(y) > 0 and y.shape[1] > 0 and (y.dtypes == object).all()
            and isinstance(y.iat[0, 0], pd.Series))


def fitted_series_name(column: object) -> object:
    """A univariate model's forecasts' name as a Series: its variate's column, except that an
    unnamed Series' column is 0 (sktime's conversion), which names nothing."""
    return None if isinstance(column, (int, np.integer)) and column == 0 else column


def as_flat(y: object, mtype: str) -> pd.DataFrame:
    """``y`` of the sktime ``mtype`` (from :func:`check_raw_y`) as a flat frame (``FLAT_MTYPES``).

    sktime's ``convert_to`` would infer the mtype again: a full check, which on a panel whose series
    ids are not in sorted order goes series by series (~0.15 ms each).
    """
    return convert(y, from_type=mtype, to_type=FLAT_MTYPES)


def from_flat(frame: pd.DataFrame, mtype: str) -> object:
    """A flat frame (a forecast) in the sktime ``mtype`` of the user's data; the inverse of :func:`as_flat`."""
    flat = {1: "pd.DataFrame", 2: "pd-multiindex"}.get(frame.index.nlevels, "pd_multiindex_hier")
    return convert(frame, from_type=flat, to_type=mtype)


def _check_pandas(y: pd.Series | pd.DataFrame, name: str) -> None:
    """Before sktime's own checks, whose failure is a long list of every format's complaint (or,
    for a nullable "boolean" column, a silent conversion to float)."""
    if len(y) == 0:
        raise InputError(f"{name} is empty; pass at least lookback + horizon rows")
    if isinstance(y, pd.DataFrame) and y.shape[1] == 0:  # scikit-learn's scaler would name its own minimum
        raise InputError(f"{name} has rows but no columns; pass at least one variate (a column of numbers)")
    if isinstance(y.index, pd.MultiIndex):
        check_series_ids(y.index, name)
    check_time_index(y, name)
    check_dtypes(y, name)


def check_series_ids(index: pd.MultiIndex, name: str) -> None:
    """A panel's series ids must all be there: pandas' grouping drops rows whose id is NaN, None or
    NaT, so such a series was left out of training and forecasts without a word."""
    for level, codes in enumerate(index.codes[:-1]):
        absent = codes < 0
        held = np.asarray(pd.isna(index.levels[level]))  # pd.concat keeps a NaN key as a level value
        missing = np.flatnonzero(absent | held[codes] if held.any() else absent)
        if len(missing):
            raise InputError(
                f"{name} has {len(missing)} row(s) whose series id (index level {level}, "
                f"{index.names[level]!r}) is missing (NaN, None or NaT), the first at row {missing[0]}; give "
                "every series an id (e.g. fill the id column before set_index) or drop those rows"
            )


def _check_array(y: np.ndarray, name: str) -> None:
    if y.size == 0:
        raise InputError(f"{name} is empty; pass at least lookback + horizon rows")
    if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise not_real(name, y.dtype)
    if y.ndim not in (1, 2, 3):
        raise InputError(
            f"{name} must be 1-D (one series), 2-D (time, variates) or 3-D (series, variates, time: sktime's "
            f"numpy3D panel), got shape {y.shape}"
        )
    if not np.isfinite(y).all():
        bad = ~np.isfinite(y)
        at = np.unravel_index(np.argmax(bad), y.shape)
        axes = {1: ["index"], 2: ["row", "column"], 3: ["series", "variate", "time"]}[y.ndim]
        where = ", ".join(f"{axis} {int(i)}" for axis, i in zip(axes, at))
        raise _non_finite(name, y, where, f"interpolate {_ARRAY_FILLS[y.ndim]}")


def warn_time_across(y: object, name: str = "y") -> None:
    """Warn where training data given as an array has more variates than time steps: darts' and
    neuralforecast's (series, time, variates), or a (variates, time) table, read in tsrec's layout,
    trained silently on hundreds of variates over a few steps (contexts are not weighed: a context of
    96 rows of 321 variates is Electricity's usual one)."""
    if isinstance(y, np.ndarray) and y.ndim == 3 and y.shape[1] > y.shape[2]:
        warn_user(f"{name} has {y.shape[1]} variates of {y.shape[2]} time steps each (a 3-D array is read as "
                  "(series, variates, time), sktime's numpy3D); if it is (series, time, variates), as darts and "
                  f"neuralforecast lay it out, pass np.transpose({name}, (0, 2, 1))")
    elif isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] > y.shape[0]:
        warn_user(f"{name} has {y.shape[1]} variates of {y.shape[0]} time steps each (a 2-D array is read as "
                  f"(time, variates)); if it is (variates, time), pass {name}.T")


def _non_finite(name: str, values: np.ndarray, where: str, fix: str, note: str = "") -> InputError:
    """How many values are NaN or inf, where the first is, a fix, and a ``note`` on their cause."""
    n_nan, n_bad = int(np.isnan(values).sum()), int((~np.isfinite(values)).sum())
    counts = [f"{n_nan} NaN"] * bool(n_nan) + [f"{n_bad - n_nan} inf"] * bool(n_bad > n_nan)
    return InputError(
        f"{name} contains NaN or inf ({' and '.join(counts)}), the first at {where}; fill or drop missing values "
        f"first ({fix}){note}"
    )


def _frame_non_finite(frame: pd.DataFrame, values: np.ndarray, name: str, listed: bool) -> InputError:
    """:func:`_non_finite` for a frame: the first bad value by its row label (a panel's series and
    stamp) and column; a panel is filled within each series (interpolating across would mix them),
    one given as a list of frames (``listed``: the series are its positions) frame by frame."""
    row, col = np.unravel_index(np.argmax(~np.isfinite(values)), values.shape)
    label = frame.index[row]
    column = f", column {frame.columns[col]!r}" if frame.shape[1] > 1 else ""
    if isinstance(frame.index, pd.MultiIndex):
        key = label[0] if len(label) == 2 else label[:-1]
        levels = "0" if frame.index.nlevels == 2 else str(list(range(frame.index.nlevels - 1)))
        series = f"{name}[{key}]" if listed else f"series {key!r}"
        where = f"{series}, time {label[-1]}{column}"
        fix = ("within each frame, e.g. y = [part.interpolate(limit_direction='both') for part in y]" if listed else
               f"within each series, e.g. y.groupby(level={levels}).transform(lambda s: "
               "s.interpolate(limit_direction='both'))")
        note = "" if listed else empty_parts_note(frame, values, name) or padding_note(frame, values)
    else:
        # interpolate() alone leaves leading NaN as they are
        where, fix = f"time {label}{column}", "e.g. y.interpolate(limit_direction='both')"
        note = empty_parts_note(frame, values, name) or wide_padding_note(frame, values, name)
    return _non_finite(name, values, where, fix, note)


def _check_frame(frame: pd.DataFrame, name: str, listed: bool) -> None:
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise InputError(f"{name} has duplicate column names {dup}; give every variate its own name")
    bad = [c for c in frame.columns
           if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if bad:
        raise TypeError(non_numeric_message(frame, bad, name))
    if (stamps_fix := numeric_stamps_fix(frame, name)) is not None:
        raise InputError(stamps_fix)
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise _frame_non_finite(frame, values, name, listed)
    if isinstance(frame.index, pd.MultiIndex):
        if frame.index.has_duplicates:
            raise InputError(f"{name} has duplicate (series, time) rows; drop duplicates first")
        if not _evenly_spaced_runs(frame.index):  # else no series can fail: each is checked (and named)
            for key, part in split_panel(frame):
                check_index(part.index, f"{name} series {key!r}", panel=(frame.index.nlevels - 1, key))
    else:
        check_index(frame.index, name, SEVERAL_SERIES)


def split_panel(y: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    """Split a flat frame into ``(series key, time-indexed frame)`` pairs, in order of appearance.

    A single series has the key None; a panel's keys are the values of every index level but
    the last (tuples for hierarchical data).
    """
    if not isinstance(y.index, pd.MultiIndex):
        return [(None, y)]
    starts = run_starts(y.index)
    if starts is not None:
        return _split_runs(y, starts)
    order = _grouped_order(y.index)
    if order is not None:  # e.g. update's rows after all stored ones: one take, then runs
        grouped = y.take(order)
        return _split_runs(grouped, run_starts(grouped.index))
    levels = list(range(y.index.nlevels - 1))
    by = levels[0] if len(levels) == 1 else levels
    return [(key, part.droplevel(levels)) for key, part in y.groupby(level=by, sort=False)]


def run_starts(index: pd.MultiIndex) -> np.ndarray | None:
    """The first row of each series when every series' rows are one run (the usual layout), else
    None (interleaved series, missing or categorical ids: grouped by pandas instead)."""
    ids = index.codes[:-1]
    if any(isinstance(level.dtype, pd.CategoricalDtype) for level in index.levels[:-1]):
        return None
    if len(index) == 0 or any((codes < 0).any() for codes in index.codes):  # groupby drops missing ids
        return None
    change = np.zeros(len(index), dtype=bool)
    change[0] = True
    for codes in ids:
        change[1:] |= codes[1:] != codes[:-1]
    starts = np.flatnonzero(change)
    runs = np.stack([codes[starts] for codes in ids], axis=1)
    return starts if len(np.unique(runs, axis=0)) == len(starts) else None


def run_keys(index: pd.MultiIndex, starts: np.ndarray) -> pd.Index:
    """The series key of each run starting at ``starts`` (see :func:`run_starts`): scalars, or
    tuples for hierarchical ids. Taken before the time level is dropped, which copies every row."""
    return index[starts].droplevel(-1)


def _grouped_order(index: pd.MultiIndex) -> np.ndarray | None:
    """The rows ordered as ``groupby(sort=False)`` splits them: series in order of first appearance,
    each one's rows in their order; None where pandas groups instead (see :func:`run_starts`)."""
    ids = index.codes[:-1]
    if any(isinstance(level.dtype, pd.CategoricalDtype) for level in index.levels[:-1]):
        return None
    if len(index) == 0 or any((codes < 0).any() for codes in index.codes):
        return None
    _, first, inverse = np.unique(np.stack(ids, axis=1), axis=0, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # each series' place by its first row
    return np.argsort(rank[inverse.ravel()], kind="stable")


def _evenly_spaced_runs(index: pd.MultiIndex) -> bool:
    """Whether every series is one run of rows whose stamps rise by one step of its own (periods by
    one period), so that :func:`check_index` passes each: no NaT, no duplicates, sorted, evenly
    spaced (for three or more naive stamps a frequency pandas infers: equal positive differences
    always give one). One pass over the panel; checking each series cost ~50 us."""
    times = index.levels[-1]
    naive = isinstance(times, pd.DatetimeIndex) and times.tz is None
    if not (naive or isinstance(times, pd.PeriodIndex) or times.dtype == np.int64) or times.hasnans:
        return False
    starts = run_starts(index)
    if starts is None or (index.codes[-1] < 0).any():
        return False
    values = np.asarray(times.asi8 if not times.dtype == np.int64 else times)[index.codes[-1]]
    if len(values) < 2:
        return True
    gaps = np.diff(values)
    inner = np.ones(len(gaps), dtype=bool)
    inner[starts[1:] - 1] = False  # the gap from one series to the next
    if not (gaps[inner] > 0).all():
        return False
    if isinstance(times, pd.PeriodIndex):  # one period apart; int64 and naive stamps by a step of their own
        return bool((gaps[inner] == times.freq.n).all())
    lengths = np.diff(np.append(starts, len(values)))
    first = np.repeat(gaps[np.minimum(starts, len(gaps) - 1)], np.maximum(lengths - 1, 0))
    return bool((gaps[inner] == first).all())


def _split_runs(y: pd.DataFrame, starts: np.ndarray) -> list[tuple[object, pd.DataFrame]]:
    """The groupby split, by slicing: pandas sorted and copied the whole frame (0.5 ms a series)."""
    keys = run_keys(y.index, starts)  # iterated as groupby's keys
    ends = np.append(starts[1:], len(y)).tolist()
    level, codes, name = y.index.levels[-1], y.index.codes[-1], y.index.names[-1]
    # as droplevel makes them: the level's freq is kept where a series' codes are a slice of it
    times = [level.take(codes[start:end]).rename(name) for start, end in zip(starts.tolist(), ends)]
    dtypes = set(y.dtypes)
    if len(dtypes) == 1 and isinstance(dtype := dtypes.pop(), np.dtype) and dtype.kind in "fiu":
        values = y.to_numpy()  # one array: a frame of its rows costs a fifth of set_axis' checks
        return [
            (key, pd.DataFrame(values[start:end], index=index, columns=y.columns))
            for key, start, end, index in zip(keys, starts.tolist(), ends, times)
        ]
    return [
        (key, y.iloc[start:end].set_axis(index))
        for key, start, end, index in zip(keys, starts.tolist(), ends, times)
    ]


def scaled_rows(scales, parts: list) -> list[np.ndarray]:
    """Each series' rows standardised by its row of ``scales`` (a ``_scaling.Scales``)."""
    return scales.standardise([df.to_numpy(float) for _, df in parts])


def scaled_contexts(scales, parts: list, lookback: int) -> np.ndarray:
    """The last ``lookback`` rows of each series, standardised by ``scales``, (series, lookback, variates)."""
    # C order, not pandas' column-major blocks: the sums run in one order, and a loaded model forecasts as saved
    return scales.stacked(np.ascontiguousarray(np.stack([df.to_numpy(float)[-lookback:] for _, df in parts])))


def forecast_frames(scales, path: np.ndarray, steps: list, parts: list, freqs: list) -> list[pd.DataFrame]:
    """Each series' rows ``steps`` of the standardised forecasts ``path`` (series, steps, variates),
    unscaled by its row of ``scales`` and indexed by the stamps that many steps after its end."""
    rows = scales.unscaled_rows([values[k - 1] for values, k in zip(path, steps)])
    indexes = future_indexes([df.index for _, df in parts], freqs, steps)
    return [pd.DataFrame(values, index=index, columns=df.columns)
            for values, index, (_, df) in zip(rows, indexes, parts)]


def join_panel(keys: list[object], frames: list[pd.DataFrame], like: pd.Index) -> pd.DataFrame:
    """Inverse of :func:`split_panel`: the series-id levels get ``like``'s names and dtypes."""
    if keys == [None]:
        return frames[0]
    out = pd.concat(frames, keys=keys)
    out.index.names = list(like.names)
    return _with_id_dtypes(out, like)


def _with_id_dtypes(out: pd.DataFrame, like: pd.Index) -> pd.DataFrame:
    """``concat`` infers the id levels' dtypes again from the keys (int32 ids come back int64, a
    categorical as text): cast each back to the dtype it has in ``like``."""
    if not isinstance(like, pd.MultiIndex):
        return out
    for level in range(out.index.nlevels - 1):
        dtype = like.levels[level].dtype
        if out.index.levels[level].dtype != dtype:
            try:
                out.index = out.index.set_levels(out.index.levels[level].astype(dtype), level=level)
            except (TypeError, ValueError):  # a dtype the ids cannot take again: keep pandas' own
                continue
    return out


def check_x_not_fh(X: object) -> None:
    """Refuse steps given as ``X``: ``fit(y, 24)`` fills X, the second argument, and sktime's refusal
    listed every data format X may take without naming the likely slip."""
    # TypeErrors, as sktime refuses an X of a type it does not take
    if isinstance(X, (list, tuple)) and not len(X):  # sktime failed on it with a bare IndexError
        raise TypeError(f"X is an empty {type(X).__name__}, no type of data X takes; leave X out (tsrec's forecasters "
                        "ignore it), or pass exogenous data as a DataFrame indexed like y")
    steps = isinstance(X, (numbers.Number, range)) or (
        isinstance(X, (list, tuple)) and all(isinstance(v, numbers.Number) for v in X))
    if steps and not isinstance(X, bool):
        raise TypeError(f"X={X!r} looks like forecast steps, no type of data X takes (X, the second argument, is "
                        f"exogenous data, which tsrec's forecasters ignore); pass the steps by name: fh={X!r}")


def x_values_ignored(X: object) -> object:
    """Exogenous ``X`` (which forecasters ignore) with zeros for its values where it holds a missing
    one (same type, shape and index)."""
    if isinstance(X, pd.DataFrame) and X.isna().to_numpy().any():
        return pd.DataFrame(0, index=X.index, columns=X.columns)
    if isinstance(X, pd.Series) and X.isna().any():
        return pd.Series(0, index=X.index, name=X.name)
    if isinstance(X, np.ndarray) and X.dtype.kind in "fcOmM" and pd.isna(X).any():  # None in object arrays
        return np.zeros(X.shape)
    return X
