"""Names of a series' usual time step, for messages about unevenly spaced stamps.

The forecasters' index check and the batch reader (which also names the file) advise the same
fix: resample to the data's own step, e.g. ``asfreq('D')`` for daily data rather than hourly.
Only pandas is imported, so that every layer can use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# calendar steps said in words; fixed durations are said in their largest whole unit
_CALENDAR = {"B": "1 business day", "MS": "1 month", "QS": "1 quarter", "YS": "1 year"}


def describe_step(step: pd.Timedelta, index: pd.DatetimeIndex) -> tuple[str, str]:
    """A pandas frequency to resample to and words for the usual ``step`` of the stamps ``index``.

    Parameters
    ----------
    step : pandas.Timedelta
        The usual (e.g. median) spacing of the stamps.
    index : pandas.DatetimeIndex
        The stamps, whose weekdays tell business days from calendar days.

    Returns
    -------
    tuple of str
        The alias (e.g. ``"D"``, ``"B"``, ``"MS"``, ``"15min"``) and the step in words (e.g.
        ``"1 day"``, ``"1 month"``, ``"15 minutes"``).
    """
    alias = _alias(step, index)
    return alias, _CALENDAR.get(alias) or _readable(step)


def odd_gap(gaps: np.ndarray) -> int:
    """Where the spacing ``gaps`` (differences of stamps) lies farthest, in ratio, from the usual
    (median) one: a gap of missing rows or a stray extra row, not a weekend of business days."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(np.log(gaps / np.median(gaps)))
    return int(np.argmax(np.nan_to_num(ratio, nan=np.inf)))  # NaN: a gap <= 0, unsorted stamps


def _readable(step: pd.Timedelta) -> str:
    """``step`` in the largest whole unit, e.g. "1 day" or "15 minutes"."""
    seconds = step.total_seconds()
    for unit, size in [("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)]:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return str(step)


def _alias(step: pd.Timedelta, index: pd.DatetimeIndex) -> str:
    """A pandas frequency for the usual step: calendar units where the lengths suggest them."""
    days = step / pd.Timedelta(days=1)
    if days == 1 and (index.dayofweek < 5).all() and len(index) > 5:
        return "B"
    for low, high, alias in [(28, 31, "MS"), (89, 92, "QS"), (365, 366, "YS")]:
        if low <= days <= high:
            return alias
    if days == int(days):
        return "D" if days == 1 else f"{int(days)}D"
    return pd.tseries.frequencies.to_offset(step).freqstr
