"""``update`` of a fitted forecaster: new rows checked and put in the fitted terms before sktime stores them.

sktime's ``update`` stores the rows it is given beside the stored ones by column name and index
level name, and returns later forecasts in the container it saw last. tsrec hands it the rows as
a frame in the fitted terms (the fitted variate and index level names), so that rows named
otherwise continue the fitted variates and series instead of becoming new ones or failing inside
pandas after the cutoff has moved, and then puts back the user's container.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tsrec._checks import check_flag
from tsrec.estimators import _newdata
from tsrec.estimators._scale_statistics import standardised
from tsrec.estimators._scaling import row_scales
from tsrec.estimators._series import (
    FhLike, SeriesLike, as_flat, check_raw_y, fitted_series_name, run_keys, run_starts,
)
from tsrec.estimators._steps import cutoff_with_step, held_steps, in_fitted_zone
from tsrec.estimators._variates import check_variates
from tsrec.estimators.errors import InputError


def is_empty(y: object) -> bool:
    """Whether ``y`` holds no rows (None too): sktime's ``update`` then warns and changes nothing,
    and its ``update_predict_single`` forecasts without updating. A numpy3D panel's rows are its
    last axis, a df-list's the rows of its frames (their lengths count series)."""
    if isinstance(y, np.ndarray) and y.ndim == 3:
        return y.shape[-1] == 0
    if isinstance(y, list) and y and all(isinstance(part, pd.DataFrame) for part in y):
        return all(len(part) == 0 for part in y)
    return y is None or (hasattr(y, "__len__") and len(y) == 0)


def with_fitted_freq(y: object, est) -> object:
    """``y`` whose date-time stamps carry the fitted ``est``'s step where they carry none.

    sktime's ``update_predict`` sets the cutoff one step before ``y``'s first stamp by shifting that
    stamp with its index's freq, which it infers only from three stamps or more of a single series:
    one or two new rows, or a panel whose stamps carry no freq (as read from a file), failed with
    pandas' ``NullFrequencyError: Cannot shift with no freq``. Stamps off the fitted step get
    ``update``'s refusal here, before sktime's shift fails on them; a panel whose series' rows are
    each on the step but apart (series ending on other days) gets a time level of every stamp between.
    A panel on no one grid of the step (series at other times of day), or whose series step differently,
    is refused: sktime moves one cutoff for the whole panel.
    """
    if not est.is_fitted:
        return y
    steps = {step for step in held_steps(est).values() if isinstance(step, pd.DateOffset)}
    freq = getattr(est.cutoff, "freq", None) or (steps.pop() if len(steps) == 1 else None)
    if not isinstance(y, (pd.Series, pd.DataFrame)) or len(y) == 0:
        return y
    multi = isinstance(y.index, pd.MultiIndex)
    stamps = y.index.levels[-1] if multi else y.index
    if not isinstance(stamps, pd.DatetimeIndex) or stamps.freq is not None:
        return y
    if freq is None and multi and len(steps) > 1:  # sktime's shift failed with pandas' NullFrequencyError
        raise InputError(
            f"update_predict cannot step through y: the fitted series step differently "
            f"({', '.join(sorted(step.freqstr for step in steps))}), and sktime's update_predict moves one cutoff for "
            "the whole panel by one step; call update(y_window) and predict(fh) for each window instead, or fit a "
            "model on the series of each step"
        )
    if freq is None:
        return y
    try:
        stamped = pd.DatetimeIndex(stamps, freq=freq)
    except ValueError:  # off the fitted step: update's refusal says where
        checked_rows(est, y)
        # each series' rows on the step, the panel's apart (series ending on other days): the level
        # becomes every stamp from the first to the last, which carries the step (its unused ones are harmless)
        grid = _stamps_between(stamps, freq, len(y)) if multi else None
        if grid is None:
            if multi:  # sktime's shift of the first stamp failed with pandas' NullFrequencyError
                raise InputError(_no_common_grid(stamps, freq))
            return y
        index = pd.MultiIndex(levels=[*y.index.levels[:-1], grid], names=y.index.names,
                              codes=[*y.index.codes[:-1], grid.get_indexer(y.index.get_level_values(-1))])
    else:
        index = y.index.set_levels(stamped, level=-1) if multi else stamped
    y = y.copy(deep=False)
    y.index = index
    return y


def _no_common_grid(stamps: pd.DatetimeIndex, freq: object) -> str:
    """The refusal of an ``update_predict`` panel whose series' stamps lie on no one grid of ``freq``
    (series at other times of day), or on one too sparse to lay out."""
    return (f"update_predict cannot step through y: its series' time stamps ({stamps[0]} ... {stamps[-1]}) lie on no "
            f"one grid of the fitted step {freq.freqstr} (series at other times of day, or far apart), and sktime's "
            "update_predict moves one cutoff for the whole panel by that step; call update(y_window) and "
            "predict(fh) for each window instead, or give every series stamps on one grid")


def _stamps_between(stamps: pd.DatetimeIndex, freq: object, n_rows: int) -> pd.DatetimeIndex | None:
    """Every stamp at ``freq`` from the first of ``stamps`` to the last, holding all of them; None where
    they are off that grid or it would hold far more stamps than the ``n_rows`` rows."""
    try:
        grid = pd.date_range(stamps.min(), stamps.max(), freq=freq)
    except (ValueError, OverflowError):
        return None
    if len(grid) > 100 * n_rows + 10_000 or grid.get_indexer(stamps).min() < 0:
        return None
    return grid


def check_remembers_data(est) -> None:
    """tsrec forecasts from the end of the series sktime stores, so its config must keep them."""
    if not est.get_config()["remember_data"]:
        raise ValueError(
            f"{type(est).__name__} has sktime's config remember_data=False, but tsrec forecasters forecast "
            "from the end of the stored data and need it stored; call est.set_config(remember_data=True) "
            "(the default), or to keep a pickle small save the model with est.save(folder), which keeps "
            "only the last lookback rows"
        )


def checked_rows(est, y: object) -> tuple[pd.DataFrame, str]:
    """The rows ``y`` of ``est.update`` as a frame in the fitted terms, and the sktime mtype of ``y``.

    Raises (before anything in ``est`` changes) if they are not the fitted variates or do not
    continue the stored series.
    """
    _check_no_empty_frame(y)
    y = in_fitted_zone(y, est._y)  # before the spacing checks: a zone's days take 23 or 25 hours at a change
    mtype = check_raw_y(y)
    inner = as_flat(y, mtype)
    check_variates(est, inner, named=not isinstance(y, np.ndarray))
    if isinstance(y, np.ndarray):
        inner = _newdata.stamp_new_rows(y, est._y, est.columns_, held_steps(est))
    # the fitted names: a univariate model takes a Series of any name, and a model fitted on an
    # array numbers its columns; sktime would store other names as new variates beside them
    inner = inner.set_axis(est.columns_, axis=1)
    if inner.index.nlevels == est._y.index.nlevels:
        # sktime joins a panel's rows by level name, and pd.concat(dict) leaves the levels unnamed
        inner = inner.set_axis(inner.index.set_names(est._y.index.names), axis=0)
    _newdata.check_update_rows(est._y, inner, held_steps(est))
    _check_scale(est, inner)
    return inner, mtype


def _check_no_empty_frame(y: object) -> None:
    """A df-list update with some frames empty (all empty is no update, :func:`is_empty`): fit's refusal
    of an empty frame asked for lookback + horizon rows, and a list cannot leave a series out."""
    if not (isinstance(y, list) and all(isinstance(part, pd.DataFrame) for part in y)):
        return
    empty = [i for i, part in enumerate(y) if len(part) == 0]
    if empty:
        raise InputError(
            f"y[{empty[0]}] is empty: a list of frames gives the fitted series their new rows in order, one frame "
            "each; to update only the series that have new rows, pass them as a pd-multiindex panel whose first "
            "level holds their numbers (0, 1, ...), e.g. pd.concat({0: new_rows_of_series_0})"
        )


def _check_scale(est, inner: pd.DataFrame) -> None:
    """The new rows, standardised as the network will read them, must fit float32; the message
    names the series. All rows at once, each by its series' fitted statistics."""
    keys = list(inner.index.droplevel(-1)) if isinstance(inner.index, pd.MultiIndex) else None
    scales = row_scales(est, keys, len(inner))
    _newdata.check_scaled(standardised(inner.to_numpy(float), *scales), "update's y", keys)


def series_store(est, y: object) -> dict:
    """sktime's converter store for forecasts after ``update(y)``: as a Series they carry the
    fitted variate's name. After a frame update sktime's store has lost the name fit gave it, so
    a Series update then takes it from ``columns_``."""
    store = dict(est._converter_store_y)
    if isinstance(y, pd.Series) and "name" not in store:
        store["name"] = fitted_series_name(est.columns_[0])
    return store


def keep_container(est, mtype: str, store: dict) -> None:
    """After sktime's ``update`` saw tsrec's frame: forecasts come back in the container of the
    user's ``y`` (of ``mtype``), a Series under the name in ``store`` (:func:`series_store`)."""
    est._y_metadata = {**est._y_metadata, "mtype": mtype}
    est._y_mtype_last_seen = mtype
    if mtype == "pd.Series":
        est._converter_store_y = store


def in_stored_order(stored: pd.DataFrame, merged: pd.DataFrame) -> pd.DataFrame:
    """``merged`` (sktime's store of ``stored`` and new rows, which sorts a panel by its series keys)
    with its series back in ``stored``'s order, the order ``fit`` saw: forecasts list the series in
    it, and a refit (``update_params=True``) reads its windows in it. Each series' rows stay in time
    order. Update takes no new series (:func:`checked_rows`), so every key has a place."""
    if not isinstance(merged.index, pd.MultiIndex):
        return merged
    stored_starts, merged_starts = run_starts(stored.index), run_starts(merged.index)
    if stored_starts is None or merged_starts is None:  # interleaved rows: each row's series placed (~1 s a 1M rows)
        place = stored.index.droplevel(-1).unique().get_indexer(merged.index.droplevel(-1))
    else:  # each run of rows placed: 30x faster
        series_place = run_keys(stored.index, stored_starts).get_indexer(run_keys(merged.index, merged_starts))
        place = np.repeat(series_place, np.diff(np.append(merged_starts, len(merged))))
    if (np.diff(place) >= 0).all():  # sorted keys: sktime kept the order
        return merged
    return merged.take(np.argsort(place, kind="stable"))


class StoredDataUpdates:
    """sktime's hooks of ``update`` for forecasters that refit on all the data they store, and
    ``update_predict_single`` made all or nothing."""

    def update_predict_single(
        self, y: SeriesLike | None = None, fh: FhLike = None, X: SeriesLike | None = None,
        update_params: bool = True,
    ) -> SeriesLike:
        """:meth:`update` with ``y``, then :meth:`predict` ``fh``: checked as ``update`` is, and all or
        nothing (sktime's own version stores ``y`` before any check; its ``update_predict`` calls
        this for every window).

        Parameters
        ----------
        y : pandas.Series, pandas.DataFrame, numpy.ndarray or None, default=None
            The new rows, as for :meth:`update`; None or empty forecasts without updating
            (sktime warns).
        fh : int, list, range, numpy.ndarray, pandas.Index, ForecastingHorizon or None, default=None
            Steps to forecast after the new cutoff, as for :meth:`predict`.
        X : pandas.DataFrame, pandas.Series, numpy.ndarray or None, default=None
            Exogenous data: accepted for sktime's interface and ignored; no tsrec forecaster reads it.
        update_params : bool, default=True
            As for :meth:`update`.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The forecast, as :meth:`predict` returns it.
        """
        if is_empty(y):  # sktime warns and forecasts without updating (None: what it sees as empty)
            return super().update_predict_single(y=None, fh=fh, X=X, update_params=update_params)
        with unchanged_on_error(self):
            self.update(y, X=X, update_params=update_params)
            return self.predict(fh=fh, X=X)

    def update_predict(self, y: SeriesLike, cv: object = None, X: SeriesLike | None = None, update_params: bool = True,
                       reset_forecaster: bool = True) -> SeriesLike:
        """sktime's ``update_predict``, all or nothing with ``reset_forecaster=False`` too.

        sktime then moves the cutoff back and updates this forecaster window by window, so a
        window refused part-way left it changed (rows stored, the cutoff before the data).

        Parameters
        ----------
        y, cv, X, update_params, reset_forecaster
            As in sktime's ``update_predict``.

        Returns
        -------
        pandas.Series, pandas.DataFrame or numpy.ndarray
            The forecasts of every window, as sktime returns them.
        """
        update_params = check_flag("update_params", update_params)
        if not is_empty(y):  # NaN rows got sktime's "cannot handle missing data", without where or a fix
            check_raw_y(y)
            y = with_fitted_freq(y, self)
        if check_flag("reset_forecaster", reset_forecaster):  # sktime works on a copy
            return super().update_predict(y, cv=cv, X=X, update_params=update_params, reset_forecaster=True)
        with unchanged_on_error(self):
            return super().update_predict(y, cv=cv, X=X, update_params=update_params, reset_forecaster=False)

    def _update_y_X(self, y, X=None, enforce_index_type=None):  # noqa: N802 - sktime's name
        stored = self._y if self.is_fitted else None
        super()._update_y_X(y, X, enforce_index_type)
        if stored is not None:
            self._y = in_stored_order(stored, self._y)
            # sktime set it from the new rows alone: rows of some series of a panel moved it back
            self._set_cutoff_from_y(self._y)
            cutoff_with_step(self)

    def _update(self, y, X=None, update_params: bool = True):
        """With ``update_params``, refit on all stored data, as ``fit`` on it does. sktime's default
        refits through the public ``fit``, which checks the stored data again (seconds for a panel
        of many series whose ids are not sorted) and warns that it refits."""
        if update_params:
            self._fit(self._y, X=self._X, fh=self._fh)
        return self


@contextlib.contextmanager
def unchanged_on_error(est) -> Iterator[None]:
    """Put every attribute of ``est`` back as it was if the block raises.

    sktime stores new rows and moves the cutoff before a refit or forecast that may still fail;
    a refused call must leave the forecaster as it was. The attributes are replaced, not changed
    in place, by update and fit, except dicts such as sktime's converter store: those are copied.
    """
    before = {key: dict(value) if isinstance(value, dict) else value for key, value in vars(est).items()}
    try:
        yield
    except BaseException:
        vars(est).clear()
        vars(est).update(before)
        raise
