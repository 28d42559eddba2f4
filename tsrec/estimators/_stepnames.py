"""Names of a series' usual time step, for messages about unevenly spaced stamps.

The forecasters' index check and the batch reader (which also names the file) advise the same
fix: resample to the data's own step, e.g. ``asfreq('D')`` for daily data rather than hourly, and
``asfreq('ME')`` for month ends (``'MS'`` would leave none of them). Months on a day no pandas
frequency names (the 15th) are moved to month starts first. Only pandas is imported, so that
every layer can use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# calendar periods by pandas period code: shortest and longest length in days, months, words;
# fixed durations are said in their largest whole unit
_PERIODS = {"M": (28, 31, 1, "1 month"), "Q": (89, 92, 3, "1 quarter"), "Y": (365, 366, 12, "1 year")}
# days a business calendar moves a period's start or end (e.g. BMS, BME): a weekend and a holiday
_SHIFT = 3
_EVERY = {"M": "each month", "Q": "each quarter", "Y": "each year"}


def describe_step(step: pd.Timedelta, index: pd.DatetimeIndex) -> tuple[str | None, str]:
    """A pandas frequency to resample to and words for the usual ``step`` of the stamps ``index``.

    Parameters
    ----------
    step : pandas.Timedelta
        The usual (e.g. median) spacing of the stamps.
    index : pandas.DatetimeIndex
        The stamps, whose weekdays tell business days from calendar days and whose days tell
        month starts from month ends.

    Returns
    -------
    tuple
        The alias (e.g. ``"D"``, ``"B"``, ``"MS"``, ``"ME"``, ``"QE-DEC"``, ``"15min"``), or None for
        months, quarters or years whose stamps lie on no pandas frequency's grid (e.g. the 15th of
        each month: see :func:`period_start_fix`); and the step in words (e.g. ``"1 day"``,
        ``"1 month"``, ``"15 minutes"``).
    """
    period = _calendar_period(step, index)
    if period is not None:
        return _anchored_alias(period, index), _PERIODS[period][3]
    alias = _alias(step, index)
    return alias, "1 business day" if alias == "B" else _readable(step)


def period_start_fix(step: pd.Timedelta, index: pd.DatetimeIndex, code: str) -> str | None:
    """How to move calendar-period stamps that no pandas frequency names (e.g. the 15th of each
    month) to their periods' starts, ``code`` showing how with ``{period}`` for the period and
    ``{start}`` for the frequency of its starts (e.g. ``"y.index =
    y.index.to_period('{period}').to_timestamp()"``); None where :func:`describe_step` names a
    frequency."""
    period = _calendar_period(step, index)
    if period is None or _anchored_alias(period, index) is not None:
        return None
    days = sorted(set(index.day))
    where = f"day {days[0]}" if len(days) == 1 else f"days {days[0]} to {days[-1]}"
    return (
        f"pandas has no frequency for stamps on {where} of {_EVERY[period]}, so move them to the start of "
        f"{_EVERY[period]}, e.g. {code.format(period=period, start=period + 'S')}"
    )


def regular_periods(step: pd.Timedelta, index: pd.DatetimeIndex) -> bool:
    """Whether ``index`` steps by whole calendar periods on one day of the period that no pandas
    frequency names (e.g. the 15th of each month): regular, though pandas infers no frequency."""
    period = _calendar_period(step, index)
    if period is None or _anchored_alias(period, index) is not None or len(set(index.day)) > 1:
        return False
    months = index.year * 12 + index.month
    return len(set(np.diff(months))) == 1 and len(set(index.time)) == 1


def usual_gap(gaps: np.ndarray) -> float:
    """The usual spacing of stamps: the lower median of the positive ``gaps``, always one of them.
    The plain median of gaps 1 and 2 is 1.5, which named 1 -> 2 the odd gap "but the usual step is 1"."""
    positive = np.sort(gaps[gaps > 0])
    return float(positive[(len(positive) - 1) // 2]) if len(positive) else float(np.median(gaps))


def odd_gap(gaps: np.ndarray) -> int:
    """Where the spacing ``gaps`` (differences of stamps) lies farthest, in ratio, from the usual
    one (:func:`usual_gap`): a gap of missing rows or a stray extra row, not a weekend of business days."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(np.log(gaps / usual_gap(gaps)))
    return int(np.argmax(np.nan_to_num(ratio, nan=np.inf)))  # NaN: a gap <= 0, unsorted stamps


def _readable(step: pd.Timedelta) -> str:
    """``step`` in the largest whole unit, e.g. "1 day" or "15 minutes"."""
    seconds = step.total_seconds()
    for unit, size in [("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)]:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return str(step)


def _calendar_period(step: pd.Timedelta, index: pd.DatetimeIndex) -> str | None:
    """The calendar period ("M", "Q", "Y") whose lengths span ``step`` and whose whole multiples part
    the stamps ``index``, if any. A fixed 28-, 30- or 91-day step drifts through the months: named a
    month, its advice ``to_period('M')`` would give two stamps of one month the same stamp."""
    days = step / pd.Timedelta(days=1)
    code = next((code for code, (low, high, _, _) in _PERIODS.items() if low <= days <= high), None)
    if code is None:
        return None
    apart = np.diff(index.year * 12 + index.month)
    if not ((apart > 0) & (apart % _PERIODS[code][2] == 0)).all():
        return None
    day = np.asarray(index.day)
    from_end = np.asarray(index.days_in_month) - day  # month ends: days 28 to 31, all 0 days from the end
    return code if min(np.ptp(day), np.ptp(from_end)) <= _SHIFT else None


def _anchored_alias(period: str, index: pd.DatetimeIndex) -> str | None:
    """The frequency of ``period`` whose grid through the first stamp holds every stamp: starts or
    ends of months (``MS``/``ME``), or of quarters and years anchored on the first stamp's month."""
    month = "" if period == "M" else "-" + index[0].strftime("%b").upper()
    for alias in (f"{period}S{month}", f"{period}E{month}"):
        grid = pd.date_range(index[0], index[-1], freq=alias)
        if len(grid) and grid[0] == index[0] and index.isin(grid).all():
            return alias
    return None


def _alias(step: pd.Timedelta, index: pd.DatetimeIndex) -> str:
    """A pandas frequency for a usual step shorter than a month: business days where the weekdays suggest them."""
    days = step / pd.Timedelta(days=1)
    if days == 1 and (index.dayofweek < 5).all() and len(index) > 5:
        return "B"
    if days == int(days):
        return "D" if days == 1 else f"{int(days)}D"
    return pd.tseries.frequencies.to_offset(step).freqstr
