"""Long tables (neuralforecast's ``unique_id, ds, y``) given to a forecaster as they are: the index
that works, told in one message.

Told the stamps alone as the index, a user met the ids next as duplicate stamps; told to drop the
ids, the series were merged into one, or (with integer stamps) the stamps forecast as a target,
with no error at all.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def reads_as_dates(values: pd.Index | pd.Series) -> bool:
    """Whether text values (a sample of 20) all read as date-times, each holding a digit: dateutil alone
    reads month names and "now" as dates."""
    sample = pd.Series(values).dropna().head(20).astype(str)
    if not len(sample) or not sample.str.contains(r"\d").all():
        return False
    return _conversion(sample, "mixed") is not None


def _conversion(values: pd.Series, format: str | None, dayfirst: bool = False) -> dict | None:
    """The arguments with which ``pd.to_datetime`` reads every one of ``values`` (in ``format``, then
    also as UTC: text with the offsets of a daylight-saving zone mixes two), or None."""
    for utc in (False, True):
        try:
            with warnings.catch_warnings():  # pandas warns when it guesses each value's format
                warnings.simplefilter("ignore", UserWarning)
                if pd.to_datetime(values, errors="coerce", format=format, utc=utc, dayfirst=dayfirst).notna().all():
                    return {"format": format, "utc": utc, "dayfirst": dayfirst}
        except (ValueError, TypeError):  # "Mixed timezones detected", a format some values do not fit
            continue
    return None


def to_datetime_code(expression: str, values: pd.Index | pd.Series) -> str:
    """``pd.to_datetime(expression)`` with the arguments ``values`` need: ``dayfirst=True`` where
    they are written day first, ``format='mixed'`` where their formats differ, ``utc=True`` where
    their offsets do (pandas refuses both without). Day first is tried before mixed formats, which
    read "01/07/2016" as January 7 and "13/07/2016" as July 13 in one column."""
    dtype = getattr(values, "dtype", None)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return f"pd.to_datetime({expression})"
    if isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(dtype.categories.dtype):
        expression += ".astype(str)"  # years as category numbers: read as numbers, they became nanoseconds
    sample = pd.Series(values).dropna().astype(str)
    if not len(sample):
        return f"pd.to_datetime({expression})"
    arguments = (_conversion(sample, None) or _conversion(sample, None, dayfirst=True) or _conversion(sample, "mixed")
                 or {"format": None, "utc": False, "dayfirst": False})
    extra = ((", dayfirst=True" if arguments["dayfirst"] else "") + (", format='mixed'" if arguments["format"] else "")
             + (", utc=True" if arguments["utc"] else ""))
    return f"pd.to_datetime({expression}{extra})"


def _digits_only(values: pd.Index | pd.Series) -> bool:
    """Text of digits alone ("2020", "1001"): a year, or an id such as a store number."""
    return bool(pd.Series(values).dropna().head(20).astype(str).str.fullmatch(r"\d+").all())


def _is_text(values: pd.Series) -> bool:
    """Text, or categories (of text, dates or numbers: read as their text)."""
    return (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
            or isinstance(values.dtype, pd.CategoricalDtype))


def stamp_columns(frame: pd.DataFrame, columns: list, strong: bool = False) -> list:
    """The columns of ``columns`` that may hold time stamps, likeliest first: date-times, text that
    reads as dates with a separator ("2024-01-01"), then (unless ``strong``) text of digits alone
    ("2020", which store ids also are). An index of stamps already has none."""
    if isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex, pd.MultiIndex)):
        return []
    dated = [c for c in columns if pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    text = [c for c in columns if _is_text(frame[c]) and reads_as_dates(frame[c])]
    separated = [c for c in text if not _digits_only(frame[c])]
    return dated + separated + ([] if strong else [c for c in text if _digits_only(frame[c])])


def _steps(frame: pd.DataFrame, columns: list) -> list:
    """Integer or period columns that may count time steps (checked against the ids in :func:`_is_long`)."""
    return [c for c in columns if isinstance(frame[c].dtype, pd.PeriodDtype)
            or (pd.api.types.is_integer_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype))]


def _is_long(ids: list[pd.Series], stamps: pd.Series, steps: bool, repeats: bool = True) -> int | None:
    """Whether each id has each stamp once while the stamps repeat across ids: the count of rows
    that repeat an earlier (ids, stamp) pair, or None for no long table. Integer or period ``steps``
    must also rise evenly within each id (a count column of a long table does not). ``repeats``:
    a few repeated rows (at most a tenth, e.g. a row appended twice) still make a long table."""
    try:
        pairs = pd.MultiIndex.from_arrays([*ids, stamps])
    except TypeError:  # unhashable values (lists): no ids
        return None
    again = pairs.duplicated()
    if again.any() and (not repeats or 10 * again.sum() > len(pairs)):
        return None
    pairs, stamps = pairs[~again], stamps[~again]
    if not stamps.duplicated().any() or not pairs.droplevel(-1).has_duplicates:
        return None  # stamps shared by ids, and some id with several stamps
    if steps and not _steps_rise_evenly(pairs):
        return None
    return int(again.sum())


def _steps_rise_evenly(pairs: pd.MultiIndex) -> bool:
    """Whether each id's steps (the last level, integers or periods) rise by one gap."""
    stamps = pairs.get_level_values(-1)
    codes = stamps.asi8 if isinstance(stamps.dtype, pd.PeriodDtype) else stamps.to_numpy(np.int64)
    ids = [pairs.get_level_values(level) for level in range(pairs.nlevels - 1)]
    for _, group in pd.Series(codes).groupby(ids, sort=False):
        gaps = np.diff(np.sort(group.to_numpy()))
        if len(gaps) and (gaps[0] <= 0 or (gaps != gaps[0]).any()):
            return False
    return True


def _stamp_candidates(frame: pd.DataFrame) -> list[tuple[object, bool]]:
    """``(column, holds dates)`` for the columns that may hold the stamps: dates first, then steps."""
    dates = stamp_columns(frame, list(frame.columns))
    return [(c, True) for c in dates] + [(c, False) for c in _steps(frame, list(frame.columns)) if c not in dates]


def _stamps_code(name: str, stamps: object, values: pd.Series, dates: bool) -> tuple[str, str]:
    """The stamps as ``set_index`` takes them, and the ``drop`` of their column that converted dates need."""
    if not dates:
        return repr(stamps), ""
    return to_datetime_code(f"{name}[{stamps!r}]", values), f".drop(columns={stamps!r})"


def long_table_fix(frame: pd.DataFrame, id_candidates: list, name: str) -> str | None:
    """The message for a long table whose series ids are among ``id_candidates`` (text columns, one
    or all together) and whose stamps are another column; None if ``frame`` is no such table."""
    strong = stamp_columns(frame, list(frame.columns), strong=True)  # never ids ("2024-01-01" names no series)
    for stamps, dates in _stamp_candidates(frame):
        ids = [c for c in id_candidates
               if c != stamps and c not in strong and not isinstance(frame[c].dtype, pd.PeriodDtype)]
        # integer ids beside date stamps (not beside integer steps, which they could be taken for)
        numbered = _integer_ids(frame, [c for c in frame.columns if c not in ids and c != stamps]) if dates else []
        for chosen in [[c] for c in ids + numbered] + ([ids] if len(ids) > 1 else []):
            repeated = _is_long([frame[c] for c in chosen], frame[stamps], not dates)
            if repeated is not None:
                advice = _set_index_advice(name, chosen, _stamps_code(name, stamps, frame[stamps], dates), stamps)
                return advice + _repeated_rows_advice(name, [*chosen, stamps], repeated) + _targets_note(
                    frame, [*chosen, stamps])
    return None


def _targets_note(frame: pd.DataFrame, keys: list) -> str:
    """What the columns left beside the index become, where there are several: neuralforecast's exogenous
    and static columns sit in its long table, and set_index alone would forecast them."""
    rest = [c for c in frame.columns if c not in keys]
    if len(rest) < 2:
        return ""
    return (f"; its other columns {rest} would all be forecast (every column is a target, there are no "
            "exogenous or static features): keep only those to forecast")


def _repeated_rows_advice(name: str, keys: list, repeated: int) -> str:
    """What to do first about rows that repeat a series' stamp (duplicate stamps once indexed)."""
    if not repeated:
        return ""
    listed = ", ".join(repr(c) for c in keys)
    return (f"; {repeated} row(s) repeat a ({listed}) pair, which would be duplicate stamps of their series: keep "
            f"one of each first, {name} = {name}.drop_duplicates([{listed}])")


def _integer_ids(frame: pd.DataFrame, columns: list) -> list:
    """Integer columns that may number the series, fewest values first: a series id takes few values
    across a long table, a target of whole numbers many."""
    numbered = [c for c in columns if _whole_numbers(frame[c]) and 2 * frame[c].nunique() <= len(frame)]
    return sorted(numbered, key=lambda c: frame[c].nunique())


def _whole_numbers(values: pd.Series) -> bool:
    """Integers, or floats that are all whole numbers (ids 1.0, 2.0 as a CSV reader gives them)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return False
    if pd.api.types.is_integer_dtype(values.dtype):
        return True
    return bool(pd.api.types.is_float_dtype(values.dtype) and values.notna().all()
                and (values == values.round()).all())


def _set_index_advice(name: str, ids: list, code: tuple[str, str], stamps: object) -> str:
    keys = ", ".join(repr(c) for c in ids)
    which = f"{ids[0]!r} names" if len(ids) == 1 else f"{keys} name"
    stamp_key, drop = code
    return (f"{name} is a long table: if {which} the series and {stamps!r} holds the time stamps, make them its "
            f"index, {name} = {name}.set_index([{keys}, {stamp_key}]){drop}.sort_index() (one model for all series)")


def ids_as_index_fix(y: pd.DataFrame, name: str) -> str | None:
    """The message for series ids as the index beside a column of stamps (neuralforecast's older
    layout), whose strings-to-dates fix would fail on the ids; None if ``y`` is no such table."""
    index = y.index
    if isinstance(index, pd.MultiIndex) or not index.has_duplicates:
        return None
    if reads_as_dates(index) and not _digits_only(index):  # stamps: "2024-01-01" names no series
        return None
    flat = y.reset_index(drop=True)
    ids = pd.Series(index.to_numpy())
    for stamps, dates in _stamp_candidates(flat):
        if _is_long([ids], flat[stamps], not dates, repeats=False) is not None:
            stamp_key, drop = _stamps_code(name, stamps, flat[stamps], dates)
            example = index[:1].tolist()[0]  # a Python value: np.int64(1) read as code
            return (f"{name}'s index may hold series ids (e.g. {example!r}) and its column {stamps!r} the time "
                    f"stamps; if so, make them its index, {name} = {name}.set_index({stamp_key}, append=True){drop}"
                    f".sort_index() (one model for all series)")
    return None


# the names neuralforecast, darts and pandas users give a long table's stamps and series ids
_STAMP_NAMES = {"ds", "time", "timestamp", "date", "datetime", "time_idx", "timestep"}
_ID_NAMES = {"unique_id", "id", "series_id", "item_id", "ts_id", "series"}


def numeric_stamps_fix(frame: pd.DataFrame, name: str) -> str | None:
    """The message for a frame of numbers only whose column named as stamps (neuralforecast's ``ds``)
    counts the time steps, beside ids (a long table) or alone; None if it has no such column.

    Every column of ``y`` is a target: those stamps (and ids) were forecast as variates, with no
    error at all. Only named columns are taken: integer ids beside integer steps are otherwise
    indistinguishable from two whole-number variates (an hour and a day count)."""
    if isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex, pd.MultiIndex)):
        return None
    named = {str(c).lower(): c for c in frame.columns}
    # whole numbers stored as floats too: what a CSV reader or a merge gives a column that had a gap
    for stamps in (named[n] for n in sorted(_STAMP_NAMES & set(named))
                   if _steps(frame, [named[n]]) or _whole_numbers(frame[named[n]])):
        # integer stamps as set_index takes them: floats converted (a float index is refused as no steps)
        code = (repr(stamps), "") if _steps(frame, [stamps]) else (
            f"{name}[{stamps!r}].astype(int)", f".drop(columns={stamps!r})")
        ids = [named[n] for n in sorted(_ID_NAMES & set(named)) if _whole_numbers(frame[named[n]])]
        for chosen in ids:
            repeated = _is_long([frame[chosen]], frame[stamps], True)
            if repeated is not None:
                advice = _set_index_advice(name, [chosen], code, stamps)
                return advice + _repeated_rows_advice(name, [chosen, stamps], repeated) + _targets_note(
                    frame, [chosen, stamps])
        if _steps_rise_evenly(pd.MultiIndex.from_arrays([np.zeros(len(frame)), frame[stamps]])):
            return (f"{name}'s column {stamps!r} counts the time steps, and would be forecast as a target (every "
                    f"column is one): make it the time index, {name} = {name}.set_index({code[0]}){code[1]}")
    return None
