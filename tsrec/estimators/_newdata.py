"""Checks of new data against what a forecaster was fitted on.

``update`` rows must continue each stored series on its time grid; series given to a model that
reads time stamps (calendar features, a cycle phase) must have the fitted step; values must stay
in the range the network computes in. Each check raises before anything in the estimator changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick

from tsrec._warn import warn_user
from tsrec.estimators._divergence import kernel_non_finite_as
from tsrec.estimators._fh_stamps import index_kind, zone_fix
from tsrec.estimators._series import run_keys, run_starts, split_panel
from tsrec.estimators._timeindex import (
    future_index,
    infer_freq,
    known_step,
    same_step,
    shared_future_index,
    stamp_offset_ns,
    step_positions,
)
from tsrec.estimators.errors import InputError

FLOAT32_MAX = float(np.finfo(np.float32).max)


def series_name(key: object) -> str:
    """How messages name one series of y: "y" alone, or "series <key> of y" in a panel."""
    return "y" if key is None else f"series {key!r} of y"


_DAY_NS = 86_400 * 10**9


def step_text(freq: object, index: pd.Index | None = None) -> str:
    """A step as messages name it: "B", "15min", "10" for integer steps, or a period's "M" for
    the stamps of a PeriodIndex ``index`` (its offset's "ME" names no period)."""
    if isinstance(index, pd.PeriodIndex):
        return index.freqstr
    return str(freq) if isinstance(freq, int) else freq.freqstr


# ---- update ------------------------------------------------------------------------------------


def check_update_rows(stored: pd.DataFrame, new: pd.DataFrame, steps: dict | None = None) -> None:
    """Refuse ``update`` rows that would not continue the stored series.

    Every series of ``new`` must be a stored one (a panel's known ids) and its rows consecutive
    steps of that series' time grid, in the same kind of index and time zone, starting at most
    one step after its last stamp and ending no earlier. Rows that overlap the stored ones are
    allowed (sktime's ``update`` lets them replace the stored values, and ``evaluate`` with
    ``strategy="update"`` passes whole training windows that overlap). ``steps`` are the steps the
    forecaster learned, by series key (a restored model's few stored rows cannot tell them).
    """
    panel = isinstance(stored.index, pd.MultiIndex)
    if panel != isinstance(new.index, pd.MultiIndex) or stored.index.nlevels != new.index.nlevels:
        levels = stored.index.nlevels - 1
        fitted = f"a panel with {levels} id level{'s' if levels > 1 else ''}" if panel else "a single series"
        raise InputError(
            f"the forecaster was fitted on {fitted} but update's y is "
            f"{'a panel' if isinstance(new.index, pd.MultiIndex) else 'a single series'}; pass new rows of the "
            "same structure (for a panel: a (series id, time) MultiIndex)"
        )
    if panel and all_series_continue(stored.index, new.index, steps):
        return  # proven in one pass; else each series is checked, and the first failing one named
    known = dict(split_panel(stored))
    parts = split_panel(new)
    unknown = [key for key, _ in parts if key not in known]
    if unknown:
        raise InputError(
            f"update's y has series {unknown[:5]} that the forecaster was not fitted on (it knows "
            f"{list(known)[:5]}); update only known series, fit again with all series, or forecast a new "
            "series from its own context with predict(fh, y=...)"
        )
    made = {}  # series ending at the same stamp expect the same stamps
    for key, part in parts:
        check_join(known[key].index, part.index, series_name(key), known_step(known[key].index, steps, key), made)


def all_series_continue(stored: pd.MultiIndex, new: pd.MultiIndex, steps: dict | None) -> bool:
    """Whether every series of ``new`` provably passes :func:`check_join` against its stored
    series, in one pass over both panels: naive date-times at fixed steps, integers and periods of
    one step, each series one run of rows. False where any of that does not hold or a series may
    fail: then each series is checked (~0.3 ms each) and the first failure named."""
    old_times, new_times = stored.levels[-1], new.levels[-1]
    if not steps or str(old_times.dtype) != str(new_times.dtype) or old_times.hasnans or new_times.hasnans:
        return False
    old_starts, new_starts = run_starts(stored), run_starts(new)
    if old_starts is None or new_starts is None:
        return False
    new_keys = run_keys(new, new_starts)
    where = run_keys(stored, old_starts).get_indexer(new_keys)  # -1: unknown
    units = _step_units(old_times, [steps.get(key) for key in new_keys])
    if units is None or (where < 0).any():
        return False
    try:
        old_values, new_values = _stamp_units(old_times)[stored.codes[-1]], _stamp_units(new_times)[new.codes[-1]]
    except (OverflowError, ValueError):  # stamps past nanoseconds' range: each series says so itself
        return False
    old_last = old_values[np.append(old_starts[1:], len(old_values)) - 1][where]
    counts = np.diff(np.append(new_starts, len(new_values)))
    # each new series rises by its own step, row after row
    rises = np.diff(new_values) == np.repeat(units, counts)[1:]
    rises[new_starts[1:] - 1] = True  # the gap from one series to the next
    first, off_grid = np.divmod(new_values[new_starts] - old_last, units)
    return bool(rises.all() and not off_grid.any() and (first <= 1).all() and (first + counts - 1 >= 0).all())


def _stamp_units(times: pd.Index) -> np.ndarray:
    """Stamps as int64 in the units of :func:`_step_units`: nanoseconds, period ordinals, integers."""
    if isinstance(times, pd.DatetimeIndex):
        return times.as_unit("ns").asi8
    return times.asi8 if isinstance(times, pd.PeriodIndex) else np.asarray(times, dtype=np.int64)


def _step_units(times: pd.Index, steps: list) -> np.ndarray | None:
    """Each step in the units of :func:`_stamp_units`, or None where one is not a fixed count of
    them (calendar steps, zoned stamps, periods of several steps, unknown series)."""
    if isinstance(times, pd.DatetimeIndex) and times.tz is None and all(isinstance(s, Tick) for s in steps):
        return np.array([s.nanos for s in steps], dtype=np.int64)
    if isinstance(times, pd.PeriodIndex) and times.freq.n == 1 and all(s == times.freq for s in steps):
        return np.ones(len(steps), dtype=np.int64)  # (ordinals of "2M" periods count months, not steps)
    if times.dtype == np.int64 and all(isinstance(s, int) and s > 0 for s in steps):  # (uint64 would wrap)
        return np.array(steps, dtype=np.int64)
    return None


def check_join(old: pd.Index, new: pd.Index, name: str, freq: object, made: dict | None = None) -> None:
    """The stamps ``new`` must continue ``old``'s grid of step ``freq`` (see :func:`check_update_rows`);
    ``made`` keeps the expected stamps for the next series (see :func:`shared_future_index`)."""
    if index_kind(new) != index_kind(old):
        raise InputError(
            f"the new rows of {name} have time points of kind {index_kind(new)} but the fitted data of kind "
            f"{index_kind(old)}; pass them with the same kind of time stamps"
        )
    if isinstance(old, pd.DatetimeIndex) and str(new.tz) != str(old.tz):
        raise InputError(
            f"the new rows of {name} have time zone {new.tz or 'none (naive)'} but the fitted data "
            f"{old.tz or 'none (naive)'}; put their stamps in the fitted zone, e.g. {zone_fix(new.tz, old.tz, 'y')}"
        )
    if isinstance(old, pd.PeriodIndex) and new.freq != old.freq:
        raise InputError(f"the new rows of {name} are periods of {new.freqstr!r} but the fitted data of "
                         f"{old.freqstr!r}; resample them to the fitted step")
    if len(new) >= 3:
        infer_freq(new)  # evenly spaced (check_raw_y checks date-times, not integers), so the ends tell
    try:
        first = int(step_positions(new[:1], freq)[0] - step_positions(old[-1:], freq)[0])
        apart = int(np.diff(step_positions(new[:2], freq))[0]) if len(new) >= 2 else 1
        ends = shared_future_index(old, freq, np.array([first, first + len(new) - 1]), {} if made is None else made)
    except (TypeError, ValueError, AttributeError) as err:
        raise InputError(f"the new rows of {name} are not on its time grid (step {step_text(freq, old)}): {err}"
                         ) from None
    if apart > 1:  # rows at another step: their first gap was named as missing rows
        raise InputError(f"the new rows of {name} are {apart} steps of {step_text(freq, old)} apart, where the stored "
                         f"rows are one; give a row per step of {step_text(freq, old)} (resample them)")
    _check_span(old, new, first, freq, name)
    if len(new) == 1 and not ends.equals(new[[0, -1]]):
        raise InputError(f"the new row of {name} at {new[0]} is off its time grid (steps of {step_text(freq, old)}): "
                         f"{ends[0]} was expected next; give the row at a stamp on the grid")
    if not ends.equals(new[[0, -1]]):
        raise InputError(
            f"the new rows of {name} are not consecutive steps of {step_text(freq, old)} on its time grid: they run "
            f"from {new[0]} to {new[-1]} ({len(new)} rows) where {ends[0]} to {ends[1]} was expected; give one row "
            "per step, without gaps"
        )


def _check_span(old: pd.Index, new: pd.Index, first: int, freq: object, name: str) -> None:
    if first > 1:
        rows, are, them = ("row", "is", "it") if first == 2 else ("rows", "are", "them")
        raise InputError(
            f"the new rows of {name} start at {new[0]} but the stored ones end at {old[-1]}: the {first - 1} "
            f"{rows} between (steps of {step_text(freq, old)}) {are} missing; give {them} (filled if need be)"
        )
    if first + len(new) - 1 < 0:
        raise InputError(
            f"the new rows of {name} end at {new[-1]}, before the stored ones' last stamp {old[-1]}; update() takes "
            "rows that continue the series (rows that overlap it replace the stored values)"
        )


def stamp_new_rows(values: np.ndarray, stored: pd.DataFrame, columns: list, steps: dict | None = None) -> pd.DataFrame:
    """NumPy rows as a frame stamped after the stored series' last row.

    An array has no time stamps, and sktime reads new NumPy rows as following the old ones; left
    to its converter they would be numbered 0, 1, ... and overwrite the first stored rows.
    ``steps`` are the steps the forecaster learned, by series key.
    """
    if isinstance(stored.index, pd.MultiIndex):
        return _stamp_panel_rows(values, stored, columns, steps)
    index = future_index(stored.index, known_step(stored.index, steps, None), np.arange(1, len(values) + 1))
    return pd.DataFrame(values.reshape(len(values), -1), index=index, columns=columns)


def _stamp_panel_rows(values: np.ndarray, stored: pd.DataFrame, columns: list, steps: dict | None) -> pd.DataFrame:
    """sktime's numpy3D rows (series, variates, time) of a panel, series ``i`` stamped after the
    ``i``-th stored series (the order a numpy3D fit gave them)."""
    keys = stored.index.droplevel(-1).unique()
    if values.ndim != 3 or len(values) != len(keys):
        got = f"a {values.ndim}-D array" if values.ndim != 3 else f"{len(values)} series"
        raise InputError(
            f"the forecaster was fitted on a panel of {len(keys)} series; a NumPy array's rows must come as a 3-D "
            f"array (series, variates, time) holding every fitted series in the fitted order, got {got}: pass that, "
            "or a (series id, time) MultiIndex DataFrame"
        )
    frames = {}
    for key, series in zip(keys, values):
        index = stored.loc[key].index
        stamps = future_index(index, known_step(index, steps, key), np.arange(1, series.shape[1] + 1))
        frames[key] = pd.DataFrame(series.T, index=stamps, columns=columns)
    return pd.concat(frames, names=stored.index.names)


def check_zone_awareness(parts: list, fitted: pd.Index) -> None:
    """New date-time stamps must have a time zone exactly when the ``fitted`` ones have one: naive
    stamps name no instant of the fitted zone, so calendar features, a cycle phase and fh stamps
    would be read at other times (stamps of another zone name the same instants and are taken)."""
    if not isinstance(fitted, pd.DatetimeIndex):
        return
    for key, df in parts:
        own = df.index.tz if isinstance(df.index, pd.DatetimeIndex) else fitted.tz
        if (own is None) != (fitted.tz is None):
            fix = zone_fix(own, fitted.tz, "y", "" if key is None else ", level=-1")  # a panel's time level
            raise InputError(
                f"the time stamps of {series_name(key)} are {_zone(own)} but the fitted data's are "
                f"{_zone(fitted.tz)}; give them in the fitted zone, e.g. {fix}"
            )


def _zone(tz: object) -> str:
    return "naive (no time zone)" if tz is None else f"in {tz}"


# ---- time steps of models that read the stamps --------------------------------------------------


def uses_stamps(meta: dict) -> bool:
    """Whether a network built from ``meta`` reads the time stamps (calendar features or a cycle)."""
    return bool(meta.get("step_ns")) or "cycle_length" in meta


def stamp_use(meta: dict) -> str:
    """What a model that reads the stamps (:func:`uses_stamps`) reads from them, as messages say it."""
    return "calendar features" if meta.get("step_ns") else "the phase of its cycle"


def check_steps(parts: list, freq: object, meta: dict, reference: str, steps: list) -> None:
    """Every series of ``parts``, read at ``steps``, must have the step ``freq`` of ``reference`` (and,
    for calendar features, the same place of its stamps within a step) when the model reads the stamps."""
    if not uses_stamps(meta):
        return
    what = stamp_use(meta)
    for (key, df), own in zip(parts, steps):
        if isinstance(own, int) != isinstance(freq, int):
            raise InputError(_kind_message(series_name(key), own, freq, what))
        if not same_step(own, freq):
            raise InputError(
                f"{series_name(key)} has a step of {step_text(own)} but {reference} a step of {step_text(freq)}; the "
                f"model reads the time stamps ({what}) at that step: resample it to {_target_step(freq)} or fit a "
                "model on its step"
            )
        if meta.get("step_ns"):
            _check_offset(df.index, key, meta, reference)


def _target_step(freq: object) -> str:
    """The step to resample to, in words: an integer index's "1" alone read as a count of something."""
    return f"an integer index that steps by {freq}" if isinstance(freq, int) else step_text(freq)


def _kind_message(where: str, own: object, freq: object, what: str) -> str:
    if isinstance(own, int):
        return (
            f"{where} has no time stamps (an integer index, or a NumPy array) but the model was fitted on "
            f"date-time stamps and reads them ({what}); pass it with its stamps, e.g. a pd.Series or "
            f"DataFrame indexed by pd.date_range(<first stamp>, periods=len(y), freq={freq.freqstr!r})"
        )
    return (
        f"{where} has date-time stamps but the model was fitted on an integer time index, from which it "
        f"reads {what}; pass it with an integer index as in fit"
    )


def _check_offset(index: pd.Index, key: object, meta: dict, reference: str) -> None:
    if meta["step_ns"] % _DAY_NS == 0:
        # calendar features of daily and longer steps do not read the time of day, which moves
        # against UTC with daylight saving time in tz-aware data
        return
    offset, fitted = stamp_offset_ns(index, meta["step_ns"]), int(meta.get("offset_ns", 0))
    if offset != fitted:
        raise InputError(
            f"the time stamps of {series_name(key)} lie {_duration(offset)} past a multiple of the "
            f"{_duration(meta['step_ns'])} step (e.g. {index[0]}), those of {reference} {_duration(fitted)}: "
            "its calendar features would be those of other times; put its stamps on the fitted grid or fit with "
            "time_features=False"
        )


def _duration(ns: int) -> str:
    offset = to_offset(pd.Timedelta(int(ns), unit="ns")) if ns else None
    return "0" if offset is None else f"{offset.n}{offset.name}"


# ---- value range ---------------------------------------------------------------------------------


def check_scaled(scaled: np.ndarray, what: str, keys: Sequence | None = None) -> None:
    """Standardised values the network reads must be finite and inside float32's range.

    ``keys``: the series of each leading row of ``scaled`` (a panel's contexts or rows), so that
    the message names the offending series.
    """
    finite = np.isfinite(scaled).all()
    if finite and (scaled.size == 0 or np.abs(scaled).max() <= FLOAT32_MAX):
        return
    reach = "inf or NaN" if not finite else f"{float(np.abs(scaled).max()):.3g}"
    inner = tuple(range(1, scaled.ndim))
    rows_ok = np.isfinite(scaled).all(inner) & (np.abs(np.nan_to_num(scaled)).max(inner, initial=0.0) <= FLOAT32_MAX)
    raise InputError(
        f"{what}'s values{_failing_series(rows_ok, keys)} lie too far from the training data's scale: standardised "
        f"by the training statistics (mean and standard deviation, or median and robust scale) they reach {reach}, "
        f"beyond float32's range ({FLOAT32_MAX:.3g}); pass values on the scale of the training data or fit on data "
        "of this scale"
    )


#: how far (in training standard deviations) forecasts past the horizon may grow beyond those within it
ROLLOUT_GROWTH = 1e3


def check_forecast(values: np.ndarray, keys: Sequence | None = None, horizon: int | None = None) -> None:
    """A forecast from finite inputs can still overflow inside the network; never return NaN/inf.

    ``values`` are scaled forecasts (rows, steps, channels); ``keys`` as in :func:`check_scaled`.
    With ``horizon``, steps past it come from the model rolling its own forecasts on: when only
    those overflow, or grow :data:`ROLLOUT_GROWTH` times further from the training mean than any
    value within the horizon, the roll-out is unstable, and the error (or a warning) says how
    many steps are sound.
    """
    finite = np.isfinite(values).all(axis=2)  # (rows, steps)
    rows_ok = finite.all(axis=1)
    sound, rows_sound = _sound_steps(values, finite, horizon)
    if rows_ok.all():
        if sound is not None:
            warn_user(
                f"the forecast{_failing_series(rows_sound, keys)} grows past the horizon: from step {sound + 1} on it "
                f"lies over {ROLLOUT_GROWTH:g} times further from the training centre than within the horizon "
                f"({horizon} steps), so the model's roll-out is unstable there; trust at most {sound} steps",
                RuntimeWarning,
            )
        return
    if sound is not None:
        raise InputError(
            f"the forecast{_failing_series(rows_ok, keys)} overflows past the horizon ({horizon} steps), where the "
            f"model rolls its own forecasts on: they grow without bound from step {sound + 1}; forecast at most "
            f"{sound} steps"
        )
    raise InputError(f"the forecast{_failing_series(rows_ok, keys)} is not finite: {OVERFLOW}")


#: why a forecast from finite, on-scale inputs overflows, and what to do
OVERFLOW = ("the network overflowed on this context, whose values are likely far outside the range the model was "
            "trained on; forecast from data on the training scale or refit on it")


def _sound_steps(values: np.ndarray, finite: np.ndarray, horizon: int | None) -> tuple[int | None, np.ndarray]:
    """The steps before a roll-out past ``horizon`` overflows or grows (None if it does neither, or
    the horizon itself is unsound), and which rows stay sound."""
    if horizon is None or values.shape[1] <= horizon or not finite[:, :horizon].all():
        return None, finite.all(axis=1)
    size = np.abs(np.where(np.isfinite(values), values, np.inf)).max(axis=2)  # (rows, steps); inf where not finite
    within = np.maximum(size[:, :horizon].max(axis=1, keepdims=True), 1.0)  # each series' own scale
    unsound = size[:, horizon:] > ROLLOUT_GROWTH * within
    if not unsound.any():
        return None, finite.all(axis=1)
    return horizon + int(np.argmax(unsound.any(axis=0))), ~unsound.any(axis=1)


def overflow_as_input_error(past_horizon: bool = True) -> contextlib.AbstractContextManager:
    """A kernel that refuses NaN or inf inside a forecast (whose inputs :func:`check_scaled` found
    finite and in range) met the network overflowing: the InputError of :func:`check_forecast`.
    ``past_horizon``: the forecast may roll past the horizon (then that is a cause too)."""
    rolled = ", or forecast fewer steps past the horizon (where the model rolls its own forecasts on)"
    message = f"the forecast is not finite: {OVERFLOW}{rolled if past_horizon else ''}"
    return kernel_non_finite_as(lambda: InputError(message))


def _failing_series(rows_ok: np.ndarray, keys: Sequence | None) -> str:
    """" (series 'a', 'b' and 3 more)": the panel series of the failing rows; "" for one unnamed series."""
    if keys is None:
        return ""
    failing = list(dict.fromkeys(key for key, ok in zip(keys, rows_ok) if not ok and key is not None))
    if not failing:
        return ""
    more = f" and {len(failing) - 3} more" if len(failing) > 3 else ""
    return f" (series {', '.join(repr(key) for key in failing[:3])}{more})"
