"""Checks of a series' time index and value dtypes, before sktime's own (whose refusals list every
format's complaint, without a fix)."""

from __future__ import annotations

import datetime
import pandas as pd
from pandas.errors import OutOfBoundsDatetime

from tsrec._warn import warn_user
from tsrec.estimators._fh_stamps import zone_fix
from tsrec.estimators._long_tables import (
    ids_as_index_fix, long_table_fix, reads_as_dates, stamp_columns, to_datetime_code,
)
from tsrec.estimators.errors import InputError


def not_real(name: str, dtype, columns: list | None = None) -> TypeError:
    where = "" if columns is None else f" in columns {columns}"
    return TypeError(f"{name} must hold real numbers, got dtype {dtype}{where}; convert it with y.astype(float)")


def time_index(y: pd.Series | pd.DataFrame) -> pd.Index:
    """The time stamps: the index of a single series, the last level of a panel's MultiIndex."""
    return y.index.get_level_values(-1) if isinstance(y.index, pd.MultiIndex) else y.index


def time_level(y: pd.Series | pd.DataFrame) -> pd.Index:
    """An index of the time stamps' kind and zone: a panel's last level (its distinct stamps), which
    unlike :func:`time_index` builds nothing per row (asked once per series, that cost O(rows) each)."""
    return y.index.levels[-1] if isinstance(y.index, pd.MultiIndex) else y.index


def check_time_index(y: pd.Series | pd.DataFrame, name: str) -> None:
    """Refuse a time index of a type no forecaster can read (strings, floats, ...), saying how to convert it."""
    index = time_index(y)
    if isinstance(index, pd.DatetimeIndex):
        _check_nanosecond_range(time_level(y), name)
        return
    if isinstance(index, (pd.PeriodIndex, pd.TimedeltaIndex)) or pd.api.types.is_integer_dtype(index.dtype):
        if isinstance(y.index, pd.MultiIndex) and not isinstance(index, pd.PeriodIndex):
            _warn_time_level_first(y.index, name)
        return
    panel, example = isinstance(y.index, pd.MultiIndex), index[:1].tolist()[0]
    if panel and not reads_as_dates(y.index.levels[-1]):  # else the strings-to-dates fix below is the right one
        _check_time_level_last(y.index, name)
    if isinstance(y, pd.DataFrame) and not panel and (ids_fix := ids_as_index_fix(y, name)):
        raise TypeError(ids_fix)  # ids read as stamps: the strings-to-dates fix below would fail on them
    if index.inferred_type == "string":
        convert = (f"y.index = y.index.set_levels({to_datetime_code('y.index.levels[-1]', y.index.levels[-1])}, "
                   "level=-1)" if panel else f"y.index = {to_datetime_code('y.index', y.index)}")
        dayfirst = "dayfirst=True" in convert  # read_csv's parse_dates leaves day-first text as it is
        raise TypeError(
            f"{name}'s time stamps are strings (e.g. {example!r}), as read from a CSV file without parse_dates"
            f"{' (or with it: they are written day first)' if dayfirst else ''}; convert them to dates: {convert}, "
            f"or read with pd.read_csv(..., parse_dates=[...]{', dayfirst=True' if dayfirst else ''})"
        )
    _check_one_zone(index, y.index, name)
    kind = "float numbers" if pd.api.types.is_float_dtype(index.dtype) else f"values of dtype {index.dtype}"
    raise TypeError(
        f"{name}'s time index holds {kind} (e.g. {example!r}); use a DatetimeIndex (pd.to_datetime), a "
        "PeriodIndex or an integer index (e.g. index.astype(int) for whole step numbers)"
    )


def _check_one_zone(index: pd.Index, full: pd.Index, name: str) -> None:
    """Stamps in several time zones (or naive beside zoned) are kept by pandas as objects, and the
    general fix, ``pd.to_datetime``, refuses them: say so, with the conversion that works."""
    # Python's datetimes too (pandas keeps those objects as they are); a Timestamp is one
    if index.dtype != object or not all(isinstance(stamp, datetime.datetime) for stamp in index):
        return
    zones = sorted({str(stamp.tzinfo) if stamp.tzinfo is not None else "naive" for stamp in index})
    if len(zones) < 2:
        return
    levels = [f"{name}.index.get_level_values({i})" for i in range(full.nlevels)]
    converted = f"pd.to_datetime({levels[-1] if full.nlevels > 1 else f'{name}.index'}, utc=True)"
    code = (f"{name}.index = pd.MultiIndex.from_arrays([{', '.join(levels[:-1])}, {converted}])"
            if full.nlevels > 1 else f"{name}.index = {converted}")
    naive = (", reading naive stamps as UTC (if they are local times, tz_localize them first)"
             if "naive" in zones else "")
    raise InputError(
        f"{name}'s time stamps are in several time zones ({', '.join(zones)}), so pandas keeps them as objects; "
        f"put them in one zone, e.g. in UTC: {code}{naive}"
    )


def _check_time_level_last(index: pd.MultiIndex, name: str) -> None:
    """A panel indexed (time, series id) by ids of text: the stamps sit in an earlier level, and the
    strings-to-dates fix of the last level (the ids) would fail."""
    advice = _reorder_advice(index, name)
    if advice:
        raise InputError(advice)


def _warn_time_level_first(index: pd.MultiIndex, name: str) -> None:
    """A panel indexed (time, integer id) reads as series named by stamps with integer steps: a model of
    the wrong series. Warned, not refused: a date may name a series (a forecast's issue date, say)."""
    advice = _reorder_advice(index, name)
    if advice:
        warn_user(f"{advice}; if the date-time level names the series and the last level counts steps, ignore this")


def _reorder_advice(index: pd.MultiIndex, name: str) -> str | None:
    timed = [i for i, level in enumerate(index.levels[:-1]) if isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex))]
    if not timed:
        return None
    order = [i for i in range(index.nlevels) if i != timed[0]] + [timed[0]]
    names = [n if n is not None else i for i, n in enumerate(index.names)]
    return (f"{name}'s time stamps are in level {names[timed[0]]!r} of its MultiIndex, but a panel's time is its "
            f"last level (series id first, then time); reorder them: {name} = {name}.reorder_levels("
            f"{[names[i] for i in order]}).sort_index()")


def _check_nanosecond_range(stamps: pd.DatetimeIndex, name: str) -> None:
    """Time steps are counted in nanoseconds since 1970 (pandas' default unit): stamps of a coarser
    unit beyond that range (a year-9999 placeholder) cannot be counted, and pandas' own error
    names neither the data nor a fix."""
    try:
        stamps.as_unit("ns")
    except OutOfBoundsDatetime:
        raise InputError(
            f"{name}'s time stamps run from {stamps.min()} to {stamps.max()}, beyond {pd.Timestamp.min:%Y-%m-%d} .. "
            f"{pd.Timestamp.max:%Y-%m-%d}, the range in which tsrec counts time steps (nanoseconds, pandas' default "
            "unit); shift them into it (e.g. subtract pd.DateOffset(years=1000)) or forecast on step numbers "
            "(reset_index(drop=True))"
        ) from None


def check_dtypes(y: pd.Series | pd.DataFrame, name: str) -> None:
    """Refuse complex and boolean columns, NumPy's and pandas' nullable ones alike."""
    frame = isinstance(y, pd.DataFrame)
    pairs = list(y.dtypes.items()) if frame else [(None, y.dtype)]
    complex_pairs = [(column, dtype) for column, dtype in pairs if pd.api.types.is_complex_dtype(dtype)]
    if complex_pairs:
        raise not_real(name, complex_pairs[0][1], [c for c, _ in complex_pairs] if frame else None)
    decimal_pairs = [(column, dtype) for column, dtype in pairs if _arrow_decimal(dtype)]
    if decimal_pairs:  # sktime's check lists the dtypes it takes, without a fix
        where = f" in columns {[c for c, _ in decimal_pairs]}" if frame else ""
        raise TypeError(f"{name} holds Arrow decimals (dtype {decimal_pairs[0][1]}){where}; a forecaster computes in "
                        "floats: convert them with y.astype(float)")
    bool_columns = [column for column, dtype in pairs if pd.api.types.is_bool_dtype(dtype)]
    if bool_columns:
        what = f"has boolean columns {bool_columns}" if frame else "holds booleans"
        raise TypeError(f"{name} {what}; a forecaster needs numbers: cast with y.astype(float) (True -> 1.0) "
                        "or drop them")


def _arrow_decimal(dtype: object) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and dtype.kind == "O" and "decimal" in str(dtype.pyarrow_dtype)


def non_numeric_message(frame: pd.DataFrame, bad: list, name: str) -> str:
    """Columns of numbers held as objects (or strings) are told the cast; others, to drop or convert."""
    as_numbers = [c for c in bad if frame[c].dtype == object
                  and pd.to_numeric(frame[c], errors="coerce").notna().sum() == frame[c].notna().sum()]
    if as_numbers == bad:
        return (f"{name} holds numbers as Python objects (dtype object) in columns {bad}; cast them with "
                f"{name}.astype(float)")
    if (long_fix := long_table_fix(frame, bad, name) or ids_as_index_fix(frame, name)) is not None:
        return long_fix  # ids_as_index_fix: integer ids as the index, which check_time_index takes for steps
    stamps = next(iter(stamp_columns(frame, bad)), None)
    if stamps is not None:  # pd.read_csv without index_col: dropping it (as told before) lost the time index
        stamp_code = to_datetime_code(f"{name}[{stamps!r}]", frame[stamps])
        return (f"{name}'s column {stamps!r} holds time stamps: make it the time index, {name} = "
                f"{name}.set_index({stamp_code}).drop(columns={stamps!r}) (or read the file "
                f"with pd.read_csv(..., index_col={stamps!r}, parse_dates=True"
                f"{', dayfirst=True' if 'dayfirst=True' in stamp_code else ''}))")
    ids = _series_id_columns(frame, bad)
    if ids is not None and len(ids) == 1:  # dropping it would leave duplicate stamps, whose fix merged the series
        return (f"{name} has a non-numeric column {ids[0]!r} whose values repeat over repeated time stamps: if it "
                f"names the series of a panel, make it the first index level: {name} = {name}.set_index({ids[0]!r}, "
                f"append=True).swaplevel().sort_index() (one model for all series)")
    if ids is not None:  # (region, store): only together do they tell the series apart
        order = [*range(1, len(ids) + 1), 0]
        return (f"{name} has non-numeric columns {ids} that together tell apart the rows of repeated time stamps: if "
                f"they name the series of a panel, make them the first index levels: {name} = {name}.set_index({ids}, "
                f"append=True).reorder_levels({order}).sort_index() (one model for all series)")
    return (f"{name} has non-numeric (e.g. categorical or string) columns {bad}; drop them, or convert them "
            f"with pd.to_numeric where they hold numbers as text")


def _series_id_columns(frame: pd.DataFrame, bad: list) -> list | None:
    """The first of ``bad`` that tells the rows of a flat, repeating time index apart (each stamp once per
    value: a series id, not, say, the region of several series), else all of ``bad`` if together they
    do; None if neither does."""
    if isinstance(frame.index, pd.MultiIndex) or not frame.index.has_duplicates:
        return None
    for columns in [[c] for c in bad] + ([bad] if len(bad) > 1 else []):
        try:
            pairs = pd.MultiIndex.from_arrays([frame.index, *(frame[c] for c in columns)])
        except TypeError:  # unhashable values (lists): no id
            continue
        if not pairs.has_duplicates:
            return columns
    return None


def check_same_zone(part: pd.DataFrame, first: pd.DataFrame, name: str, first_name: str) -> None:
    """The frames of a df-list stamp in one time zone (sktime's conversion refused mixed ones with
    every container's complaint)."""
    have, want = (getattr(frame.index, "tz", None) for frame in (part, first))
    if str(have) != str(want):
        where = {None: "naive"}
        raise InputError(f"{name}'s time stamps are {where.get(have, f'in {have}')} but {first_name}'s are "
                         f"{where.get(want, f'in {want}')}; give every frame the same zone, e.g. "
                         f"{zone_fix(have, want, name)}")
