"""Evenly spaced stamps per series, checked while reading so that the message can name the file.

The forecasters refuse the same series (pandas finds no frequency), but they know neither the
file nor, in their advice, the data's step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._stepnames import describe_step, odd_gap, period_start_fix, regular_periods, usual_gap
from tsrec.estimators.errors import InputError


def check_spacing(frame: pd.DataFrame, id_col: str, time_col: str, files: np.ndarray, in_utc: bool = False) -> None:
    """Refuse the first series whose stamps are not evenly spaced.

    Parameters
    ----------
    frame : pandas.DataFrame
        Flat rows sorted by ``id_col`` and then ``time_col``, without duplicate stamps.
    id_col, time_col : str
        The series-id and time columns.
    files : numpy.ndarray
        The file of each row, for the message.
    in_utc : bool, default=False
        The stamps' UTC offsets differed and they were converted to UTC (said in the message).

    Raises
    ------
    InputError
        Naming the file(s), the series, an uneven step, the usual step and a fix for that step.
    """
    stamps = frame[time_col]
    dates = pd.api.types.is_datetime64_any_dtype(stamps.dtype)
    if not dates and not pd.api.types.is_integer_dtype(stamps.dtype):
        return
    values = pd.DatetimeIndex(stamps).asi8 if dates else stamps.to_numpy(dtype=np.int64)
    clocks = _local_clocks(stamps) if dates else None
    ids = frame[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    regular: dict[bytes, bool] = {}  # many series share their stamps: ask pandas once per set
    for start, end in zip(starts, [*starts[1:], len(ids)]):
        gaps = np.diff(values[start:end])
        if len(gaps) < 2:
            continue
        if clocks is not None and gaps.min() >= clocks[1]:
            moved = _moved_on_the_clock(values[start:end], clocks[0][start:end], clocks[1])
            if moved is not None:
                raise InputError(_clock_message(stamps.iloc[start:end], gaps, moved, ids[start], files[start:end]))
        if (gaps == gaps[0]).all():
            continue
        if dates:
            key = values[start:end].tobytes()
            if key not in regular:  # calendar steps (months, business days) vary in length
                regular[key] = pd.infer_freq(pd.DatetimeIndex(stamps.iloc[start:end])) is not None
            if regular[key]:
                continue
        raise InputError(_message(stamps.iloc[start:end], gaps, ids[start], files[start:end], in_utc))


def _local_clocks(stamps: pd.Series) -> tuple[np.ndarray, int] | None:
    """Zoned stamps as their zone's wall-clock times (in the index's unit) and a day in that unit; None for
    stamps without a zone, or in one of a fixed offset, whose clocks step as absolute time does."""
    index = pd.DatetimeIndex(stamps)
    if index.tz is None:
        return None
    local = index.tz_localize(None).asi8
    if (local - index.asi8 == local[0] - index.asi8[0]).all():
        return None
    return local, int(pd.Timedelta(days=1) / pd.Timedelta(1, unit=index.unit))


def _moved_on_the_clock(utc: np.ndarray, local: np.ndarray, day: int) -> int | None:
    """Where stamps at one UTC time of day first show another time on their zone's clocks (a
    daylight-saving change moved them by an hour), or None: the forecasters count steps of a day or
    more in local dates, where such stamps are not evenly spaced."""
    utc_time, local_time = utc % day, local % day
    if not (utc_time == utc_time[0]).all():
        return None
    moved = np.flatnonzero(local_time[1:] != local_time[:-1])
    return int(moved[0]) if len(moved) else None


def _clock_message(stamps: pd.Series, gaps: np.ndarray, at: int, key: object, files: np.ndarray) -> str:
    """Steps of a day or more at one UTC time of day, which a daylight-saving change moves on the
    zone's clocks: the forecasters count such steps in local dates, and refuse them."""
    index = pd.DatetimeIndex(stamps)
    where = ", ".join(sorted({str(files[at]), str(files[at + 1])}))
    step = describe_step(pd.Timedelta(int(usual_gap(gaps)), unit=index.unit), index)[1]
    return (
        f"{where}: series {str(key)!r} has time stamps {step} apart at one UTC time of day, which a "
        f"daylight-saving change moves on the clocks of {index.tz} ({index[at]} is followed by {index[at + 1]}), "
        f"while steps of a day or more are counted in local dates; write them at one local time of day: as "
        f"local dates without a zone, or with {index.tz}'s own offsets (which change with daylight saving time)"
    )


def _message(stamps: pd.Series, gaps: np.ndarray, key: object, files: np.ndarray, in_utc: bool) -> str:
    usual = usual_gap(gaps)
    at = odd_gap(gaps)
    before, after = stamps.iloc[at], stamps.iloc[at + 1]
    where = ", ".join(sorted({str(files[at]), str(files[at + 1])}))
    utc = "; the stamps' UTC offsets differ (e.g. daylight saving time), so they were read in UTC" if in_utc else ""
    if pd.api.types.is_integer_dtype(stamps.dtype):
        step = int(usual)
        fix = f"reindex each series to integer steps of {step} and fill the gaps"
        written = _dates_as_numbers(stamps)
        if written is not None:  # 20240131 then 20240201: 70 apart, read as integer steps
            pattern, example, form = written
            fix = (f"they look like dates written as numbers ({pattern}): write them as dates ({example}), e.g. "
                   f"df[{stamps.name!r}] = pd.to_datetime(df[{stamps.name!r}].astype(str), format='{form}'); or "
                   f"{fix}")
    else:
        index = pd.DatetimeIndex(stamps)
        usual = pd.Timedelta(int(usual), unit=index.unit)
        move = f"df[{stamps.name!r}] = pd.to_datetime(df[{stamps.name!r}]).dt.to_period('{{period}}').dt.to_timestamp()"
        if regular_periods(usual, index):  # e.g. the 15th of each month: even, but pandas names no such step
            return (f"{where}: series {str(key)!r} has time stamps whole calendar periods apart, but "
                    f"{period_start_fix(usual, index, move)}")
        alias, step = describe_step(usual, index)
        regrid = (f"df.asfreq('{alias}')" if alias
                  else period_start_fix(usual, index, move + ", then df.asfreq('{start}')"))
        fix = f"put each series on a regular grid, e.g. {regrid}, and fill the gaps (e.g. interpolate)"
    return (
        f"{where}: series {str(key)!r} has time stamps that are not evenly spaced ({before} is followed by "
        f"{after}, but the usual step is {step}){utc}; {fix}"
    )


#: dates written as numbers, by digit count: the pattern, an example date written out, the strptime format
_NUMBER_DATES = {
    8: ("YYYYMMDD", "2024-01-31", "%Y%m%d"),
    10: ("YYYYMMDDHH", "2024-01-31 23:00", "%Y%m%d%H"),
    12: ("YYYYMMDDHHMM", "2024-01-31 23:45", "%Y%m%d%H%M"),
    14: ("YYYYMMDDHHMMSS", "2024-01-31 23:45:30", "%Y%m%d%H%M%S"),
}


def _dates_as_numbers(stamps: pd.Series) -> tuple[str, str, str] | None:
    """The way integer stamps read as dates written as numbers (YYYYMMDD, YYYYMMDDHH, ... in the years 1900
    to 2199), or None where they do not."""
    values = stamps.to_numpy()
    for digits, written in _NUMBER_DATES.items():
        low, high = 19 * 10 ** (digits - 2), 22 * 10 ** (digits - 2)
        if values.min() < low or values.max() >= high:
            continue
        if not pd.to_datetime(stamps.astype(str), format=written[2], errors="coerce").isna().any():
            return written
    return None
