"""Absolute time stamps of a forecasting horizon, turned into steps after the end of a series.

An fh given as time points must name instants of the data's own kind (date-times, periods or
integers) and zone. Periods of the data's step and date-times are interchangeable: a period
stands for the one stamp of the data's grid it holds (its start for month-start data, its last day
for month-end data, its Sunday for weeks ending on Sundays), and a date-time for the period that
holds it. Other mixes name no well-defined instant and are refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._timeindex import calendar_periods, future_index, step_nanoseconds, step_positions
from tsrec.estimators.errors import InputError, InSampleError


def steps_to(index: pd.Index, freq: object, stamps: pd.Index, name: str) -> np.ndarray:
    """Relative steps (ints) from the last entry of ``index`` to the absolute time ``stamps``.

    Raises if a stamp is not on the time grid of ``index`` or not after its end.
    """
    stamps = align_stamps(stamps, index, freq, name)
    try:
        positions, end = step_positions(pd.Index(stamps), freq), step_positions(index[-1:], freq)[0]
    except (TypeError, ValueError, AttributeError) as err:
        raise InputError(f"fh's time stamps {list(stamps[:3])} do not match the time index of {name}: {err}") from None
    stamps = pd.Index(stamps)
    steps = _exact_differences(positions, end, stamps, index, name)
    # the grid first: a stamp between two steps rounds down to the one before, which may be the end
    off_grid = future_index(index, freq, steps) != stamps  # the messages name the offending stamps
    if off_grid.any():
        raise InputError(
            f"fh's time stamps {list(stamps[off_grid][:3])} are not on the time grid of {name} "
            f"(step {_step_name(index, freq)}, last stamp {index[-1]}); ask for stamps a whole number of steps "
            "after the end"
        )
    if len(steps) == 0:
        raise InputError("fh is empty; name at least one future step, e.g. fh=[1] or fh=[1, 2, 3]")
    if steps.min() < 1:
        raise _in_sample(stamps[steps < 1], index, name)
    return steps


def _exact_differences(
    positions: np.ndarray, end: np.int64, stamps: pd.Index, index: pd.Index, name: str
) -> np.ndarray:
    """``positions - end``, refusing the stamps whose difference wraps round int64 (then its sign
    is wrong: a stamp near int64's least would pass for one far ahead)."""
    steps = positions - end
    behind = positions < end
    wrapped = behind != (steps < 0)
    if (wrapped & behind).any():
        raise _in_sample(stamps[wrapped & behind], index, name)
    if wrapped.any():
        raise InputError(
            f"fh's time stamps {list(stamps[wrapped][:3])} are more steps after the end of {name} ({index[-1]}) "
            "than an int64 counts; ask for nearer stamps"
        )
    return steps


def _in_sample(stamps: pd.Index, index: pd.Index, name: str) -> InSampleError:
    return InSampleError(
        f"fh asks for {list(stamps[:3])}, which are not after the end of {name} ({index[-1]}); "
        "in-sample forecasts are not supported"
    )


def _step_name(index: pd.Index, freq: object) -> str:
    """A step as messages give it: 'h' or 'ME' (a date-time offset's code), 'M' for periods, or an int."""
    if isinstance(index, pd.PeriodIndex):  # its offset's code would be 'ME', which names no period
        return repr(index.freqstr)
    return repr(freq.freqstr) if hasattr(freq, "freqstr") else repr(freq)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


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

    Periods of the data's step become the stamps of the data's grid they hold, and date-times the
    periods that hold them; aware stamps become the same instants in the zone of ``index``. Other kinds
    (integers against stamps, naive against aware) name no well-defined instant: InputError.
    """
    stamps = pd.Index(stamps)
    if isinstance(index, pd.DatetimeIndex) and isinstance(stamps, pd.PeriodIndex):
        stamps = _periods_as_stamps(stamps, index, freq, name)
    elif isinstance(index, pd.PeriodIndex) and isinstance(stamps, pd.DatetimeIndex):
        stamps = _stamps_as_periods(stamps, index, name)
    elif isinstance(index, pd.PeriodIndex) and isinstance(stamps, pd.PeriodIndex) and stamps.freq != index.freq:
        raise InputError(
            f"fh names periods of {stamps.freqstr!r} but {name} has periods of {index.freqstr!r}; pass periods of "
            "the data's step, time stamps, or steps (1, 2, ...)"
        )
    if index_kind(stamps) != index_kind(index):
        raise InputError(
            f"fh names {index_kind(stamps)} time points {list(stamps[:3])} but {name} has "
            f"{_article(index_kind(index))} {index_kind(index)} time index; pass fh in the kind of the data's index, "
            "or a relative fh (1, 2, ...)"
        )
    if isinstance(stamps, pd.DatetimeIndex):
        return _same_zone(stamps, index.tz, name)
    return _integers_of(stamps, index)


def _integers_of(stamps: pd.Index, index: pd.Index) -> pd.Index:
    """Integer ``stamps`` of the other signedness than ``index``'s, in its dtype where they fit: sktime
    subtracts the cutoff from them, which gives floats for uint64 and int64 (and refuses those)."""
    kinds, values, largest = (stamps.dtype.kind, index.dtype.kind), np.asarray(stamps), np.iinfo(np.int64).max
    if kinds == ("u", "i") and values.max() > largest:  # as int64 they would wrap to other, negative stamps
        raise InputError(f"fh names integer time points {list(stamps[values > largest][:3])} past {largest}, the "
                         "largest an int64 time index holds; ask for stamps within it, or for steps (1, 2, ...)")
    if kinds == ("u", "i"):
        return pd.Index(values.astype(np.int64), name=stamps.name)
    if kinds == ("i", "u") and values.min() >= 0:
        return pd.Index(values.astype(np.uint64), name=stamps.name)
    return stamps


def _periods_as_stamps(stamps: pd.PeriodIndex, index: pd.DatetimeIndex, freq: object, name: str) -> pd.Index:
    step = calendar_periods(index[-1:].tz_localize(None), freq).freq
    if stamps.freq != step:
        raise InputError(
            f"fh names periods of {stamps.freqstr!r} but {name} has steps of {freq.freqstr!r}; pass periods of "
            f"the data's step or time stamps"
        )
    held = _grid_stamps_in(stamps, index, freq, name)
    if index.tz is None:
        return held
    try:  # a period is wall-clock time: its stamp is that time in the data's zone
        return held.tz_localize(index.tz, ambiguous="raise", nonexistent="raise")
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
    if periods.has_duplicates:  # two stamps in one period would ask for one forecast twice
        twice = stamps[periods.duplicated(keep=False)]
        raise InputError(
            f"fh's time stamps {list(twice[:3])} lie in the same {index.freqstr!r} period, as {name}'s time points "
            "are; name each period once, by a stamp inside it or by the period itself"
        )
    return periods


def _grid_stamps_in(periods: pd.PeriodIndex, index: pd.DatetimeIndex, freq: object, name: str) -> pd.DatetimeIndex:
    """The first stamp of the data's grid in each period, as naive wall-clock time: the period's start
    rolled forward to the step's anchor (a month's last day for month ends), or for fixed steps
    moved to the phase of the data's last stamp (hourly data at half past); InputError where that
    stamp falls after the period (a step longer than the period, or a grid that skips it)."""
    starts = periods.to_timestamp(how="start")
    last = index[-1].tz_localize(None)
    step = step_nanoseconds(freq)
    if step is None:  # calendar steps: their grid is the offset's own anchors (month ends, Sundays, ...)
        held = pd.DatetimeIndex([freq.rollforward(t) for t in starts]).as_unit(starts.unit)
    else:  # the grid is last + k steps; the first of its stamps at or after each start
        behind = (last.as_unit("ns").value - starts.as_unit("ns").asi8) % step
        held = starts + pd.to_timedelta(behind, unit="ns")
    outside = held > periods.to_timestamp(how="end")
    if outside.any():
        raise InputError(
            f"fh's periods {list(periods[outside][:3])} hold no time stamp of {name}'s grid (step {freq.freqstr!r}, "
            f"last stamp {index[-1]}); pass time stamps on the grid, or steps (1, 2, ...)"
        )
    return held


def zone_fix(have, want, obj: str = "", level: str = "") -> str:
    """The pandas call on ``obj`` that puts stamps of time zone ``have`` into zone ``want`` (None:
    naive); ``level``, such as ", level=-1", for a panel's time level. Naive stamps may be the
    zone's wall-clock times or UTC (as tz_convert(None) leaves them): both readings are named,
    since localizing UTC stamps in another zone would shift them silently."""
    if want is None:
        return f"{obj}.tz_localize(None{level})"
    if have is not None:
        return f"{obj}.tz_convert({str(want)!r}{level})"
    if str(want) == "UTC":  # both readings are one
        return f"{obj}.tz_localize('UTC'{level})"
    return (f"{obj}.tz_localize({str(want)!r}{level}) if they are wall-clock times in {want}, or "
            f"{obj}.tz_localize('UTC'{level}).tz_convert({str(want)!r}{level}) if they are UTC")


def _same_zone(stamps: pd.DatetimeIndex, tz, name: str) -> pd.DatetimeIndex:
    if (stamps.tz is None) != (tz is None):
        have, want = ("naive", f"in {tz}") if tz is not None else (f"in {stamps.tz}", "naive")
        fix = zone_fix(stamps.tz, tz)
        raise InputError(f"fh's time stamps {list(stamps[:3])} are {have} but {name}'s are {want}; "
                         f"give them in the data's zone, e.g. {fix}")
    return stamps if tz is None else stamps.tz_convert(tz)
