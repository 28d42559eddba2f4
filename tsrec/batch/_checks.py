"""Checks of the model, ``fh`` and the panel before batch forecasting, so that no chunk fails half-way."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sktime.exceptions import NotFittedError
from sktime.forecasting.base import ForecastingHorizon

from tsrec.estimators._onepass import Runs, check_room_on_grid, fitted_grid, panel_runs, scaled_last_rows
from tsrec.batch._times import wall_clock_in
from tsrec.estimators._folder import saved_folder_holding
from tsrec.batch._quantiles import output_columns
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._horizon import ROLLOUT_ROW_BYTES, check_output_size, check_unique_fh, relative_steps
from tsrec.estimators._newdata import check_scaled, stamp_use, step_text, uses_stamps
from tsrec.estimators._scale_statistics import standardised
from tsrec.estimators._scaling import row_scales, scales_of
from tsrec.estimators._series import scaled_contexts, split_panel
from tsrec.estimators._series_values import time_level
from tsrec.estimators._steps import context_steps
from tsrec.estimators._timeindex import check_integer_room, future_indexes
from tsrec.estimators._variates import variates_match
from tsrec.estimators.errors import InputError, InSampleError


class UnfittedModelError(InputError, NotFittedError):
    """An unfitted forecaster given to forecast: sktime's NotFittedError (as its ``predict`` raises), and
    tsrec's InputError (as the other refusals of the batch functions).

    Importable as ``tsrec.batch.UnfittedModelError``.

    Examples
    --------
    >>> from sktime.exceptions import NotFittedError
    >>> from tsrec.errors import InputError
    >>> issubclass(UnfittedModelError, InputError) and issubclass(UnfittedModelError, NotFittedError)
    True
    """


def check_model(est: object, source: object) -> DeepForecaster:
    """``est`` itself if it is a fitted tsrec forecaster; ``source`` names it in the message."""
    if not isinstance(est, DeepForecaster):
        raise TypeError(
            f"{source} is of type {type(est).__name__}, not a tsrec forecaster; pass a fitted forecaster or its saved "
            "folder"
        )
    if not est.is_fitted:
        raise UnfittedModelError(f"the {type(est).__name__} is not fitted; call fit first (or pass a folder saved by "
                                 "est.save)")
    return est


def forecast_steps(fh: int | Sequence[int] | None, est: DeepForecaster) -> list[int]:
    """Relative steps to forecast: None is :func:`predict_steps`, an int N is 1..N, else the given steps."""
    if fh is None:
        return predict_steps(est)
    if isinstance(fh, (int, np.integer)) and not isinstance(fh, bool):
        if fh < 1:  # in-sample, as the forecaster's predict calls steps <= 0
            raise InSampleError(f"fh must be >= 1 (the number of steps to forecast), got {fh}")
        # before a list of fh steps is made: about 40 bytes a step (an int and its pointer)
        check_output_size(1, int(fh), 3, "series alone", "ask for fewer steps")
        return list(range(1, int(fh) + 1))
    if isinstance(fh, ForecastingHorizon):  # sktime's: its relative steps; stamps name no step of every series
        if not fh.is_relative:
            raise InputError(f"fh names time stamps ({list(fh.to_pandas()[:3])}), but each series is forecast from "
                             "its own end; pass steps after it, e.g. fh=[1, 2, 3]")
        fh = fh.to_numpy()
    bad = InputError(f"fh must be a positive int or a list of steps 1, 2, ...; got {fh!r}")
    # True, 3.0 or "3" are no step counts: refuse them here rather than fail inside list()
    if not isinstance(fh, Iterable) or isinstance(fh, (str, bytes)):
        raise bad
    steps = np.asarray(fh if isinstance(fh, np.ndarray) else list(fh)).ravel()
    if steps.dtype.kind == "m" or (steps.dtype == object and any(isinstance(s, (pd.Timedelta, np.timedelta64))
                                                                   for s in steps)):
        # numpy counts timedelta64 as an integer dtype: durations failed in int() with a bare TypeError
        durations = [str(pd.Timedelta(step)) if isinstance(step, (pd.Timedelta, np.timedelta64)) else step
                     for step in steps[:3]]  # a step among them as it is: Timedelta(1) would read as 1 ns
        raise InputError(f"fh names durations ({durations}), but each series is forecast at its own step; pass "
                         "steps, e.g. fh=[1, 2, 3]")
    if steps.size == 0 or steps.dtype.kind not in "iu":
        raise bad
    if steps.min() < 1:
        raise InSampleError(f"fh must name future steps 1, 2, ... after the end of the data, got {fh!r}; in-sample "
                            "forecasts are not supported")
    check_unique_fh(steps)  # sorting a set of them dropped the second without a word
    return sorted(int(s) for s in steps)


def predict_steps(est: DeepForecaster) -> list[int]:
    """The steps ``est.predict()`` forecasts with no ``fh``: those of the ``fh`` it holds (given to fit, or
    to a later forecast, as sktime keeps it), counted from its cutoff; 1..horizon if it holds none."""
    if est._given_fh() is None:
        return list(range(1, est._horizon_length() + 1))
    try:  # aligned as predict() aligns it: stamps sktime cannot place stay the steps they were
        aligned = est._checked_fh(None, moved_past=False)
        steps = relative_steps(aligned if aligned.is_relative else aligned.to_relative(est.cutoff))
    except InSampleError as err:  # stamps that update() moved the cutoff past
        raise InputError(f"the model's own fh cannot be forecast from its cutoff {est.cutoff[0]} ({err}); pass fh "
                         "(steps after each series' end)") from None
    return sorted({int(step) for step in steps})


def numbered(est: DeepForecaster) -> bool:
    """Whether the model's variates are numbers 0..n-1 (fitted on a NumPy array): they have no names."""
    return list(est.columns_) == list(range(est.n_channels_))


def value_columns(est: DeepForecaster, layout: str, columns: Sequence[str] | None,
                  value_col: str = "y") -> Sequence[str] | None:
    """The value columns to read: ``columns``, or a multivariate model's own names for long files.

    A model fitted on an array has only numbers 0, 1, ...; a file's "0", "1" columns would be a
    guess, so the user names the columns. A long file's ``value_col`` other than the default is
    refused where it would not be read (``columns`` replace it; a multivariate model reads its
    variates' columns), rather than ignored.
    """
    if layout == "long" and value_col != "y" and (columns is not None or est.n_channels_ > 1):
        read = f"columns={list(columns)}" if columns is not None else f"the model's variates {est.columns_}"
        raise InputError(f"value_col={value_col!r} (CLI: --value-col) would not be read: a long file's values are "
                         f"read from {read}; drop value_col, or name the value columns to read with columns= "
                         "(CLI: --columns)")
    if est.n_channels_ == 1:
        return columns
    if layout == "wide":
        # an array-fitted model's variates are numbers, not the file's column names
        fitted, fix = ((f", fitted on an array (numbered {est.columns_})", "and name the file's value columns in the "
                        "fitted order with columns= (CLI: --layout long --columns)") if numbered(est) else
                       ("", f"with columns={est.columns_} (CLI: --layout long --columns "
                            f"{' '.join(map(str, est.columns_))})"))
        raise InputError(f"wide files hold one univariate series per column but the model forecasts "
                         f"{est.n_channels_} variates{fitted}; use layout='long' {fix}")
    if columns is not None:
        return columns
    if numbered(est):
        raise InputError(
            f"the model was fitted on an array, so its {est.n_channels_} variates have no names (numbered "
            f"{est.columns_}); name the file's value columns in the fitted order with columns= (CLI: --columns)"
        )
    return [str(c) for c in est.columns_]


def check_outside_model(target: Path, folder: str | None) -> None:
    """The output is inside no saved model folder, the model's own (``folder``; None: the model is an
    object) or another: a saved folder holds only what ``save`` wrote, and a later ``save`` over it
    refuses a folder holding more."""
    inside = folder if folder is not None and Path(os.path.realpath(folder)) in Path(
        os.path.realpath(target)).parents else saved_folder_holding(target.parent)
    if inside is not None:
        raise InputError(f"{target} is inside the model folder {inside}; write the forecasts elsewhere "
                         "(CLI: --output), so that the folder stays a saved model that a later save can replace")


def check_panel(est: DeepForecaster, panel: pd.DataFrame, steps: list[int], quantiles: list[float] | None = None,
                chunk_size: int = 256) -> None:
    """Everything that would make a chunk fail, checked before any forecasting (``quantiles``: the
    levels checked by :func:`~tsrec.batch._quantiles.check_quantiles`, or None; ``chunk_size``: the
    series forecast together, whose roll-out holds every step up to the last)."""
    if len(panel) == 0:
        raise InputError("the panel is empty; give at least one series")
    if panel.shape[1] != est.n_channels_:
        raise InputError(
            f"the input has {panel.shape[1]} value column(s) {list(panel.columns)} but the model "
            f"forecasts {est.n_channels_} variate(s) {est.columns_}; choose the matching value "
            "columns with columns= (CLI: --columns)"
        )
    _check_variate_names(est, [str(c) for c in panel.columns])
    _check_output_names(panel, quantiles)
    _check_lengths(est, panel)
    runs = panel_runs(panel)  # the usual layout, checked in one pass (see _onepass)
    parts = cache(lambda: split_panel(panel))  # else a frame per series, built once
    _check_steps(est, panel, steps, runs, parts)
    _check_scale(est, panel, runs, parts)
    values = est.n_channels_ * (1 + len(quantiles or ()))  # a column per variate, and per level with quantiles
    n_series = panel.index.get_level_values(0).nunique()
    # the output keeps the steps asked for; a chunk's roll-out computes every step up to the last
    check_output_size(n_series, max(steps), values, n_steps=len(steps))
    check_output_size(min(n_series, chunk_size), max(steps), est.n_channels_, "series of a chunk",
                      row_bytes=ROLLOUT_ROW_BYTES)


def check_panel_rows(panel: pd.DataFrame) -> None:
    """An in-memory panel's rows as :func:`read_series` checks a file's: levels in (id, time) order,
    numbers, no NaN, no repeated stamp, each series in time order; else the model's checks would
    name a symptom (a scale beyond float32's, an uneven step) and a fix for ``y``."""
    ids, times = panel.index.get_level_values(0), panel.index.get_level_values(-1)
    if _holds_times(ids) and not _holds_times(times):
        raise InputError("the panel's index levels are (time, series id); put the series id first: "
                         "panel.swaplevel().sort_index()")
    text = [c for c, dtype in panel.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if text:
        raise InputError(f"the panel's value column(s) {text} hold no numbers (dtypes "
                         f"{[str(panel[c].dtype) for c in text]}); convert them (e.g. panel.apply(pd.to_numeric))")
    values = panel.to_numpy(float)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise InputError(f"the panel has {int(bad.sum())} row(s) with missing (NaN) or infinite values, e.g. series "
                         f"{_key(ids, first)!r} at {times[first]}; fill or drop them before forecasting "
                         "(e.g. panel.groupby(level=0).ffill())")
    missing = times.isna()
    if missing.any():  # else read as a step back in time (sort it) or an uneven step (resample it)
        rows = np.flatnonzero(missing)
        raise InputError(f"the panel has {len(rows)} row(s) with a missing time stamp (NaT), e.g. series "
                         f"{_key(ids, int(rows[0]))!r} at row {int(rows[0])}; drop those rows or fill in their stamps")
    repeated = panel.index.duplicated()
    if repeated.any():
        first = int(np.argmax(repeated))
        raise InputError(f"the panel's series {_key(ids, first)!r} has time stamp {times[first]} more than once; "
                         "drop or aggregate the repeats (e.g. panel.groupby(level=[0, 1]).mean())")
    _check_time_order(ids, times)
    names = [f"{c}_hat" for c in panel.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # a Parquet writer refuses them, a CSV reader renames one ('1_hat.1')
        raise InputError(f"the panel's value columns {list(panel.columns)} would name forecast columns {repeated} "
                         "more than once; give the variates names that differ as text (and fit the model on them)")


def _key(ids: pd.Index, row: int) -> object:
    """Row ``row``'s series id as the user wrote it: 1, not np.int64(1)."""
    key = ids[row]
    return key.item() if isinstance(key, np.generic) else key


def _holds_times(level: pd.Index) -> bool:
    return isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex))


def _check_time_order(ids: pd.Index, times: pd.Index) -> None:
    codes = pd.factorize(ids)[0]
    order = np.argsort(codes, kind="stable")  # each series' rows together, in their given order
    stamps = times.asi8 if hasattr(times, "asi8") else times.to_numpy()
    try:
        back = (stamps[order][1:] < stamps[order][:-1]) & (codes[order][1:] == codes[order][:-1])
    except TypeError:  # stamps of no order (e.g. text): the model's own checks name them
        return
    if back.any():
        row = order[int(np.argmax(back)) + 1]
        raise InputError(f"the panel's series {_key(ids, row)!r} is not in time order (at {times[row]}); sort it "
                         "first: panel.sort_index()")


def _check_output_names(panel: pd.DataFrame, quantiles: list[float] | None) -> None:
    """The output names a value column's forecasts ``<column>_hat`` (and ``<column>_q<level>``): an id or
    time column of that name would make two columns of one name, found only once every series was forecast."""
    outputs = {name: column for column in panel.columns for name in output_columns([column], quantiles)}
    for role, name in zip(("id", "time"), panel.index.names):
        if name in outputs:
            raise InputError(
                f"the {role} column {name!r} has the name the output gives the forecasts of {outputs[name]!r}; "
                f"rename it (and pass the new name as {role}_col=, CLI: --{role}-col)"
            )


def _check_variate_names(est: DeepForecaster, names: list[str]) -> None:
    """A multivariate model's variates by name and order, as predict checks them."""
    if not variates_match(est, names):
        raise InputError(
            f"the input's value columns {names} are not the model's variates {[str(c) for c in est.columns_]} in "
            "the same order; name them in that order with columns= (CLI: --columns)"
        )


def _check_lengths(est: DeepForecaster, panel: pd.DataFrame) -> None:
    lookback = est._lookback_length()
    lengths = panel.groupby(level=0, sort=False).size()
    short = lengths[lengths < lookback]
    if len(short):
        listed = ", ".join(f"{key!r} ({n} rows)" for key, n in short.iloc[:10].items())
        more = f" and {len(short) - 10} more" if len(short) > 10 else ""
        raise InputError(
            f"{len(short)} series {'is' if len(short) == 1 else 'are'} shorter than the model's lookback of "
            f"{lookback} rows: {listed}{more}; give each series at least {lookback} rows or drop the short ones"
        )


def _check_steps(est: DeepForecaster, panel: pd.DataFrame, ahead: list[int], runs: Runs | None,
                 parts: Callable[[], list]) -> None:
    """Each series' step as ``predict`` reads it: a model that reads the stamps (CycleNet's cycle,
    time features) needs the fitted step, and a series of two stamps off the fitted grid tells none;
    the forecasts' stamps must fit their type (int64 integers, date-times in their unit). Found chunk
    by chunk, any of these would stop a run after other chunks had been forecast."""
    _check_time_kind(est, panel)
    try:
        grid = fitted_grid(est, panel, runs)
        if grid is not None:
            check_room_on_grid(grid, ahead)
            return
        with warnings.catch_warnings():  # the chunks warn of an unfitted step, once (see forecast_panel)
            warnings.simplefilter("ignore")
            steps = context_steps(est, parts())
        for (key, df), step in zip(parts(), steps):
            if pd.api.types.is_integer_dtype(df.index.dtype):
                check_integer_room(int(df.index[-1]), int(step), np.asarray(ahead))
        dated = [(df.index[-1:], step) for (_, df), step in zip(parts(), steps)
                 if isinstance(df.index, pd.DatetimeIndex)]
        # the furthest stamp of each, as predict makes it (series ending alike share one)
        future_indexes([end for end, _ in dated], [step for _, step in dated], [np.asarray([max(ahead)])] * len(dated))
    except InputError as err:
        raise InputError(f"the input: {err}") from None


def _check_time_kind(est: DeepForecaster, panel: pd.DataFrame) -> None:
    """Integer steps where a model that reads the stamps was fitted on date-times, or the reverse, said
    in terms of the file's time column (``predict``'s message speaks of ``y`` and a pd.date_range fix)."""
    fitted = getattr(est, "_fit_step", None)
    if fitted is None or not uses_stamps(est.network_meta_):
        return
    column = f"time column {panel.index.names[-1]!r}" if panel.index.names[-1] is not None else "time column"
    integers = pd.api.types.is_integer_dtype(panel.index.get_level_values(-1).dtype)
    what = stamp_use(est.network_meta_)
    if integers and not isinstance(fitted, int):
        raise InputError(f"the input's {column} holds integer steps, but the model was fitted on date-time stamps "
                         f"(step {step_text(fitted)!r}) and reads them ({what}); write the series' date-times in the "
                         f"{column} (e.g. 2024-01-01 00:00), at the fitted step")
    if not integers and isinstance(fitted, int):
        raise InputError(f"the input's {column} holds date-time stamps, but the model was fitted on integer steps "
                         f"and reads {what} from them; write integer steps in the {column}, as in the data it was "
                         "fitted on")


def _check_scale(est: DeepForecaster, panel: pd.DataFrame, runs: Runs | None, parts: Callable[[], list]) -> None:
    """Contexts beyond float32's range once scaled, named by series: forecasting would find them
    chunk by chunk, on Dask after other chunks had run."""
    lookback = est._lookback_length()
    if est.series_scales_ is None:  # one scaler: the last rows of every series at once, no frame per series
        last = panel.groupby(level=0, sort=False).tail(lookback)
        scales = row_scales(est, None, len(last))
        check_scaled(standardised(last.to_numpy(float), *scales), "the input",
                     list(last.index.get_level_values(0)))
        return
    if runs is not None:
        check_scaled(scaled_last_rows(est, panel, runs, lookback), "the input", list(runs.keys))
        return
    split = parts()  # a series not fitted is standardised by all its rows
    check_scaled(scaled_contexts(scales_of(est, split), split, lookback), "the input", [key for key, _ in split])


def _zone_change_fix(est: DeepForecaster) -> str:
    """For a naive model, stamps whose offsets change: a model that reads no stamps takes UTC hours
    (evenly spaced); one that reads them learned local hours, which only a zoned fit can follow."""
    if uses_stamps(est.network_meta_):
        return (f"the model reads {stamp_use(est.network_meta_)} from the local hours it was fitted on; fit it on "
                "stamps with their time zone, and it reads these files as they are")
    return "the model reads no stamps, so write them in UTC without offsets (e.g. 2024-07-05 11:00 for 13:00+02:00)"


def in_model_zone(est: DeepForecaster, panel: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with stamps without a zone read in the zone of a model fitted on zoned stamps.

    Files of daily data whose UTC offsets change with daylight saving time are read as local
    wall-clock stamps without a zone (see ``common_time_zone``), and files may hold no offsets at
    all; a model fitted on zoned stamps refuses naive ones, so they are taken as its zone's
    wall-clock time, which is what such a file shows.
    """
    zone = est._fitted_zone()
    stamps = panel.index.levels[-1]
    if (zone is None and isinstance(stamps, pd.DatetimeIndex) and stamps.tz is not None
            and isinstance(time_level(est._y), pd.DatetimeIndex)):
        # the estimator's own message names pandas calls on y, which a command-line user has not got
        raise InputError(
            f"the time stamps are in {stamps.tz} (they carry UTC offsets) but the model was fitted on stamps without "
            "a time zone; write them as the local times the model was fitted on, without offsets "
            f"(e.g. 2024-01-05 13:00). Where the offsets change (daylight saving time), local hours skip or repeat "
            f"one and are refused as uneven: {_zone_change_fix(est)}"
        )
    if zone is None or not isinstance(stamps, pd.DatetimeIndex) or stamps.tz is not None:
        return panel
    stamps = panel.index.get_level_values(-1)
    local = wall_clock_in(stamps, zone, f"the model was fitted in {zone}", ids=panel.index.get_level_values(0))
    levels = [panel.index.get_level_values(i) for i in range(panel.index.nlevels - 1)]
    return panel.set_axis(pd.MultiIndex.from_arrays([*levels, local], names=panel.index.names), axis=0)
