"""Time-index helpers: absolute step positions, regular-step checks and future indices.

A window's absolute position (used for CycleNet's cycle phase and calendar features) is the
number of sampling steps since a fixed origin: nanoseconds / step for fixed frequencies, the
period ordinal for calendar frequencies (months, weeks), and the integer value for integer
indices; time-zone-aware stamps count in local wall-clock time. Phases therefore agree across the
train split, new contexts given to ``predict`` and the series of a panel. Steps between two
stamps are counted in absolute time instead (:func:`step_positions`).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BusinessDay, CustomBusinessDay, Day, SemiMonthBegin, SemiMonthEnd, Tick
from pandas.errors import OutOfBoundsDatetime, OutOfBoundsTimedelta

from tsrec.estimators._regrid_messages import irregular_message, uneven_steps
from tsrec.estimators.errors import InputError


#: the other reading of a flat index's repeated stamps: the rows of several series (dropping or averaging
#: them would merge the series)
SEVERAL_SERIES = ("; or, if the rows belong to several series, give their id as the first index level (a panel: "
                  "y.set_index(id_column, append=True).swaplevel().sort_index())")


def check_index(index: pd.Index, name: str = "y", duplicates_hint: str = "", panel: tuple | None = None) -> None:
    """Reject missing, duplicate, unsorted or unevenly spaced time stamps, with the fix in the message
    (``duplicates_hint`` follows the fix of duplicate stamps; ``panel``: the number of id levels and
    the key of the series of a panel whose time level ``index`` is, which the fix regrids)."""
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) and index.hasnans:
        # checked first: a NaT also makes the index look unsorted, which would send users to sort it
        rows = np.flatnonzero(index.isna())[:3].tolist()
        raise InputError(f"{name} has missing time stamps (NaT) at rows {rows}; drop those rows or fill in their "
                         "stamps")
    if index.has_duplicates:
        dup = index[index.duplicated()][:3].tolist()
        raise InputError(f"{name} has duplicate time stamps (e.g. {dup}); aggregate or drop duplicates first"
                         f"{duplicates_hint}")
    if not index.is_monotonic_increasing:
        # the data's own expression: y[1] for a frame of a list, y for a series of a panel (named "y series 'a'")
        raise InputError(f"{name} time stamps are not sorted; sort it first (e.g. {name.split()[0]}.sort_index())")
    if isinstance(index, pd.DatetimeIndex) and index.freq is None and len(index) >= 3 and pd.infer_freq(index) is None:
        raise InputError(f"{name}: {irregular_message(index, panel)}")
    if uneven := uneven_steps(index, panel):
        raise InputError(f"{name}: {uneven}")


def infer_freq(index: pd.Index) -> object:
    """Return the sampling step of ``index``: a pandas offset, or an int for integer indices."""
    if isinstance(index, pd.PeriodIndex):
        if uneven := uneven_steps(index):
            raise InputError(uneven)
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        if len(index) >= 3:
            freq = pd.infer_freq(index)
            if freq is None:
                raise InputError(irregular_message(index))
            return pd.tseries.frequencies.to_offset(freq)
        if len(index) >= 2:
            return pd.tseries.frequencies.to_offset(index[-1] - index[-2])
        raise InputError("cannot infer the frequency of a one-row DatetimeIndex; give a longer series")
    if pd.api.types.is_integer_dtype(index.dtype):
        steps = np.diff(np.asarray(index, dtype=np.int64))
        if len(steps) and not np.all(steps == steps[0]):
            raise InputError(uneven_steps(index))
        return int(steps[0]) if len(steps) else 1
    raise InputError(
        f"unsupported time index type {type(index).__name__}; use a DatetimeIndex, PeriodIndex "
        "or an integer index"
    )


def known_step(index: pd.Index, steps: dict | None, key: object) -> object:
    """``steps[key]``, the step a forecaster learned for the series ``key`` from its full history,
    if there is one; else the step the stamps ``index`` show (:func:`infer_freq`)."""
    return steps[key] if steps and key in steps else infer_freq(index)


def positions(index: pd.Index, freq: object) -> np.ndarray:
    """Absolute step count of each time stamp since a fixed origin, as int64.

    Time-zone-aware stamps count in their local wall-clock time, which is what calendar features
    and a cycle phase read (an hourly Tokyo series has hour 0 at local midnight, and a Berlin
    09:00 stays hour 9 across daylight saving time). Differences of wall-clock positions can
    miss or repeat an hour at such a change: :func:`step_positions` counts the steps between instants.
    """
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_localize(None)
    return step_positions(index, freq)


def step_positions(index: pd.Index, freq: object) -> np.ndarray:
    """Like :func:`positions`, but fixed steps of aware stamps count in absolute time, so that
    differences are the steps between the instants, also across a daylight-saving change."""
    if isinstance(index, pd.PeriodIndex):
        return index.asi8 // max(getattr(freq, "n", 1), 1)
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(freq, Tick):
            units = whole_units(freq.nanos, index.unit)
            if units is not None:  # counted in the stamps' unit, so s, ms and us stamps past 2262 count too
                return index.asi8 // units
            return index.as_unit("ns").asi8 // freq.nanos
        # calendar steps (days, months) count local dates, as pandas' periods of aware stamps do
        local = index.tz_localize(None)
        counted = _counted_steps(local, freq)
        counted = calendar_periods(local, freq).asi8 if counted is None else counted
        return counted // max(getattr(freq, "n", 1), 1)
    values = np.asarray(index, dtype=np.int64)
    return values // max(int(freq), 1)


def whole_units(nanoseconds: int, unit: str) -> int | None:
    """A duration in units ``unit`` of date-time stamps ('s', 'ms', 'us', 'ns'); None where it is
    no whole number of them."""
    unit_ns = pd.Timedelta(1, unit=unit).value
    return nanoseconds // unit_ns if nanoseconds % unit_ns == 0 else None


def in_zone(index: pd.Index, tz: object) -> pd.Index:
    """Aware stamps converted to the zone ``tz`` (the same instants); other indices unchanged."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None and tz is not None:
        return index.tz_convert(tz)
    return index


def step_nanoseconds(freq: object) -> int | None:
    """The step of a fixed-step date-time frequency in nanoseconds (so that a position ``p`` is
    ``p * step`` ns after 1970-01-01, see :func:`positions`), or None for calendar/int steps."""
    if isinstance(freq, Tick):
        return int(pd.Timedelta(freq).value)
    if isinstance(freq, Day):  # a calendar day in pandas >= 3, no longer a Tick
        return int(freq.n) * 86_400 * 10**9
    return None


def _counted_steps(index: pd.DatetimeIndex, freq: object) -> np.ndarray | None:
    """Steps since 1970 of the steps pandas has no periods of: business days (custom ones counted
    with their holidays and week mask) and half months; None for other steps.

    Plain business days are counted here too, not as ``PeriodDtype[B]``, which pandas deprecates;
    the counts equal those periods' ordinals.
    """
    if isinstance(freq, (CustomBusinessDay, BusinessDay)):
        days = index.normalize().to_numpy().astype("datetime64[D]")
        calendar = freq.calendar if isinstance(freq, CustomBusinessDay) else np.busdaycalendar()
        return np.busday_count(np.datetime64("1970-01-01"), days, busdaycal=calendar).astype(np.int64)
    if isinstance(freq, (SemiMonthBegin, SemiMonthEnd)):
        months = (np.asarray(index.year, dtype=np.int64) - 1970) * 12 + np.asarray(index.month) - 1
        # the second stamp of a month: day_of_month itself for starts, the month's end for ends
        later = index.day > freq.day_of_month if isinstance(freq, SemiMonthEnd) else index.day >= freq.day_of_month
        return 2 * months + np.asarray(later, dtype=np.int64)
    return None


def calendar_periods(index: pd.DatetimeIndex, freq: object) -> pd.PeriodIndex:
    """Periods of a calendar frequency; month/quarter/year starts, ends and business days of them
    map to their period."""
    try:
        return index.to_period(freq)
    except (AttributeError, ValueError, TypeError):
        unit = _calendar_unit(freq)
        if unit not in {"M", "Q", "Y"}:
            raise InputError(
                f"time stamps at steps of {freq.freqstr!r} cannot be counted (pandas has no periods of that step); "
                "resample them to a fixed frequency (e.g. 'h', 'D') or a calendar one (e.g. 'B', 'W', 'MS', 'QS', 'YS')"
            ) from None
        return index.to_period(unit)


def has_periods(freq: object) -> bool:
    """Whether pandas has periods of the date-time step ``freq`` (not of business month ends,
    semi-months or custom business days, say)."""
    try:
        with warnings.catch_warnings():  # pandas deprecates business-day periods, which it still has
            warnings.simplefilter("ignore", FutureWarning)
            pd.DatetimeIndex(["2000-01-03"]).to_period(freq)  # a Monday, a business day
    except (AttributeError, ValueError, TypeError):
        return False
    return True


def _calendar_unit(freq: object) -> str:
    """The period unit of a calendar step: "MS", "ME", "BME" and "CBMS" are all months ("M"),
    "A..." is "Y"; other steps keep their own name ("W", "SME", "C")."""
    code = freq.name.split("-")[0].upper() if hasattr(freq, "name") else ""
    core = re.sub(r"^C?B(?=[MQYA])", "", code)  # the business day that ends or starts the period
    if core[:1] in ("M", "Q", "Y", "A") and core[1:] in ("", "S", "E"):
        return "Y" if core[0] == "A" else core[0]
    return code


def same_step(own: object, freq: object) -> bool:
    """Whether two steps mean the same spacing: "D" and "24h" do, and so do "MS" and "ME" (month
    starts and ends count the same months), though their pandas offsets differ."""
    if isinstance(own, int) or isinstance(freq, int):
        return own == freq
    own_ns, freq_ns = step_nanoseconds(own), step_nanoseconds(freq)
    if own_ns is not None or freq_ns is not None:
        return own_ns == freq_ns
    return _calendar_key(own) == _calendar_key(freq)


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _calendar_key(freq: object) -> tuple:
    """(unit, multiple, anchor) of a calendar step; start/end variants share one unit, as in positions().

    Quarters and years are anchored by the month they end in: quarters starting in October
    ("QS-OCT") are those ending in December ("QE-DEC", a period's "Q-DEC"), years starting in
    January those ending in December; for quarters only the end month's place in its quarter counts.
    """
    unit, anchor = _calendar_unit(freq), freq.name.partition("-")[2] if hasattr(freq, "name") else ""
    if unit in ("Q", "Y") and anchor[:3] in _MONTHS:
        starts = re.sub(r"^C?B(?=[QYA])", "", freq.name.split("-")[0].upper()).endswith("S")
        end = (_MONTHS.index(anchor[:3]) - starts) % 12  # 0 = January
        anchor = str(end % 3 if unit == "Q" else end)
    return unit, getattr(freq, "n", 1), anchor or None


def stamp_offset_ns(index: pd.Index, step_ns: int) -> int:
    """How far (ns) the time stamps of a fixed-step ``index`` lie past a multiple of the step.

    :func:`positions` counts whole steps since 1970-01-01 (local wall-clock time for aware stamps),
    so a 2-hourly series at odd hours has its stamps at ``position * step + offset`` with an
    offset of one hour.
    """
    stamps = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
    stamps = stamps.tz_localize(None) if stamps.tz is not None else stamps
    return int(stamps[:1].as_unit("ns").asi8[0] % step_ns)


def future_index(index: pd.Index, freq: object, steps: np.ndarray) -> pd.Index:
    """Time stamps ``steps`` (relative ints >= 1) after the last entry of ``index``.

    Consecutive date-time steps, a single step among them, carry the frequency, as sktime's own
    forecasters return them (NaiveForecaster's fh=[2] is at freq "D" on a daily series, fh=[1, 3] at none).
    """
    steps = np.asarray(steps, dtype=np.int64)
    last = index[-1]
    if isinstance(index, pd.PeriodIndex):
        with warnings.catch_warnings():  # the user's own business-day periods, which pandas deprecates, again
            warnings.filterwarnings("ignore", message=r".*(BDay|PeriodDtype\[B\]).* deprecated", category=FutureWarning)
            return pd.PeriodIndex([last + int(k) * freq for k in steps], freq=index.freq, name=index.name)
    if isinstance(index, pd.DatetimeIndex):
        try:
            stamps = pd.DatetimeIndex(_stamps_after(last, freq, steps), name=index.name)
        except (OutOfBoundsDatetime, OutOfBoundsTimedelta, OverflowError):
            raise past_last_date(index.unit, last, steps, freq) from None
        if len(steps) and np.all(np.diff(steps) == 1):  # one step: no diff, and a lone stamp fits any freq
            try:
                stamps = pd.DatetimeIndex(stamps, freq=freq)
            except ValueError:  # e.g. a daily step across a daylight-saving change: no pandas freq
                pass
        return stamps
    check_integer_room(int(last), int(freq), steps)
    return pd.Index(int(last) + steps * int(freq), name=index.name)


_INT64_MAX = int(np.iinfo(np.int64).max)


def past_last_date(unit: str, last: pd.Timestamp, steps: object, freq: object) -> InputError:
    """The refusal of forecasts ``steps`` after ``last`` whose stamps pass the last date-time of
    ``unit`` (2262-04-11 23:47:16.854775807 in ns), where pandas' own error names no fix."""
    end = pd.Timestamp(np.datetime64(_INT64_MAX, unit))
    return InputError(
        f"the forecast's time stamps would run past {end}, the last date-time a datetime64[{unit}] index holds "
        f"(last stamp {last}, {int(np.max(steps))} steps of {freq.freqstr}); give the stamps a coarser unit, "
        "e.g. with index.as_unit('s')"
    )


def check_integer_room(last: int, step: int, steps: np.ndarray) -> None:
    """Refuse integer stamps past int64's largest, which NumPy's sum would wrap round to negative ones."""
    furthest = last + int(steps.max(initial=0)) * step  # a Python int: it does not wrap
    if furthest > _INT64_MAX:
        raise InputError(
            f"the forecast's integer time stamps would run to {furthest}, past {_INT64_MAX}, the largest an int64 "
            f"time index holds (last stamp {last}, step {step}); number each series' time steps from 0"
        )


def future_indexes(indexes: list, freqs: list, steps: list) -> list[pd.Index]:
    """:func:`future_index` of each series; series ending at the same stamp, in the same kind of
    index and at the same step, share one (an index is immutable; each took ~0.4 ms to build)."""
    made = {}
    return [shared_future_index(index, freq, k, made) for index, freq, k in zip(indexes, freqs, steps)]


def shared_future_index(index: pd.Index, freq: object, steps: np.ndarray, made: dict) -> pd.Index:
    """:func:`future_index`, taken from ``made`` (and kept there) when an earlier series needed the same."""
    steps = np.asarray(steps, dtype=np.int64)
    key = end_key(index, freq)
    if key is None:
        return future_index(index, freq, steps)
    key = (key, steps.tobytes())
    if key not in made:
        made[key] = future_index(index, freq, steps)
    return made[key]


def end_key(index: pd.Index, freq: object) -> tuple | None:
    """What stamps after the end of ``index`` at step ``freq`` depend on, as a dict key; None where
    it is unhashable (a custom offset's attribute, an index name). The dtype holds the unit, zone
    and period frequency, the type and name of the step tell "D" and "24h" (equal offsets) apart."""
    last = index.asi8[-1] if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) else index[-1]
    key = type(index), str(index.dtype), index.name, last, type(freq), getattr(freq, "freqstr", None), freq
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _stamps_after(last: pd.Timestamp, freq: object, steps: np.ndarray) -> pd.DatetimeIndex:
    """``last + k * freq`` for each ``k`` of ``steps``, in the unit that Timestamp arithmetic gives."""
    if isinstance(freq, Tick):  # a fixed duration: one vectorised sum, not one Timestamp per step
        unit = (last + freq).unit  # a step finer than the stamps' unit (ms on seconds) refines it
        step = whole_units(freq.nanos, unit)  # the unit is fine enough
        # in the unit (Timestamp.value is nanoseconds whatever the unit); UTC for aware stamps
        start = int(pd.DatetimeIndex([last]).as_unit(unit).asi8[0])
        if start + int(steps.max(initial=0)) * step > _INT64_MAX:  # a Python int: no wrap
            raise OutOfBoundsDatetime(f"{steps.max()} steps of {freq.freqstr} after {last}")
        # every stamp fits, so an int64 sum that wraps on the way (steps * step from before 1970) lands exactly
        stamps = pd.DatetimeIndex((start + steps.astype(np.int64) * np.int64(step)).view(f"datetime64[{unit}]"))
        return stamps if last.tz is None else stamps.tz_localize("UTC").tz_convert(last.tz)
    return pd.DatetimeIndex([last + int(k) * freq for k in steps])
