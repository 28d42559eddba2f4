"""Forecasting horizons in the terms of the fitted data, checked before sktime sees them.

sktime's own handling of an absolute ``fh`` fails inside pandas on stamps of another kind, takes
stamps in another time zone for other instants, and answers stamps off the data's time grid with
misleading messages (frequencies that "do not coincide", "duplicates"), and time spans (Timedeltas)
fail in step arithmetic. Here an absolute ``fh`` becomes stamps in the kind and zone of the data
that lie on the grid of every series, time spans become steps, or a clear InputError / InSampleError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from sktime.forecasting.base import ForecastingHorizon

from tsrec._warn import warn_user
from tsrec.estimators._fh_stamps import align_stamps, steps_to
from tsrec.estimators._newdata import series_name, step_text
from tsrec.estimators._series import split_panel
from tsrec.estimators._timeindex import end_key, has_periods, known_step, step_nanoseconds
from tsrec.estimators.errors import InputError, InSampleError
from tsrec.kernels._memory import physical_memory


def aligned_fh(fh: object, y: object, steps: dict | None = None) -> ForecastingHorizon | None:
    """``fh`` as a ForecastingHorizon in the terms of the data ``y``, a flat frame (``FLAT_MTYPES``;
    None: not fitted yet).

    Time spans (Timedeltas) become the steps they span. Absolute stamps take the kind and time
    zone of the index of ``y`` (a period stands for the stamp of the grid it holds, a stamp for
    the period that holds it) and must lie on the time grid of every series of ``y``, after its
    end. ``steps`` are the series' steps by key where known (learned at fit, or of a new context),
    else read off ``y``.
    """
    if fh is None:
        return None
    if not isinstance(fh, ForecastingHorizon):
        check_unique_fh(fh)
    try:
        fh = fh if isinstance(fh, ForecastingHorizon) else ForecastingHorizon(fh)
    except OverflowError:  # pandas' "cannot all be casted to the dtype int64" names neither fh nor a fix
        raise InputError(f"fh holds a step beyond a 64-bit integer ({_largest(fh)}); ask for fewer steps") from None
    spans = fh.is_relative and isinstance(fh.to_pandas(), pd.TimedeltaIndex)
    if y is None:
        return fh
    if fh.is_relative and not spans:
        if fh.freq is not None:  # steps counted at another step than the data's (stamps are placed on its grid)
            _check_fh_freq(fh.freq, split_panel(y), steps)
        return fh
    parts = split_panel(y)
    return _spans_as_steps(fh.to_pandas(), parts, steps) if spans else _stamps_on_grid(fh, parts, steps)


def _check_fh_freq(freq: object, parts: list, steps: dict | None) -> None:
    """A ForecastingHorizon built with another ``freq`` than the data's one step: sktime's "Frequencies
    from two sources do not coincide" named neither fh nor a fix. Mixed steps in a panel are sktime's to
    reconcile."""
    own = set()
    for key, df in parts:
        if not isinstance(df.index, (pd.DatetimeIndex, pd.PeriodIndex)):
            return
        try:
            own.add(to_offset(known_step(df.index, steps, key)))
        except InputError:  # a one-row or uneven series: its own checks name it
            return
    if len(own) == 1 and (step := own.pop()) != to_offset(freq):
        raise InputError(
            f"fh was built with freq={to_offset(freq).freqstr!r}, but y steps by {step.freqstr!r}; build it with "
            f"freq={step.freqstr!r}, or without freq (e.g. ForecastingHorizon([1, 2, 3]))"
        )


def check_unique_fh(fh: object) -> None:
    """Refuse an fh that names a step or stamp twice, with the fix: sktime's "The `fh` values must not
    contain any duplicates" gives none (and a set of steps would drop the second without a word)."""
    if isinstance(fh, (str, bytes)) or not hasattr(fh, "__iter__"):
        return  # an int is steps 1..n; other types are sktime's to name
    try:
        values = fh if isinstance(fh, pd.Index) else pd.Index(np.ravel(np.asarray(list(fh), dtype=object)))
    except (TypeError, ValueError):
        return
    if values.has_duplicates:
        given, twice, once = (_plain(v) for v in (values, values[values.duplicated()].unique(),
                                                  values.unique().sort_values()))
        raise InputError(f"fh must not contain duplicates, got {given!r:.200} ({twice!r:.100} more than once); "
                         f"give each once, e.g. fh={once!r:.100}")


def _plain(values: pd.Index) -> list:
    """Entries as a message lists them: 3, not np.int64(3)."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _largest(fh: object) -> object:
    """The largest entry of an fh given as a list or array, for a message; the fh itself otherwise."""
    try:
        return max(fh)
    except (TypeError, ValueError):
        return fh


def _spans_as_steps(spans: pd.TimedeltaIndex, parts: list, known: dict | None) -> ForecastingHorizon:
    """Spans that are whole steps of every series (the same number of steps for each)."""
    steps = {tuple(_span_steps(spans, known_step(df.index, known, key), series_name(key), df.index))
             for key, df in parts}
    if len(steps) > 1:
        raise InputError(
            f"fh gives time spans {[str(s) for s in spans[:3]]}, which are other numbers of steps for the "
            "series of the panel, whose steps differ; give fh as steps (1, 2, ...) or as time stamps"
        )
    return ForecastingHorizon(list(steps.pop()), is_relative=True)


def _span_steps(spans: pd.TimedeltaIndex, freq: object, name: str, index: pd.Index) -> np.ndarray:
    step = None if isinstance(freq, int) else step_nanoseconds(freq)
    ns = spans.as_unit("ns").asi8
    if step is None or (ns % step).any():
        what = "is not a fixed duration" if step is None else f"is {pd.Timedelta(step, unit='ns')} long"
        raise InputError(
            f"fh gives time spans {[str(s) for s in spans[:3]]} but {name} has a step of {step_text(freq, index)}, "
            f"which {what}; "
            "give fh as steps (1, 2, ...), as spans of whole steps, or as time stamps"
        )
    return ns // step


def _stamps_on_grid(fh: ForecastingHorizon, parts: list, known: dict | None) -> ForecastingHorizon:
    index, freq = parts[0][1].index, known_step(parts[0][1].index, known, parts[0][0])
    stamps = align_stamps(fh.to_pandas(), index, freq, "y")
    return stamps_fh(stamps, _steps_to(stamps, parts, known), freq)


@contextmanager
def in_sample_check_on_instants(est: object, fh: object) -> Iterator[None]:
    """Within the block, sktime's in-sample check of ``est`` passes zoned stamps that are all after
    its cutoff as instants (tsrec's own checks compare each series' end).

    sktime reads zoned stamps on the wall clock (as periods, without their zone): where a zone's
    clocks go back, a stamp an hour after the cutoff (02:00+01:00 after 02:45+02:00) reads as before
    it and was refused as in-sample.
    """
    stamps = fh.to_pandas() if isinstance(fh, ForecastingHorizon) and not fh.is_relative else None
    cutoff = getattr(est, "_cutoff", None)
    zoned = isinstance(stamps, pd.DatetimeIndex) and stamps.tz is not None and isinstance(cutoff, pd.DatetimeIndex)
    if not zoned or len(stamps) == 0 or len(cutoff) == 0 or cutoff.tz is None or stamps.min() <= cutoff.max():
        yield
        return
    tags = {"capability:insample": True, "capability:pred_int:insample": True}
    before = {name: est._tags_dynamic[name] for name in tags if name in est._tags_dynamic}
    est.set_tags(**tags)
    try:
        yield
    finally:
        for name in tags:
            est._tags_dynamic.pop(name, None)
        est._tags_dynamic.update(before)


def stamps_fh(stamps: pd.Index, steps: list[np.ndarray], freq: object) -> ForecastingHorizon:
    """The fh sktime is given for ``stamps`` on the grid of every series of a panel (of the data's
    kind and zone), ``steps`` after the ends of the series (each distinct row at least once)."""
    if isinstance(stamps, pd.DatetimeIndex) and not has_periods(freq):
        return _as_steps(stamps, steps, freq)
    if isinstance(stamps, pd.DatetimeIndex):
        # on the grid, the stamps' own freq (e.g. every other hour of hourly data) is no conflict,
        # though sktime would report one: they carry the data's step instead
        return ForecastingHorizon(pd.DatetimeIndex(stamps, freq=None), is_relative=False, freq=freq)
    return ForecastingHorizon(stamps, is_relative=False)


def same_fh(fh: object, other: object) -> bool:
    """Whether two forms of fh name the same steps or stamps (``1``, ``[1]`` and
    ``ForecastingHorizon([1])`` do); False where either is not an fh sktime reads."""
    try:
        a, b = (f if isinstance(f, ForecastingHorizon) else ForecastingHorizon(f) for f in (fh, other))
    except (TypeError, ValueError):
        return False
    return a.is_relative == b.is_relative and a.to_pandas().equals(b.to_pandas())


def relative_steps(fh: ForecastingHorizon) -> np.ndarray:
    """The steps of a relative ``fh`` as int64; steps <= 0 raise InSampleError."""
    if not pd.api.types.is_integer_dtype(fh.to_pandas().dtype):  # an int64 cast would read spans as nanoseconds
        raise InputError(f"fh must name steps 1, 2, ... (integers), got {list(fh.to_pandas()[:3])}")
    steps = np.asarray(fh.to_numpy(), dtype=np.int64)
    if len(steps) == 0:  # not an in-sample request: nothing was asked for
        raise InputError("fh is empty; name at least one future step, e.g. fh=[1] or fh=[1, 2, 3]")
    if steps.min() < 1:
        counted = np.array_equal(np.sort(steps), np.arange(len(steps)))  # range(24): the next 24 steps meant
        raise InSampleError(
            f"fh must name future steps 1, 2, ... after the end of the data, got {steps.tolist()}; "
            "in-sample forecasts are not supported"
            + (f"; steps count from 1, the first after the end: fh={_first_steps(len(steps))}" if counted else "")
        )
    return steps


def _first_steps(count: int) -> str:
    """The first ``count`` steps after the end, as fh code."""
    return "[1]" if count == 1 else f"range(1, {count + 1})"


def steps_per_series(fh: ForecastingHorizon, parts: list, known: dict | None = None) -> list[np.ndarray]:
    """Each series' steps after its own end: an absolute fh names the same time stamps for
    every series of a panel, whatever its last stamp and sampling step (as sktime's own
    forecasters do), a relative fh the same steps. ``known`` steps by key as in :func:`aligned_fh`."""
    if fh.is_relative:
        return [relative_steps(fh)] * len(parts)
    return _steps_to(fh.to_pandas(), parts, known)


def _steps_to(stamps: pd.Index, parts: list, known: dict | None) -> list[np.ndarray]:
    """:func:`steps_to` for each series; series ending at the same stamp at the same step share
    the answer (each took ~0.4 ms)."""
    done: dict = {}
    out = []
    for key, df in parts:
        freq = known_step(df.index, known, key)
        end = end_key(df.index, freq)
        if end is not None and end in done:
            out.append(done[end])
            continue
        out.append(steps_to(df.index, freq, stamps, series_name(key)))
        if end is not None:
            done[end] = out[-1]
    return out


def _as_steps(stamps: pd.DatetimeIndex, steps: list[np.ndarray], freq: object) -> ForecastingHorizon:
    """Stamps at steps without pandas periods (business month ends, custom business days), in
    which sktime's in-sample check would count them, as the steps they are after every series' end."""
    if any(not np.array_equal(own, steps[0]) for own in steps):
        raise InputError(
            f"fh's time stamps {list(stamps[:3])} are other steps after the ends of the series of the panel, and "
            f"sktime cannot place stamps at steps of {freq.freqstr!r}; give fh as steps (1, 2, ...)"
        )
    return ForecastingHorizon(steps[0], is_relative=True)


#: bytes of one output row beyond its values: the id and the time stamp
_ROW_BYTES = 16
#: bytes a step of a point forecast's roll-out holds at its peak beyond its values: a roll-out of
#: one series 10**7 hourly steps ahead (``python benchmarks/rollout_memory.py``) peaked 274 bytes a
#: step above the fitted process, most of it sktime's absolute fh (a Timestamp object per step)
ROLLOUT_ROW_BYTES = 288
FEWER_STEPS = ("ask for fewer steps (forecasts past the model's horizon feed on its own forecasts, and drift) "
               "or forecast fewer series at a time")


def check_output_size(n_series: int, last_step: int, n_variates: int, what: str = "series",
                      hint: str = FEWER_STEPS, row_bytes: int = _ROW_BYTES, n_steps: int | None = None) -> None:
    """Refuse forecasts whose output alone (a row per series and step up to ``last_step``: a
    roll-out computes every step before it) could not fit in this machine's memory: they would
    fail after minutes, or swap it to a halt. ``n_variates``: values per row; ``hint``: the fix;
    ``row_bytes``: what a row holds beyond its values (:data:`ROLLOUT_ROW_BYTES` for a roll-out);
    ``n_steps``: the rows kept per series, where only the steps asked for are (default ``last_step``)."""
    memory = physical_memory()
    rows = n_series * (last_step if n_steps is None else n_steps)
    need = rows * (n_variates * 8 + row_bytes)
    if memory is not None and need > memory:
        reach = f"fh reaches step {last_step:,}" if n_steps in (None, last_step) else f"fh asks for {n_steps:,} steps"
        raise InputError(
            f"{reach}: {n_series:,} {what} would give {rows:,} rows, at least {need / 2**30:.3g} GiB, more than "
            f"the {memory / 2**30:.3g} GiB of memory this process may use; {hint}"
        )


#: steps past which a roll-out warns that it may take minutes (AR-Net, one hourly series: 10**6 steps took 6.4 s
#: on one CPU core, 10**7 72 s: benchmarks/results/rollout_memory.md), if they are also over
#: LONG_ROLLOUT_HORIZONS horizons; absolute stamps warn from LONG_ROLLOUT_HORIZONS horizons on, however few the
#: steps (a year mistyped by decades)
LONG_ROLLOUT_STEPS = 10**6
LONG_ROLLOUT_HORIZONS = 1000


def warn_long_rollout(last_step: int, horizon: int, stamps: bool = False) -> None:
    """Warn before a forecast rolls out over a million steps: it computes every step before the last, and
    ran minutes without a word (``fh=[10**7]`` for a date meant as an absolute stamp, say); ``stamps``
    over a thousand horizons ahead warn however few the steps: a year mistyped by decades, at daily or
    hourly steps, forecast in seconds without a word."""
    slow = last_step >= LONG_ROLLOUT_STEPS
    if last_step >= LONG_ROLLOUT_HORIZONS * horizon and (slow or stamps):
        what, fix = ("fh's stamps reach", "check the stamps (a mistyped year?) or ask for nearer ones")
        if not stamps:
            what = "fh reaches"
            fix = "ask for fewer steps, or pass time stamps as ForecastingHorizon(..., is_relative=False)"
        warn_user(
            f"{what} step {last_step:,} after the end of the data, {last_step // horizon:,} times the model's horizon "
            f"of {horizon}: the forecast computes every step before it, each pass feeding on earlier forecasts"
            f"{', which can take minutes' if slow else ''}; {fix}"
        )


def check_fit_steps(fh: ForecastingHorizon | None, count_series: Callable[[], int], n_variates: int) -> None:
    """``fit``'s relative ``fh``: in-sample steps (tsrec's error, not sktime's), and a furthest step whose
    roll-out could not fit in memory (:func:`check_output_size`), refused before the training rather
    than at ``predict`` after it (a list ``fh=[10**9]``; an int is :func:`check_step_count`'s)."""
    if fh is not None and fh.is_relative:
        last = int(relative_steps(fh).max())
        check_output_size(count_series(), last, n_variates, row_bytes=ROLLOUT_ROW_BYTES)


def check_step_count(fh: object, count_series: Callable[[], int], n_variates: int) -> None:
    """Refuse an int ``fh=n`` (steps 1..n) or a range whose roll-out could not fit in memory
    (:func:`check_output_size`), before sktime's horizon holds an array of every step:
    ``fh=10**10`` failed there with numpy's bare "Unable to allocate 74.5 GiB". ``count_series``
    is called only for such an ``fh``: counting a panel's series costs a pass over its rows."""
    if isinstance(fh, (int, np.integer)) and not isinstance(fh, (bool, np.bool_)):
        last = int(fh)
    elif isinstance(fh, range) and len(fh):
        last = max(fh[0], fh[-1])
    else:
        return
    check_output_size(count_series(), last, n_variates, row_bytes=ROLLOUT_ROW_BYTES)


@contextmanager
def held_fh_moved_past(applies: bool) -> Iterator[None]:
    """Where ``applies`` (the fh held from fit or an earlier forecast, none given now), an in-sample
    refusal says so: after an update its stamps are past, and "fh" alone named nothing the user passed."""
    try:
        yield
    except InSampleError as err:
        if not applies:
            raise
        raise InSampleError(f"{err}; these are the stamps of the fh given to fit or an earlier forecast, and the "
                            "data now ends later (update): pass predict a new fh") from None
