"""What is uneven in a series' time stamps, and the code that puts them on a regular grid: for one
series on ``y``, and for a panel's series each (a fix for one series' stamps, run on a panel, failed
on its (id, time) index)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.offsets import Tick

from tsrec.estimators._stepnames import describe_step, odd_gap, period_start_fix, regular_periods, usual_gap


def _regrid_fix(single: str, per_series: str, panel: tuple | None) -> str:
    """The fix on the one series ``y`` (``single``) or, in a panel (``(id levels, the series' key)``),
    ``per_series`` on that series' own frame ``t``, the others left as they are: a fix for one
    series' stamps run on the panel failed on its (id, time) index, and one series' step given to
    every series dropped the rows of those on another step."""
    if panel is None:
        return single
    id_levels, key = panel
    level = "0" if id_levels == 1 else str(list(range(id_levels)))
    return (f"y.groupby(level={level}, group_keys=True).apply(lambda s: s.droplevel({level}).pipe(lambda t: "
            f"{per_series} if s.name == {key!r} else t))")


def uneven_steps(index: pd.Index, panel: tuple | None = None) -> str | None:
    """What is uneven in a PeriodIndex (periods skipped) or an integer index, and the fix; None if
    it is even. Windows would otherwise span the gaps, as if the stamps were consecutive steps."""
    if isinstance(index, pd.PeriodIndex):
        steps, expected = np.diff(index.asi8), index.freq.n
        if len(steps) == 0 or np.all(steps == expected):
            return None
        at = int(np.flatnonzero(steps != expected)[0])
        return (f"the PeriodIndex is not evenly spaced ({index[at]} is followed by {index[at + 1]}, but its "
                f"frequency is '{index.freqstr}'); fill in the missing periods, e.g. " + _regrid_fix(
                    f"y.reindex(pd.period_range(y.index[0], y.index[-1], freq='{index.freqstr}', name=y.index.name))"
                    ".interpolate()",
                    f"t.reindex(pd.period_range(t.index[0], t.index[-1], freq='{index.freqstr}', name=t.index.name))"
                    ".interpolate()",
                    panel))
    if not pd.api.types.is_integer_dtype(index.dtype):
        return None
    values = np.asarray(index, dtype=np.int64)
    steps = np.diff(values)
    if len(steps) == 0 or np.all(steps == steps[0]):
        return None
    kinds, counts = np.unique(steps, return_counts=True)
    step = int(kinds[np.argmax(counts)])  # the usual step
    at = int(np.flatnonzero(steps != step)[0])
    if ((values - values[0]) % step).any():  # stamps off the grid: a reindex to it dropped their values
        grid, t_grid = f"range({values[0]}, {values[-1] + 1}, {step})", f"range(t.index[0], t.index[-1] + 1, {step})"
        fix = _regrid_fix(f"y.reindex(y.index.union({grid})).interpolate('index').reindex({grid})",
                          f"t.reindex(t.index.union({t_grid})).interpolate('index').reindex({t_grid})", panel)
    else:
        fix = _regrid_fix(f"y.reindex(range({values[0]}, {values[-1] + 1}, {step})).interpolate()",
                          f"t.reindex(range(t.index[0], t.index[-1] + 1, {step})).interpolate()", panel)
    return (f"the integer time index is not evenly spaced ({values[at]} is followed by {values[at + 1]}, but the "
            f"usual step is {step}); reindex it to a regular grid, e.g. {fix}")


def irregular_message(index: pd.DatetimeIndex, panel: tuple | None = None) -> str:
    gaps = np.diff(index.asi8)
    if index.tz is not None and len(set(gaps.tolist())) == 1:
        return _wall_clock_message(index, panel)
    step = pd.Timedelta(int(usual_gap(gaps)), unit=index.unit)
    move = ("y = y.rename(index=lambda t: t.to_period('{period}').to_timestamp(), level=-1)" if panel
            else "y.index = y.index.to_period('{period}').to_timestamp()")
    if regular_periods(step, index):  # e.g. the 15th of each month: even, but pandas names no such step
        return f"the time stamps are whole calendar periods apart but {period_start_fix(step, index, move)}"
    stray = _stray_weekend_days(index, step, panel)
    if stray is not None:
        return stray
    alias, words = describe_step(step, index)  # the data's own step
    at = _skipped_business_day(index) if alias == "B" else odd_gap(gaps)
    regrid = "resample('{}').mean()" if _off_a_fixed_grid(index, alias, int(usual_gap(gaps))) else "asfreq('{}')"
    fix = _regrid_fix(f"y.{regrid.format(alias)}.interpolate()", f"t.{regrid.format(alias)}.interpolate()", panel) \
        if alias else period_start_fix(
        step, index, move + ", then " + _regrid_fix("y.asfreq('{start}').interpolate()",
                                                    "t.asfreq('{start}').interpolate()", panel))
    return (
        f"the time stamps are not evenly spaced (e.g. {index[at]} is followed by {index[at + 1]}, but the usual "
        f"step is {words}), so no frequency can be inferred; put them on a regular grid first, e.g. {fix}"
    )


def _stray_weekend_days(index: pd.DatetimeIndex, step: pd.Timedelta, panel: tuple | None) -> str | None:
    """Business days (weekdays a day apart, weekends skipped) with a few rows on a weekend: those were
    taken for calendar days, with the advice to fill in every weekend (asfreq('D'))."""
    weekend = np.asarray(index.dayofweek >= 5)
    if step != pd.Timedelta(days=1) or not weekend.any() or weekend.mean() > 0.1:
        return None
    weekdays = index[~weekend]
    friday_to_monday = (weekdays.dayofweek[:-1] == 4) & (weekdays.normalize()[1:] - weekdays.normalize()[:-1]
                                                          == pd.Timedelta(days=3))
    if not friday_to_monday.any():
        return None
    first = index[weekend][0]
    fix = _regrid_fix("y[y.index.dayofweek < 5].asfreq('B').interpolate()",
                      "t[t.index.dayofweek < 5].asfreq('B').interpolate()", panel)
    count = int(weekend.sum())
    return (f"the time stamps are business days (Monday to Friday) but {count} {'falls' if count == 1 else 'fall'} "
            f"on a weekend (e.g. "
            f"{first}, a {first.day_name()}), so no frequency can be inferred; drop those rows and fill in any "
            f"missing business days, e.g. {fix}")


def _skipped_business_day(index: pd.DatetimeIndex) -> int:
    """Where business-day stamps skip a business day. By time, each weekend is an odd gap of three
    days: a missing Wednesday's two days were named less odd than the first weekend, whose Friday
    and Monday the message then gave as the gap."""
    days = index.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
    off = np.flatnonzero(np.busday_count(days[:-1], days[1:]) != 1)
    return int(off[0]) if len(off) else odd_gap(np.diff(index.asi8))


def _off_a_fixed_grid(index: pd.DatetimeIndex, alias: str | None, step: int) -> bool:
    """Whether stamps of a fixed step (``step`` in the index's unit) lie off the grid of the first:
    asfreq keeps only those on it, and the others' values were lost."""
    if alias is None or not isinstance(pd.tseries.frequencies.to_offset(alias), Tick):
        return False
    return bool(((index.asi8 - index.asi8[0]) % step).any())


def _wall_clock_message(index: pd.DatetimeIndex, panel: tuple | None = None) -> str:
    """Stamps one step apart in absolute time that a daylight-saving change moves on the local clock."""
    local = index.tz_localize(None)
    at = odd_gap(np.diff(local.asi8))
    return (
        f"the time stamps are evenly spaced in absolute time but not on the clocks of their time zone "
        f"{index.tz} ({index[at]} is followed by {index[at + 1]}), and pandas counts steps of a day or more "
        "in local dates and times; give the stamps in the zone they were taken in, where they keep their "
        f"clock time (e.g. y.tz_convert('Asia/Tokyo'{', level=-1' if panel else ''})), or in UTC"
    )
