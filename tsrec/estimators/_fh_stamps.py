"""Absolute time stamps of a forecasting horizon, turned into steps after the end of a series.

An fh given as time points must name instants of the data's own kind (date-times, periods or
integers) and zone; periods of the data's step and the date-times they start at are
interchangeable, other mixes name no well-defined instant and are refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._timeindex import calendar_periods, future_index, step_positions
from tsrec.estimators.errors import InputError, InSampleError


def steps_to(index: pd.Index, freq: object, stamps: pd.Index, name: str) -> np.ndarray:
    """Relative steps (ints) from the last entry of ``index`` to the absolute time ``stamps``.

    Raises if a stamp is not on the time grid of ``index`` or not after its end.
    """
    stamps = align_stamps(stamps, index, freq, name)
    try:
        steps = step_positions(pd.Index(stamps), freq) - step_positions(index[-1:], freq)[0]
    except (TypeError, ValueError, AttributeError) as err:
        raise InputError(f"fh's time stamps {list(stamps[:3])} do not match the time index of {name}: {err}") from None
    # the grid first: a stamp between two steps rounds down to the one before, which may be the end
    stamps = pd.Index(stamps)
    off_grid = future_index(index, freq, steps) != stamps  # the messages name the offending stamps
    if off_grid.any():
        raise InputError(
            f"fh's time stamps {list(stamps[off_grid][:3])} are not on the time grid of {name} (step {freq!r}, "
            f"last stamp {index[-1]}); ask for stamps a whole number of steps after the end"
        )
    if len(steps) == 0:
        raise InputError("fh is empty; name at least one future step, e.g. fh=[1] or fh=[1, 2, 3]")
    if steps.min() < 1:
        raise InSampleError(
            f"fh asks for {list(stamps[steps < 1][:3])}, which are not after the end of {name} ({index[-1]}); "
            "in-sample forecasts are not supported"
        )
    return steps


def index_kind(index: pd.Index) -> str:
    """"date-time", "period" or "integer" (or the index's type) for messages and comparisons."""
    if isinstance(index, pd.DatetimeIndex):
        return "date-time"
    if isinstance(index, pd.PeriodIndex):
        return "period"
    if pd.api.types.is_integer_dtype(index.dtype):
        return "integer"
    return f"{type(index).__name__} ({index.dtype})"


def align_stamps(stamps: pd.Index, index: pd.Index, freq: object, name: str) -> pd.Index:
    """The absolute time ``stamps`` (of an fh) in the kind and time zone of ``index``.

    Periods of the data's step become the date-times they start at and date-times the periods
    they start; aware stamps become the same instants in the zone of ``index``. Other kinds
    (integers against stamps, naive against aware) name no well-defined instant: InputError.
    """
    stamps = pd.Index(stamps)
    if isinstance(index, pd.DatetimeIndex) and isinstance(stamps, pd.PeriodIndex):
        stamps = _periods_as_stamps(stamps, index, freq, name)
    elif isinstance(index, pd.PeriodIndex) and isinstance(stamps, pd.DatetimeIndex):
        stamps = _stamps_as_periods(stamps, index, name)
    if index_kind(stamps) != index_kind(index):
        raise InputError(
            f"fh names {index_kind(stamps)} time points {list(stamps[:3])} but {name} has a "
            f"{index_kind(index)} time index; pass fh in the kind of the data's index, or a relative fh (1, 2, ...)"
        )
    if isinstance(stamps, pd.DatetimeIndex):
        return _same_zone(stamps, index.tz, name)
    return stamps


def _periods_as_stamps(stamps: pd.PeriodIndex, index: pd.DatetimeIndex, freq: object, name: str) -> pd.Index:
    step = calendar_periods(index[-1:].tz_localize(None), freq).freq
    if stamps.freq != step:
        raise InputError(
            f"fh names periods of {stamps.freqstr!r} but {name} has steps of {freq.freqstr!r}; pass periods of "
            f"the data's step or time stamps"
        )
    starts = stamps.to_timestamp(how="start")
    if index.tz is None:
        return starts
    try:  # a period is wall-clock time: it starts at that time in the data's zone
        return starts.tz_localize(index.tz, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError) as err:  # pytz/zoneinfo errors are ValueErrors
        raise InputError(f"fh's periods {list(stamps[:3])} are not single instants in {index.tz}: {err}; "
                         "pass time stamps instead") from None


def _stamps_as_periods(stamps: pd.DatetimeIndex, index: pd.PeriodIndex, name: str) -> pd.Index:
    if stamps.tz is not None:
        raise InputError(
            f"fh's time stamps {list(stamps[:3])} have a time zone but {name} has periods, which have none; "
            "pass naive stamps (.tz_localize(None)) or periods"
        )
    periods = stamps.to_period(index.freq)
    if not periods.to_timestamp(how="start").equals(stamps):
        raise InputError(
            f"fh's time stamps {list(stamps[:3])} are not the starts of {index.freqstr!r} periods, as {name}'s "
            "time points are; pass the periods themselves or the stamps they start at"
        )
    return periods


def zone_fix(have, want) -> str:
    """The pandas call that puts stamps of time zone ``have`` into zone ``want`` (None: naive)."""
    if want is None:
        return "tz_localize(None)"
    return f"tz_localize({str(want)!r})" if have is None else f"tz_convert({str(want)!r})"


def _same_zone(stamps: pd.DatetimeIndex, tz, name: str) -> pd.DatetimeIndex:
    if (stamps.tz is None) != (tz is None):
        have, want = ("naive", f"in {tz}") if tz is not None else (f"in {stamps.tz}", "naive")
        fix = "." + zone_fix(stamps.tz, tz)
        raise InputError(f"fh's time stamps {list(stamps[:3])} are {have} but {name}'s are {want}; "
                         f"give them in the data's zone, e.g. {fix}")
    return stamps if tz is None else stamps.tz_convert(tz)
