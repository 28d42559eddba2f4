"""A classifier's X on its way to one numpy array: sktime's panel formats converted, and samples
numpy cannot stack (series of different lengths, NaN or inf) refused with the reason and the fix.

sktime's pandas formats are read with sktime's own checks: ``pd-multiindex`` (rows (instance,
time)), ``nested_univ`` (one cell per sample and channel) and ``df-list`` (one (time, channels)
frame per sample). A DataFrame whose cells are 1-D arrays is read as ``nested_univ``; sktime's
``dask_panel`` is computed to ``pd-multiindex`` first, and float time stamps (sktime accepts integer
or date-time ones) are read as integers of the same order (:mod:`tsrec.estimators._panel_formats`).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_consistent_length

from tsrec._warn import warn_user
from tsrec.estimators._panel_formats import (
    dask_to_multiindex, is_dask_frame, refuse_cells_out_of_time_order, refuse_repeated_rows, sorting_reorders_samples,
    with_ranked_index, with_ranked_time_level,
)
from tsrec.estimators._panel_shapes import long_table_fix, rows_read_as_panel, series_per_sample, shape_of, time_first
from tsrec.estimators._series import check_series_ids
from tsrec.estimators.errors import InputError

_PANEL_MTYPES = ("pd-multiindex", "nested_univ")


def as_stackable(X) -> tuple[object, list[str] | None]:
    """``X`` with sktime's panel formats converted to numpy3D, and the panel's channel names.

    Parameters
    ----------
    X : array-like, DataFrame or list of DataFrames
        The classifier's input, as the user passed it.

    Returns
    -------
    array-like
        numpy3D ``(n_samples, n_channels, n_timepoints)`` for a panel, else ``X`` itself.
    list of str or None
        A panel's column names, its channels, where all are strings (scikit-learn records
        feature names only then); None for other input.

    Raises
    ------
    InputError
        A panel sktime cannot read, or one whose series differ in length.
    """
    if X is None:
        raise InputError("X is None; pass the series as an array of shape (n_samples, n_timepoints) or "
                         "(n_samples, n_channels, n_timepoints), or an sktime panel")
    if isinstance(X, np.ndarray) and X.dtype.kind in "mM":  # numpy casts them to counts of their unit unasked
        dates = X.dtype.kind == "M"
        raise InputError(f"X holds {'date-times' if dates else 'durations'} (dtype {X.dtype}), not measurements; "
                         "a classifier reads numbers: where they are what is measured, convert them, e.g. to "
                         f"seconds with {'(X - X.min())' if dates else 'X'} / np.timedelta64(1, 's')")
    if is_dask_frame(X):  # sktime's dask_panel: read as a flat table, its rows would be taken for samples
        X = dask_to_multiindex(X)
    if isinstance(X, pd.Series) and X.dtype == object or _array_of_series(X):  # one series per cell:
        X = pd.Series(X).to_frame()  # a nested_univ panel of one channel
    if isinstance(X, pd.DataFrame):
        stacked = _from_frame(X)
        return stacked, (_channel_names(X.columns) if stacked is not X else None)
    if isinstance(X, (list, tuple)) and len(X) and all(isinstance(x, pd.DataFrame) for x in X):
        return _from_df_list(list(X)), _channel_names(X[0].columns)
    return X, None


def _array_of_series(X: object) -> bool:
    """A 1-D object array whose cells are series, as a list of them would be."""
    is_cells = isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1 and len(X) > 0
    return is_cells and all(map(_is_series_cell, X))


def _channel_names(columns: pd.Index) -> list[str] | None:
    names = list(columns)
    return names if all(isinstance(name, str) for name in names) else None


def check_channel_names(fitted: np.ndarray | None, names: list[str] | None, unnamed_fit: str | None = None) -> None:
    """Refuse a panel whose channels are not the named ones the classifier was fitted on, in that
    order: its values would be read as the fitted channels by position. ``unnamed_fit``, the
    classifier's name where it was fitted on 3-D data without channel names: named channels are
    then read by position, which scikit-learn's warning for feature names says."""
    if fitted is None and names is not None and unnamed_fit:
        warnings.warn(f"X has feature names, but {unnamed_fit} was fitted without feature names: the channels "
                      f"{names} are read by position as the fitted ones", UserWarning, stacklevel=4)
    if fitted is None or names is None or names == list(fitted):
        return
    fitted = [str(name) for name in fitted]
    hint = f"select and order them as fitted: X[{fitted}]" if set(names) >= set(fitted) else "rename them as fitted"
    raise InputError(f"X's channels are {names}, but the classifier was fitted on channels {fitted}, in that order; "
                     f"{hint}")


@contextlib.contextmanager
def names_checked_here(names: list[str] | None):
    """Silence scikit-learn's warning that X (the panel as numpy3D) has no feature names: its
    channel names were recorded or checked by tsrec (:func:`check_channel_names`)."""
    with warnings.catch_warnings():
        if names is not None:
            warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)
        yield


@contextlib.contextmanager
def samples_of_one_shape(X):
    """Name the samples of a list that numpy fails to stack, which it reports only as an
    "inhomogeneous shape"; diagnosed on failure only, so that a list is not stacked twice."""
    try:
        yield
    except ValueError as err:
        if not isinstance(X, (list, tuple)):
            raise
        try:
            _check_same_shapes(X)
        except InputError as named:
            raise named from err
        raise


@contextlib.contextmanager
def some_samples(fitting: bool):
    """Add the fix to scikit-learn's refusal of X with no samples ("Found array with 0 sample(s) ... a minimum of 1 is
    required by ..."), whose sentence stays first: its estimator checks may look for it."""
    try:
        yield
    except ValueError as err:
        if not str(err).startswith("Found array with 0 sample(s)"):
            raise
        need = "at least one series of each of 2 classes or more" if fitting else "the series to classify"
        raise InputError(f"{err} X has no samples; pass {need}, as X of shape (n_samples, n_timepoints) or "
                         "(n_samples, n_channels, n_timepoints)") from None


@contextlib.contextmanager
def numbers_only():
    """Name X holding text or complex numbers, which scikit-learn's conversion reports without a fix."""
    try:
        yield
    except ValueError as err:
        text = str(err)
        if text.startswith("Complex data not supported"):
            raise InputError(_complex_message("X holds")) from None
        if "could not convert" in text:
            raise InputError(f"X holds values that are not numbers ({text}); a classifier reads numbers: encode "
                             "them as numbers or drop them") from None
        raise


def _complex_message(what: str) -> str:
    # scikit-learn's sentence first: its estimator checks look for it
    return (f"Complex data not supported: {what} complex numbers; a classifier reads real values: pass, for "
            "example, the real and imaginary parts as two channels")


def _refuse_non_real_channels(frame: pd.DataFrame, where: str = "X") -> None:
    """Refuse a long panel's (or a df-list frame's) complex, date-time or text channel by name: sktime's
    checks pass them, then numpy's conversion dropped imaginary parts, read dates as nanoseconds or
    failed on text without naming the column."""
    for name, column in frame.items():
        if pd.api.types.is_complex_dtype(column.dtype):
            raise InputError(_complex_message(f"{where}'s column {name!r} holds"))
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
        _refuse_non_numeric(frame, where, fixes=[])


def _check_time_first(index: pd.MultiIndex) -> None:
    """A (time, instance) index, as a log grouped by time reads: sktime takes the first level as the
    samples, so the stamps became samples. Refused where the last level holds text (ids, never time
    stamps a classifier reads: their refusal advised positions, which would make each stamp a sample);
    a warning where it holds numbers: samples keyed by a date (a day's session) with positions for
    time are a panel too."""
    if not time_first(index):
        return
    last = index.levels[-1]
    message = (f"X's first index level ({index.names[0]!r}) holds time stamps and its last ({index.names[-1]!r}) "
               "{what}. A pd-multiindex panel is (instance, time); if X is (time, instance), pass "
               "X.swaplevel().sort_index()")
    if len(last) and all(isinstance(value, str) for value in last):
        raise InputError(message.format(what="text, as ids are: each stamp would be read as a sample"))
    warn_user(message.format(what="does not: each stamp is read as a sample"))


def _from_frame(X: pd.DataFrame):
    """A pd-multiindex or nested_univ panel -> numpy3D; a plain table of numbers passes through."""
    if X.columns.duplicated().any():
        repeated = X.columns[X.columns.duplicated()].unique().tolist()
        raise InputError(f"X has duplicate column names {repeated}; give each column (a channel or a timepoint) "
                         "its own name")
    multiindex = isinstance(X.index, pd.MultiIndex)
    if not multiindex:
        if all(pd.api.types.is_numeric_dtype(dtype) for dtype in X.dtypes):
            return X
        cells = X.map(_is_series_cell).to_numpy()
        if not cells.any():  # a table of scalars, perhaps numbers stored as objects
            _refuse_non_numeric(X)
            return X
        _refuse_cells_without_series(X, cells)
        X = X.map(lambda cell: cell if isinstance(cell, pd.Series) else pd.Series(cell))
        refuse_cells_out_of_time_order(X)
    from sktime.datatypes import check_is_mtype, convert_to

    if multiindex:  # sktime's check accepts a missing id, whose rows the stacking then mixes with others
        check_series_ids(X.index, "X")
        _check_time_first(X.index)
        refuse_repeated_rows(X)
        _refuse_non_real_channels(X)
        X = with_ranked_time_level(_rows_grouped_by_instance(X))
    problems = {}
    for mtype in _PANEL_MTYPES:
        valid, problems[mtype], meta = check_is_mtype(X, mtype, return_metadata=["is_equal_length"])
        if valid:
            if not meta["is_equal_length"]:
                _refuse_unequal_lengths(_panel_lengths(X, mtype))
            return _stacked_rows(X) if mtype == "pd-multiindex" else convert_to(X, to_type="numpy3D")
    if multiindex:
        # read as a flat table, its rows would be taken for samples: y's length or the shape would be blamed
        raise InputError(
            "X has a MultiIndex but is not a panel sktime can read (pd-multiindex: one row per (instance, time), "
            f"sorted, no duplicates): {_as_x(problems['pd-multiindex'])}{sorting_reorders_samples(X)}"
        )
    raise InputError(
        "X holds series in its cells but is not a panel sktime can read (nested_univ: a row per sample, a column "
        f"per channel, one 1-D series in each cell): {_as_x(problems['nested_univ'])}"
    )


def _stacked_rows(X: pd.DataFrame) -> np.ndarray:
    """An equal-length pd-multiindex panel, rows grouped by instance, as numpy3D. sktime's converter
    fails when the instances have their own time stamps (each sample recorded at another time);
    a classifier reads each sample's steps in order, whatever their stamps."""
    n_samples = X.index.get_level_values(0).nunique()
    return X.to_numpy(dtype=float).reshape(n_samples, len(X) // n_samples, X.shape[1]).transpose(0, 2, 1)


def _rows_grouped_by_instance(X: pd.DataFrame) -> pd.DataFrame:
    """A (instance, time) panel with each instance's rows together, instances in the order they first
    appear and each one's rows in their given order. sktime accepts rows ordered by time (instances
    interleaved), but its numpy3D conversion reshapes the rows as they stand: every sample would
    mix the values of several instances."""
    codes, _ = pd.factorize(X.index.get_level_values(0), use_na_sentinel=False)
    if (np.diff(codes) >= 0).all():  # codes count up as instances first appear: already grouped
        return X
    return X.iloc[np.argsort(codes, kind="stable")]


def _is_series_cell(cell: object) -> bool:
    """A cell of sktime's nested_univ: a pd.Series (or a 1-D array or list, wrapped as one)."""
    return isinstance(cell, pd.Series) or (isinstance(cell, (np.ndarray, list, tuple)) and np.ndim(cell) == 1)


def _refuse_cells_without_series(X: pd.DataFrame, cells: np.ndarray) -> None:
    """Name the first cell of a nested panel that holds no series (sktime's check fails on it with a TypeError)."""
    missing = np.argwhere(~cells)
    if not len(missing):
        return
    row, col = missing[0]
    raise InputError(
        f"X.iloc[{row}, {col}] (sample {row}, channel {X.columns[col]!r}) is {X.iat[row, col]!r}, not a series; "
        f"every cell of a nested panel holds one 1-D series: fill it or drop sample {row}"
    )


def check_labels_second(X: object, y: object) -> None:
    """``fit(labels, series)``: told the order, not that X is 1-D (whose fix, a reshape, does not apply)."""
    x_shape, y_shape = shape_of(X), shape_of(y)  # None for ragged lists and array-likes that refuse numpy
    if x_shape is not None and len(x_shape) == 1 and y_shape is not None and len(y_shape) in (2, 3) and not (
            series_per_sample(X)):  # a one-channel panel of series, and y one column (as sktime's evaluate gives it)
        raise InputError(f"X is 1-D and y is {len(y_shape)}-D: the labels seem to come first; pass them in fit's "
                         "order, fit(X, y)")


def check_one_label_each(given: object, X: np.ndarray, y: object) -> None:
    """As many labels as samples; a long table has a row per time point, not per sample."""
    try:
        check_consistent_length(X, y)
    except ValueError as err:  # scikit-learn's sentence first: the numbers it names are X's and y's
        fixes = long_table_fix(given) or [*rows_read_as_panel(given), f"give one label per sample: y needs {len(X)} "
                                          f"labels, one for each of X's {len(X)} samples (its first axis), in the "
                                          "same order"]
        raise InputError("; ".join([str(err), *fixes])) from None


def _refuse_non_numeric(X: pd.DataFrame, where: str = "X", fixes: list[str] | None = None) -> None:
    """Name the first column of a table that does not convert to numbers; ``fixes`` (by default the
    long-table fix of a plain table) follow the message."""
    for name, column in X.items():
        if pd.api.types.is_numeric_dtype(column.dtype):
            continue
        try:
            pd.to_numeric(column.astype(object))
        except (ValueError, TypeError) as err:
            first = column.iloc[0]
            if np.ndim(first) > 1:
                raise InputError(f"{where}'s column {name!r} holds arrays of shape {np.shape(first)}; a nested panel "
                                 "needs one 1-D series in each cell (a row per sample, a column per channel)") from None
            fixes = long_table_fix(X) if fixes is None else fixes
            raise InputError("; ".join([f"{where}'s column {name!r} holds values that are not numbers ({err}); a "
                                        "classifier reads numbers: encode that column as numbers or drop it", *fixes])
                             ) from None


def _panel_lengths(X: pd.DataFrame, mtype: str) -> Iterable[int]:
    if mtype == "pd-multiindex":
        return X.groupby(level=0).size()
    return X.map(len).stack()


def _from_df_list(frames: list[pd.DataFrame]) -> np.ndarray:
    """sktime's df-list (one (time, channels) frame per sample) -> numpy3D (samples, channels, time)."""
    from sktime.datatypes import check_is_mtype, convert_to

    for i, frame in enumerate(frames):  # sktime's check raises its own TypeError on complex columns
        _refuse_non_real_channels(frame, f"X[{i}]")
    frames = [with_ranked_index(frame, f"X[{i}]") for i, frame in enumerate(frames)]  # sktime refuses float stamps
    valid, problem, _ = check_is_mtype(frames, "df-list", return_metadata=[])
    if not valid:
        raise InputError(
            "X is a list of DataFrames, read as sktime's df-list (one frame of rows time, columns channels per "
            f"sample), but not a valid one: {_as_x(_first_frame_problem(frames) or problem)}"
        )
    _refuse_unequal_lengths(len(frame) for frame in frames)
    columns = list(frames[0].columns)
    for i, frame in enumerate(frames):
        if set(frame.columns) != set(columns):
            raise InputError(
                f"X[{i}] has columns {list(frame.columns)} but X[0] has {columns}; every frame of a df-list "
                "needs the same channels (columns)"
            )
    # sktime stacks each frame's columns by position: order them as X[0]'s so channels line up by name; as floats, so
    # that a nullable column's pd.NA (Float64, Int64, pyarrow) is a NaN the finite check names, not numpy's TypeError
    return convert_to([frame[columns].astype(np.float64) for frame in frames], to_type="numpy3D")


def _first_frame_problem(frames: list[pd.DataFrame]) -> str | None:
    """sktime's reason for the first frame it refuses; its df-list message gives only the position."""
    from sktime.datatypes import check_is_mtype

    for i, frame in enumerate(frames):
        valid, problem, _ = check_is_mtype(frame, "pd.DataFrame", return_metadata=[])
        if not valid:
            return f"X[{i}]: {problem}"
    return None


def _as_x(message: str) -> str:
    """sktime's check message, with its name for the argument ("obj") replaced by the user's ("X")."""
    return re.sub(r"\bobj\b", "X", message)


def _refuse_unequal_lengths(lengths: Iterable[int]) -> None:
    """Refuse a ragged panel before numpy's conversion fails on it with a message about shapes."""
    lengths = list(lengths)
    if min(lengths) == max(lengths):
        return
    raise InputError(
        f"X holds series of different lengths ({min(lengths)} to {max(lengths)} timepoints) but a "
        "classifier needs one length for all series and channels; pad or truncate them to a common "
        "length first, one length for every X you fit and predict on, at least the longest series of "
        f"them all (UCR/UEA data: load_ucr(name, split, pad=\"last\", length=L), one L for both splits, "
        f"L >= {max(lengths)}; other panels: sktime's PaddingTransformer(pad_length=L).fit_transform(X) "
        "before fit and before predict, not in a pipeline with the classifier, which would lay the "
        "channels end to end as one series)"
    )


def _check_same_shapes(X: list | tuple) -> None:
    """Refuse samples of different shapes (a ragged list); return when X has a shape."""
    try:
        np.shape(X)
        return
    except ValueError:
        pass
    layouts = [_sample_layout(sample) for sample in X]
    leading = {lead for lead, _ in layouts}
    if None in leading or len(leading) > 1:
        shown = sorted(map(str, leading - {None}))[:5]
        raise InputError(
            f"X's samples differ in their number of channels or dimensions (leading shapes {', '.join(shown)}); "
            "every sample needs the same layout: (n_timepoints,) for univariate series or (n_channels, "
            "n_timepoints), so that X stacks into one array"
        )
    _refuse_unequal_lengths(n for _, lengths in layouts for n in lengths)


def _sample_layout(sample) -> tuple[tuple[int, ...] | None, list[int]]:
    """A sample's shape without its last axis, and the lengths of its series (None: no such layout)."""
    shape = shape_of(sample)
    if shape is not None:
        return (shape[:-1], list(shape[-1:])) if shape else (None, [])
    # channels of different lengths within one sample
    channels = [shape_of(channel) for channel in sample]
    if any(c is None or len(c) != 1 for c in channels):
        return None, []
    return (len(channels),), [c[0] for c in channels]
