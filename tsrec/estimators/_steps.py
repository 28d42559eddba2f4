"""The time step of each series: learned at fit, kept (and saved) with the model, read for new data.

A forecaster extends each series' time index by that series' step, learned from its full history
at fit. A few rows cannot tell the step again: Monday to Friday of business days read as daily
steps, two month starts as 31 days, one row as no step at all. So the steps are kept with the
fitted model, saved in its folder (a saved model keeps only the last ``lookback`` rows) and
restored from it, and a new context whose stamps lie on the fitted step's grid is read at that step.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np
import pandas as pd
from pandas.errors import PerformanceWarning
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import CustomBusinessDay, CustomBusinessMonthBegin, CustomBusinessMonthEnd, Day, Tick

from tsrec._warn import warn_user
from tsrec.estimators._newdata import check_steps, check_zone_awareness, series_name, step_text, uses_stamps
from tsrec.estimators._series_values import time_level
from tsrec.estimators._timeindex import in_zone, infer_freq, known_step, positions, same_step, whole_units
from tsrec.estimators.errors import InputError, LoadError, MixedStepsWarning


def learned_steps(parts: list) -> dict:
    """The step of each series of ``parts`` (``(key, frame)`` pairs of the full data), by series key.

    Each distinct step is counted once here, so that a step pandas cannot count (business hours) is
    refused before a setting read off it (CycleNet's cycle), whose own refusal came first and whose
    fix led to this one."""
    steps = {key: infer_freq(df.index) for key, df in parts}
    counted = set()
    for (_, df), step in zip(parts, steps.values()):
        if (type(step), step) not in counted:
            positions(df.index[:1], step)
            counted.add((type(step), step))
    return steps


def warn_integer_steps(steps: dict) -> None:
    """sktime's composites count integer stamps in steps of 1; tsrec labels forecasts on the data's
    own grid, so inside a Differencer pipeline or an ensemble the two disagree."""
    wide = sorted({step for step in steps.values() if isinstance(step, int) and step != 1})
    if wide:
        warn_user(
            f"y's integer time index steps by {wide[0]}: forecasts are labelled on that grid (the last stamp + "
            f"k * {wide[0]}), but sktime's composites (a Differencer pipeline, EnsembleForecaster) count integer "
            "stamps in steps of 1 and misalign them; inside such a composite, index y by step numbers "
            f"(y.index // {wide[0]})"
        )


@contextmanager
def read_off_the_first_step(steps: dict, freq: object) -> Iterator[None]:
    """A setting read off the first series' step (PGN's period, CycleNet's cycle) that is refused: where
    the series step differently, say so, the likelier fault (its fix alone led to the step's refusal)."""
    try:
        yield
    except InputError as err:
        other = next(((key, step) for key, step in steps.items() if not same_step(step, freq)), None)
        if other is None:
            raise
        raise InputError(f"{err}; but the series of y step differently ({step_text(freq)} for the first, "
                         f"{step_text(other[1])} for {series_name(other[0])}), and that setting was read off the "
                         "first one's step: give series of one step") from None


def check_mixed_steps(est, steps: dict, meta: dict) -> None:
    """A panel whose series step differently (``steps``, by key), fitted by ``est`` with ``meta`` read
    off the first series' step: refused where a setting read off the step would differ between them
    (PGN's inferred period, calendar features of days but none of weeks), whichever series comes
    first; else a :class:`MixedStepsWarning`, as the network reads every row as one step. Models
    that read the stamps themselves are refused in :func:`check_steps`."""
    if uses_stamps(meta):  # check_steps refuses any other step: no need to gather the panel's steps
        return
    (first_key, first), *_ = steps.items()
    others = _other_steps(steps)
    if not others:
        return
    for key, step in others.items():
        try:
            own = est._network_meta(step, est.n_channels_)
        except InputError as err:
            own = str(err)
        if own != meta:
            raise InputError(_settings_differ(step_text(first), meta, (key, step_text(step)), own))
    key, step = next(iter(others.items()))
    warn_user(
        f"the series of y step differently ({series_name(first_key)} steps by {step_text(first)}, {series_name(key)} "
        f"by {step_text(step)}): the one global network reads each row as one step, whatever its length, so it "
        "learns them as if on one time scale (each is forecast at its own step); if that is not meant, resample "
        "them to one step or fit a model on the series of each step",
        MixedStepsWarning,
    )


def _other_steps(steps: dict) -> dict:
    """The first series of ``steps`` (by key) of each step other than the first series' ("D" and "24h" are one).
    Equal steps are gathered first, so that a panel of 16,000 series compares a few steps, not each series'."""
    distinct = {}
    for key, step in steps.items():
        try:
            distinct.setdefault(step, key)
        except TypeError:  # an unhashable offset attribute: compared below as it is
            distinct.setdefault(id(step), key)
    (first, *rest), others = [(steps[key], key) for key in distinct.values()], {}
    for step, key in rest:
        if not any(same_step(step, seen) for seen in (first[0], *others.values())):
            others[key] = step
    return others


def _settings_differ(first: str, meta: dict, other: tuple, own: dict | str) -> str:
    """The refusal of a panel whose steps would set the model up differently (:func:`check_mixed_steps`)."""
    key, step = other
    if isinstance(own, str):
        differ = f"at {step}: {own}"
    else:
        differ = "; ".join(_setting_text(name, meta.get(name), own.get(name), first, step)
                           for name in sorted(set(meta) | set(own)) if meta.get(name) != own.get(name))
    return (f"{series_name(key)} has a step of {step} but the first series a step of {first}, and the model reads "
            f"settings off the step ({differ}): resample the series to one step or fit a model on the series of "
            "each step")


def _setting_text(name: str, first_value: object, own: object, first: str, step: str) -> str:
    if name == "step_ns":
        with_them, without = (first, step) if first_value else (step, first)
        return f"calendar features at {with_them}, none at {without}; time_features=False turns them off"
    return f"{name}={first_value} at {first}, {own} at {step}; pass {name}=... to set it"


def held_steps(est) -> dict:
    """The steps the fitted ``est`` learned, by series key; empty for pickles of tsrec versions that
    did not keep them (their steps are read off the stored data, as those versions did)."""
    return getattr(est, "_series_steps", None) or {}


def cutoff_with_step(est) -> None:
    """Give ``est``'s date-time cutoff the series' one step as its freq where sktime left it none.

    sktime takes the cutoff's freq from the panel's stamps, which pandas leaves without one where
    series start apart: ``fh.to_absolute(est.cutoff)`` then failed inside sktime (``int * None``),
    while the same model loaded from its folder had one.
    """
    cutoff, steps = getattr(est, "_cutoff", None), set(held_steps(est).values())
    if not isinstance(cutoff, pd.DatetimeIndex) or cutoff.freq is not None or len(steps) != 1:
        return
    step = steps.pop()
    if isinstance(step, pd.DateOffset):
        with suppress(ValueError):  # stamps off the step (a day across a clock change)
            est._cutoff = pd.DatetimeIndex(cutoff, freq=step)


def held_list(est, parts: list) -> list:
    """The step of each stored series of ``parts`` (split from ``est._y``), in order."""
    held = held_steps(est)
    return [known_step(df.index, held, key) for key, df in parts]


def restored_steps(parts: list, saved: dict | None) -> dict:
    """The steps of a model rebuilt from its folder: the saved ones, or for a folder saved before
    tsrec stored them, the steps read off the saved context (as tsrec then did)."""
    if saved is not None:
        return {key: saved[key] for key, _ in parts}
    try:
        return learned_steps(parts)
    except InputError as err:
        rows = min(len(df) for _, df in parts)
        raise LoadError(
            f"this folder was saved by an earlier tsrec version, which did not store the series' time step, and "
            f"its saved context ({rows} row{'s' if rows != 1 else ''} per series) is too short to tell the step "
            f"({err}); fit the model again and save it with this version"
        ) from None


# ---- new contexts ---------------------------------------------------------------------------------


def on_grid(index: pd.Index, step: object) -> bool:
    """Whether the stamps ``index`` are consecutive steps of ``step``, the first on its grid (a
    business day for "B", a month start for "MS")."""
    if isinstance(step, int) or isinstance(index, pd.PeriodIndex):
        integers = isinstance(step, int) and pd.api.types.is_integer_dtype(index.dtype)
        return integers and bool(np.all(np.diff(np.asarray(index, dtype=np.int64)) == step))
    if not isinstance(index, pd.DatetimeIndex):
        return False
    fixed = fixed_units(index, step)
    if fixed is not None:  # integer differences: ~0.2 ms a series less than adding the step to each stamp
        return bool(np.all(np.diff(index.asi8) == fixed))
    if not step.is_on_offset(index[0]):
        return False
    with warnings.catch_warnings():  # custom business days are added one stamp at a time
        warnings.simplefilter("ignore", PerformanceWarning)
        return bool((index[:-1] + step == index[1:]).all())


def fixed_length(step: object, tz: object = None) -> bool:
    """Whether adding ``step`` to a stamp of zone ``tz`` always adds the same duration: a fixed
    duration, or a calendar day of naive stamps."""
    return isinstance(step, Tick) or (isinstance(step, Day) and tz is None and not step.normalize)


def fixed_units(index: pd.DatetimeIndex, step: object) -> int | float | None:
    """``step`` in units of the stamps ``index`` where adding it to a stamp adds that many units (a
    fixed duration; a calendar day of naive stamps), every stamp on its grid; else None. A step
    finer than the unit (NaN here) puts no two stamps a step apart."""
    if not fixed_length(step, index.tz):
        return None
    units = whole_units(step.nanos, index.unit)
    return float("nan") if units is None else units


def context_steps(est, parts: list) -> list:
    """The step of each series of a new context (``predict(y=...)``, ``forecast_windows``), checked.

    Stamps must be naive or aware as fitted. A series' stamps, in the fitted zone, are read at the
    step the model learned for the series of that key (for a new key, the first series') when
    they lie on its grid, else at their own step, which takes three stamps to tell. A model that
    reads the stamps needs the fitted step (and place within it) for every series.
    """
    check_zone_awareness(parts, time_level(est._y))
    tz = est._fitted_zone()
    zoned = [(key, _in_zone(df, tz)) for key, df in parts]
    held, first = held_steps(est), getattr(est, "_fit_step", None)
    steps = [_context_step(df.index, key, held.get(key, first)) for key, df in zoned]
    if first is not None:  # absent from pickles of older versions
        check_steps(zoned, first, est.network_meta_, "the fitted data", steps)
        _warn_unfitted_steps(zoned, steps, {first, *held.values()})
    return steps


def check_zone_first(est, y: object) -> None:
    """A new context's stamps naive or aware as fitted, checked before its spacing: naive
    wall-clock hours of an aware fit skip or repeat one at a daylight-saving change, and would be
    refused as uneven without the zone named."""
    index = getattr(y, "index", None)
    if not isinstance(y, (pd.Series, pd.DataFrame)) or not len(index):
        return
    panel = isinstance(index, pd.MultiIndex)
    stamps = time_level(y)
    if isinstance(stamps, pd.DatetimeIndex):
        key = (index[0][:-1] if index.nlevels > 2 else index[0][0]) if panel else None
        check_zone_awareness([(key, pd.DataFrame(index=stamps[:1]))], time_level(est._y))


def _warn_unfitted_steps(parts: list, steps: list, fitted: set) -> None:
    """Warn where a series' date-time step is none a fitted series had (only models that ignore the stamps get here).

    Such a model forecasts the series at its own step, which may be meant (a global model applied
    to new series) or a model fitted on other data by mistake; once per distinct step. Integer
    steps on either side (a model fitted on an array, a context of positions) tell no duration.
    """
    dated = {known for known in fitted if not isinstance(known, int)}
    for step in dict.fromkeys(steps):
        if isinstance(step, int) or not dated or any(same_step(step, known) for known in dated):
            continue
        key = parts[steps.index(step)][0]
        warn_user(
            f"{series_name(key)} has a step of {step_text(step)}, which no series the model was fitted on has "
            f"({', '.join(sorted(step_text(known) for known in dated))}); the model does not read the stamps, so "
            "it forecasts it at that step: check that this is the model meant for this data"
        )


def in_fitted_zone(y: object, stored: pd.DataFrame) -> object:
    """New data ``y`` with aware stamps in another zone as the same instants in the zone of the
    stored rows, as an fh in another zone is read; anything else as it is (naive against aware
    stays for the checks to refuse).

    Converted before the spacing checks: a daily series of Berlin midnights given in UTC steps 23
    or 25 hours at a daylight-saving change, and read at its own 24 hours its forecasts fell an
    hour off the zone's midnights.
    """
    if not isinstance(y, (pd.Series, pd.DataFrame)):
        return y
    times, fitted = y.index.get_level_values(-1), stored.index.get_level_values(-1)
    tz = getattr(fitted, "tz", None)
    if getattr(times, "tz", None) is None or tz is None or str(times.tz) == str(tz):
        return y
    if y.index.nlevels == 1:
        return y.set_axis(in_zone(y.index, tz), axis=0)
    return y.set_axis(y.index.set_levels(in_zone(y.index.levels[-1], tz), level=-1), axis=0)


def given_zone(y: object) -> object:
    """The zone of new data ``y``'s aware stamps; None for naive stamps, integers and arrays."""
    if not isinstance(y, (pd.Series, pd.DataFrame)):
        return None
    return getattr(y.index.levels[-1] if isinstance(y.index, pd.MultiIndex) else y.index, "tz", None)


def in_given_zone(out: object, zone: object) -> object:
    """Forecasts ``out`` after a context read in the fitted zone (:func:`in_fitted_zone`), stamped in
    ``zone``, the context's own, as its forecasts were before: the same instants."""
    if zone is None or not isinstance(out, (pd.Series, pd.DataFrame)):
        return out
    index = out.index
    stamps = index.levels[-1] if isinstance(index, pd.MultiIndex) else index
    if not isinstance(stamps, pd.DatetimeIndex) or stamps.tz is None or str(stamps.tz) == str(zone):
        return out
    if isinstance(index, pd.MultiIndex):
        return out.set_axis(index.set_levels(stamps.tz_convert(zone), level=-1), axis=0)
    return out.set_axis(stamps.tz_convert(zone), axis=0)


def _in_zone(df: pd.DataFrame, tz: object) -> pd.DataFrame:
    """``df`` with its stamps in the zone ``tz``; itself where they stay (set_axis cost ~50 us)."""
    index = in_zone(df.index, tz)
    return df if index is df.index else df.set_axis(index)


def check_array_context(est, y: object) -> None:
    """A NumPy context has no positions: refuse it where the model reads them from an integer index.

    A model fitted on an integer index that reads the stamps (CycleNet's cycle: position mod
    ``cycle_length``) would read an array's rows as positions 0, 1, ... and restart its phase
    there. (A model fitted on date-times refuses integer contexts anyway, in ``context_steps``.)
    """
    if not isinstance(y, np.ndarray) or not uses_stamps(est.network_meta_):
        return
    if isinstance(time_level(est._y), (pd.DatetimeIndex, pd.PeriodIndex)):
        return
    example = (
        "a pd-multiindex frame whose last index level holds each series' positions, e.g. "
        "pd.MultiIndex.from_product([range(n_series), range(start, start + n_timepoints)]) for a "
        "(series, variates, time) array"
        if y.ndim == 3 else "e.g. pd.Series(y, index=pd.RangeIndex(start, start + len(y)))"
    )
    raise InputError(
        "y is a NumPy array, but the model was fitted on an integer time index and reads the rows' "
        "positions (the phase of its cycle); an array cannot say where its rows lie, so pass it with "
        f"their positions: {example}"
    )


def _context_step(index: pd.Index, key: object, fitted: object) -> object:
    if fitted is None:  # a pickle of a version that kept no step
        return infer_freq(index)
    if on_grid(index, fitted):
        return fitted
    stamps = isinstance(index, pd.DatetimeIndex) and not isinstance(fitted, int)
    if stamps and index.freq is None and len(index) < 3:
        apart = f", {index[1] - index[0]} apart" if len(index) == 2 else ""
        few = "1 stamp is" if len(index) == 1 else "2 stamps are"
        raise InputError(
            f"the time stamps of {series_name(key)} ({', '.join(str(t) for t in index)}{apart}) are not consecutive "
            f"steps of the fitted step {step_text(fitted)}, and {few} too few to tell a step of their own; give "
            f"stamps {step_text(fitted)} apart, or at least 3 rows"
        )
    return infer_freq(index)


# ---- saved steps ------------------------------------------------------------------------------------

_CUSTOM = (CustomBusinessDay, CustomBusinessMonthBegin, CustomBusinessMonthEnd)


def step_to_json(step: object) -> dict | None:
    """``step`` as JSON: ``{"int": 10}``, ``{"freq": "B"}``, plus the week mask and holidays of custom
    business days; None where the JSON would not give ``step`` back (the folder then loads as those
    saved before steps were stored did)."""
    if isinstance(step, (int, np.integer)):
        return {"int": int(step)}
    spec = {"freq": step.freqstr}
    if isinstance(step, _CUSTOM):  # its name ("C", "CBME") does not say which days are business days
        spec.update(weekmask=step.weekmask, holidays=[str(day) for day in step.holidays])
    try:
        return spec if step_from_json(spec) == step else None
    except (ValueError, TypeError):
        return None


def step_from_json(spec: object) -> object:
    """The step :func:`step_to_json` wrote; anything else (a config edited with its checksum recomputed)
    is a :class:`LoadError`, not an error when the loaded model predicts."""
    if isinstance(spec, dict) and "int" in spec:
        step = spec["int"]
        if isinstance(step, int) and not isinstance(step, bool) and 0 < step < 2**63:
            return step
    elif isinstance(spec, dict) and isinstance(spec.get("freq"), str):
        try:
            step = to_offset(spec["freq"])
            if "weekmask" in spec:
                step = type(step)(n=step.n, weekmask=spec["weekmask"], holidays=spec["holidays"])
        except (ValueError, TypeError, KeyError, AttributeError):
            step = None
        if step is not None and step.n > 0:
            return step
    raise LoadError(f"a saved series step {spec!r} is no time step tsrec writes ({{'int': 1}} or {{'freq': 'D'}}); "
                    "the file was edited or damaged: save the model again from the fitted estimator")
