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
    ids = frame[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    regular: dict[bytes, bool] = {}  # many series share their stamps: ask pandas once per set
    for start, end in zip(starts, [*starts[1:], len(ids)]):
        gaps = np.diff(values[start:end])
        if len(gaps) < 2 or (gaps == gaps[0]).all():
            continue
        if dates:
            key = values[start:end].tobytes()
            if key not in regular:  # calendar steps (months, business days) vary in length
                regular[key] = pd.infer_freq(pd.DatetimeIndex(stamps.iloc[start:end])) is not None
            if regular[key]:
                continue
        raise InputError(_message(stamps.iloc[start:end], gaps, ids[start], files[start:end], in_utc))


def _message(stamps: pd.Series, gaps: np.ndarray, key: object, files: np.ndarray, in_utc: bool) -> str:
    usual = usual_gap(gaps)
    at = odd_gap(gaps)
    before, after = stamps.iloc[at], stamps.iloc[at + 1]
    where = ", ".join(sorted({str(files[at]), str(files[at + 1])}))
    utc = "; the stamps' UTC offsets differ (e.g. daylight saving time), so they were read in UTC" if in_utc else ""
    if pd.api.types.is_integer_dtype(stamps.dtype):
        step = int(usual)
        fix = f"reindex each series to integer steps of {step} and fill the gaps"
        if _dates_as_numbers(stamps):  # 20240131 then 20240201: 70 apart, read as integer steps
            fix = (f"they look like dates written as numbers (YYYYMMDD): write them as dates (2024-01-31), e.g. "
                   f"df[{stamps.name!r}] = pd.to_datetime(df[{stamps.name!r}].astype(str), format='%Y%m%d'); or "
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


def _dates_as_numbers(stamps: pd.Series) -> bool:
    """Whether integer stamps all read as dates written YYYYMMDD (between 1900 and 2199)."""
    values = stamps.to_numpy()
    if values.min() < 19000101 or values.max() > 21991231:
        return False
    return not pd.to_datetime(stamps.astype(str), format="%Y%m%d", errors="coerce").isna().any()

