"""Panel formats brought to the pandas ones :mod:`tsrec.estimators._panels` reads with sktime's checks:
sktime's ``dask_panel`` computed to ``pd-multiindex``, and time stamps sktime refuses (floats such as
seconds) replaced by integers of the same order.

A classifier ignores the stamps (each sample is read step by step, in its row order), but their order
is still checked as sktime checks integer or date-time stamps: rows out of time order are refused, not
silently reordered. The checks sktime leaves out are here too: a repeated (instance, time) row, and a
nested cell out of time order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators.errors import InputError


def is_dask_frame(X: object) -> bool:
    """A dask DataFrame, told by its class's module so that dask is not imported when not installed."""
    module = type(X).__module__ or ""
    return (module == "dask" or module.startswith("dask.")) and hasattr(X, "compute") and hasattr(X, "columns")


def dask_to_multiindex(X) -> pd.DataFrame:
    """sktime's ``dask_panel`` (the index levels held as ``__index__<name>`` columns) as a pandas frame,
    a ``pd-multiindex`` panel when it has such columns. Read as a flat table, its rows would be taken for
    samples; sktime's own ``convert_to`` does not recognise the dask-expr frames of current dask."""
    try:
        from sktime.datatypes._adapter.dask_to_pd import convert_dask_to_pandas

        frame = convert_dask_to_pandas(X)
        # dask orders the rows by sktime's string index ("(10, 0)" before "(2, 0)"): their order carries nothing,
        # so samples and steps are put in the order of their (instance, time) ids, as y's labels are given
        return frame.sort_index(kind="stable") if isinstance(frame.index, pd.MultiIndex) else frame
    except Exception as err:  # noqa: BLE001 - any failure of the conversion is the user's format
        raise InputError(
            f"X is a dask DataFrame ({type(X).__name__}), read as sktime's dask_panel, but it could not be converted "
            f"to a sorted pandas panel ({type(err).__name__}: {err}); pass X.compute() as a pd-multiindex DataFrame "
            "(rows (instance, time)), or a numpy array of shape (n_samples, n_channels, n_timepoints)"
        ) from None


def _stamps_as_ranks(stamps: pd.Index, where: str) -> pd.Index:
    """Float stamps (e.g. seconds 0.0, 0.5, ...) -> integers of the same order, which sktime's checks accept;
    equal stamps stay equal and rows out of order stay out of order, so sktime's checks judge them as before.
    Text stamps have no time order to check ("t10" sorts before "t2"): they are refused, like unsorted ones."""
    if pd.api.types.is_float_dtype(stamps.dtype):
        codes, _ = pd.factorize(stamps, sort=True)  # NaN -> -1: out of order, refused by sktime's check
        return pd.Index(codes.astype(np.int64), name=stamps.name)
    if len(stamps) and all(isinstance(stamp, str) for stamp in stamps.unique()):
        raise InputError(
            f"{where} holds time stamps of text (dtype {stamps.dtype}, e.g. {stamps[0]!r}), which have no time order "
            "to check; a classifier reads each sample's rows in order and ignores the stamps: give them as numbers or "
            "date-times, or as positions (X.groupby(level=0).cumcount() for a pd-multiindex panel)"
        )
    return stamps


def with_ranked_time_level(X: pd.DataFrame) -> pd.DataFrame:
    """A (instance, time) panel whose float time level is replaced by integer ranks (see :func:`_stamps_as_ranks`)."""
    stamps = X.index.get_level_values(-1)
    ranked = _stamps_as_ranks(stamps, "X's time level (the last index level)")
    if ranked is stamps:
        return X
    levels = [X.index.get_level_values(i) for i in range(X.index.nlevels - 1)]
    X = X.copy(deep=False)
    X.index = pd.MultiIndex.from_arrays([*levels, ranked], names=X.index.names)
    return X


def with_ranked_index(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """A df-list frame whose float index is replaced by integer ranks (see :func:`_stamps_as_ranks`)."""
    if isinstance(frame.index, pd.MultiIndex):
        return frame
    ranked = _stamps_as_ranks(frame.index, f"{where}'s index")
    return frame if ranked is frame.index else frame.set_axis(ranked, axis=0)


# ---- time order ------------------------------------------------------------------------------


def refuse_repeated_rows(X: pd.DataFrame) -> None:
    """Refuse an (instance, time) pair given twice; sktime's check passes repeats that stand together. Where a
    text column names each row's channel (sktime's pd-long, indexed as the long-table fix says), the repeats are
    the other channels: dropping them, the fix for rows given twice, would keep one channel; pivot instead."""
    repeated = X.index.duplicated()
    if not repeated.any():
        return
    text = [name for name, dtype in X.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    values = [name for name in X.columns if name not in text]
    what = "drop the repeats, X[~X.index.duplicated()]"
    if len(text) == len(values) == 1:
        what = (f"if X is a long table with a row per channel (its column {text[0]!r} naming the channel), pivot it "
                f"to a column per channel, X.set_index({text[0]!r}, append=True)[{values[0]!r}].unstack({text[0]!r})")
    raise InputError(f"X has the row {X.index[repeated.argmax()]!r} (instance, time) more than once; a pd-multiindex "
                     f"panel has one row per instance and time: {what}")


def sorting_reorders_samples(X: pd.DataFrame) -> str:
    """A caution where sktime's fix, X.sort_index(), would also reorder the instances, whose labels
    y gives in their order: sorted by id, each sample would take another's label."""
    if X.index.get_level_values(0).unique().is_monotonic_increasing:
        return ""
    return ("; but X.sort_index() also puts the instances in id order, so reorder y the same way, or sort the rows "
            "within each instance only: X.groupby(level=0, sort=False, group_keys=False).apply(lambda g: "
            "g.sort_index())")


def refuse_cells_out_of_time_order(X: pd.DataFrame) -> None:
    """Refuse a nested panel's cell whose time stamps are not strictly increasing: sktime's check and
    conversion read each cell's values in stored order, whatever their stamps. Text stamps ("t2",
    "t10"), whose order as text is not their order in time, are read as stored, as before."""
    unordered = X.map(lambda cell: _ordered_kind(cell.index) and not (
        cell.index.is_monotonic_increasing and cell.index.is_unique)).to_numpy()
    if not unordered.any():
        return
    row, col = np.argwhere(unordered)[0]
    raise InputError(
        f"X.iloc[{row}, {col}] (sample {row}, channel {X.columns[col]!r}) has time stamps that are not strictly "
        "increasing, but a nested panel's cells are read in their stored order; sort each cell by time, "
        "X.map(lambda s: s.sort_index()), and drop repeated stamps"
    )


def _ordered_kind(index: pd.Index) -> bool:
    """Stamps whose sort order is their order in time: numbers, date-times, durations, periods."""
    numeric = pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype)
    return numeric or isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex, pd.PeriodIndex))
