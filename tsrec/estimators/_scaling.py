"""How a forecaster standardises its series before the network reads them.

``scaling="series"`` (the default): each series of a panel by the mean and standard deviation
of its own training rows (neuralforecast's ``local_scaler_type``, darts' per-series ``Scaler``),
so that series of very different levels and spreads look alike to one global network. A new
context (``predict(y=...)``, batch files) of a series that was not fitted is standardised by the
rows given for it; a fitted series keeps its fitted statistics. ``scaling="global"``: one
scaler fitted on the training rows of every series. A model fitted on one series has one
scaler either way, the benchmark protocol's.

``scaler="standard"`` (the default) centres by the mean and divides by the standard deviation;
``scaler="robust"`` by the median and the interquartile range (:mod:`._scale_statistics`).

Every path goes through :class:`Scales`, the (centre, scale) of each series of a list of parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import RobustScaler, StandardScaler

from tsrec._ids import id_text
from tsrec._warn import warn_user
from tsrec.estimators._params import check_choice
from tsrec.estimators._scale_statistics import (
    Scales, group_moments, own_scales, robust_scaler, scaler_centre, standard_scaler,
)

SCALINGS = ("global", "series")
SCALERS = ("standard", "robust")


#: a series whose spread is this many times below the spread of all series together comes out of
#: the one global scaler nearly constant (next to series of other spreads or levels), and the
#: network's small errors on it grow by the global spread (benchmarks/results/panel_scaling.md, and
#: docs/forecasting.md for the ratios it measured: the harm grows with the spread ratio without a
#: break); 100 warns where it is large
SCALE_SPREAD = 1e2

#: sktime containers whose series carry no ids: their series are numbered 0, 1, ...
ID_LESS_MTYPES = ("numpy3D", "df-list")


def check_scaling(value: object) -> str:
    """``scaling`` is one of :data:`SCALINGS`."""
    return check_choice("scaling", value, SCALINGS)


def check_scaler(value: object) -> str:
    """``scaler`` is one of :data:`SCALERS`."""
    return check_choice("scaler", value, SCALERS)


def check_scale_params(est) -> None:
    """A forecaster's ``scaling`` and ``scaler``, before it reads any data."""
    check_scaling(est.scaling)
    check_scaler(est.scaler)


def series_scales_frame(scales: Scales, keys: list, key_names: list, columns: list, scaler: str = "standard"
                        ) -> pd.DataFrame:
    """The fitted ``series_scales_``: a row per series key, columns ("mean" | "scale", variate), or
    ("median" | "scale", variate) with ``scaler="robust"``."""
    index = pd.Index(keys, tupleize_cols=True, name=key_names[0] if len(key_names) == 1 else None)
    if isinstance(index, pd.MultiIndex):
        index = index.set_names(key_names)
    columns = pd.MultiIndex.from_product([["median" if scaler == "robust" else "mean", "scale"], columns])
    return pd.DataFrame(np.hstack([scales.centre, scales.scale]), index=index, columns=columns)


def fit_scales(parts: list, cuts: list[int], columns: list, key_names: list, scaling: str, scaler: str
               ) -> tuple[StandardScaler | RobustScaler | None, pd.DataFrame | None]:
    """The fitted ``scaler_`` and ``series_scales_`` from the training rows (the first ``cuts[i]``
    of series ``i``), each with the statistics ``scaler`` names.

    One series, or ``scaling="global"``: a scikit-learn scaler of every training row, and None
    (the global scaler warns of series it would squeeze, :func:`warn_mixed_scales`). A panel with
    ``scaling="series"``, of one series too: None, and each series' own statistics (so that a
    series not fitted is standardised by its own rows, as with more series).
    """
    train_parts = [df.to_numpy(float)[:cut] for (_, df), cut in zip(parts, cuts)]
    keys = [key for key, _ in parts]
    if scaling == "series" and keys != [None]:
        warn_constant_variates(train_parts, keys, columns)
        return None, series_scales_frame(own_scales(train_parts, scaler), keys, key_names, columns, scaler)
    train_rows = np.concatenate(train_parts)
    warn_constant_variates([train_rows], [None], columns)
    fitted = robust_scaler(train_rows) if scaler == "robust" else standard_scaler(train_rows)
    warn_mixed_scales(train_rows, keys, cuts, columns, fitted.scale_)
    return fitted, None


def fitted_keys(est, mtype: str, n_series: int) -> bool:
    """Whether the keys of new data's series name ``est``'s fitted series. An id-less container
    numbers its series 0, 1, ...: they are the fitted series only when it holds as many (its
    series ``i`` is fitted series ``i``, as ``update`` takes them); a subset's numbers would name
    others, so its series are standardised as series not fitted."""
    fitted = est.series_scales_
    return mtype not in ID_LESS_MTYPES or fitted is None or n_series == len(fitted)


def scales_of(est, parts: list, keys_fitted: bool = True) -> Scales:
    """The statistics that standardise each series of ``parts`` for the fitted ``est``: the global
    scaler's, or with per-series scaling each fitted series' own, and for a series ``est`` was not
    fitted on (all of them unless ``keys_fitted``) those of the rows given for it."""
    scales, known = fitted_scales(est, parts, keys_fitted)
    if not known.all():
        new = [(key, df.to_numpy(float)) for (key, df), seen in zip(parts, known) if not seen]
        scales.centre[~known], scales.scale[~known] = own_scales([values for _, values in new], est.scaler)
        warn_constant_contexts(new, est.columns_)
    return scales


def fitted_scales(est, parts: list, keys_fitted: bool = True) -> tuple[Scales, np.ndarray]:
    """The fitted statistics of each series of ``parts``, and which series have them: all with one
    global scaler; with per-series scaling the fitted series (the others' rows are left unset;
    none is fitted unless ``keys_fitted``)."""
    fitted = est.series_scales_
    if fitted is None:
        return _global_scales(est, len(parts)), np.ones(len(parts), dtype=bool)
    keys = [key for key, _ in parts]
    rows = fitted_rows(fitted.index, keys) if keys_fitted else np.full(len(keys), -1)
    known = rows >= 0
    mean = np.empty((len(parts), est.n_channels_))
    scale = np.empty_like(mean)
    mean[known], scale[known] = _rows_of(fitted, rows[known])
    return Scales(mean, scale), known


def _global_scales(est, n: int) -> Scales:
    """The one global scaler's statistics for ``n`` series or rows (views, not copies)."""
    shape = (n, est.n_channels_)
    return Scales(np.broadcast_to(scaler_centre(est.scaler_), shape), np.broadcast_to(est.scaler_.scale_, shape))


def _rows_of(fitted: pd.DataFrame, rows: np.ndarray) -> Scales:
    """Rows ``rows`` of the fitted ``series_scales_`` as statistics."""
    return Scales(*np.split(fitted.to_numpy()[rows], 2, axis=1))


def fitted_rows(index: pd.Index, keys: list) -> np.ndarray:
    """Each key's row in the fitted statistics' ``index``, -1 for a series not fitted. Batch files
    read ids as text, so a text key that is no fitted key matches the one fitted key spelled as
    it: as batch files spell ids (:func:`tsrec._ids.id_text`: 7.0 as "7") or as ``str`` does (and
    ``to_csv`` writes them: "7.0"); an integer key also as ``to_csv`` writes it once pandas made its
    column float (a merge or a gap did): 7 as "7.0", which a Parquet file's 7.0 already matched."""
    row_of = dict(zip(index, range(len(index))))
    rows = np.array([row_of.get(key, -1) for key in keys], dtype=np.int64)
    unmatched = [i for i, key in enumerate(keys) if rows[i] < 0 and isinstance(key, str)]
    if unmatched and not isinstance(index, pd.MultiIndex):
        as_text: dict[str, set[int]] = {}
        spellings = [id_text(pd.Series(index)).tolist(), [str(key) for key in index]]
        if pd.api.types.is_integer_dtype(index.dtype):
            spellings.append([f"{key}.0" for key in index])
        for row, texts in enumerate(zip(*spellings)):
            for text in texts:
                as_text.setdefault(text, set()).add(row)
        for i in unmatched:
            found = as_text.get(keys[i], set())
            rows[i] = next(iter(found)) if len(found) == 1 else -1
    return rows


def row_scales(est, keys: list | None, n_rows: int) -> Scales:
    """The fitted statistics of each of ``n_rows`` rows of fitted series (``keys``: each row's
    series, None for one series): a row per row of data."""
    fitted = est.series_scales_
    if fitted is None:
        return _global_scales(est, n_rows)
    rows = fitted_rows(fitted.index, keys)
    if (rows < 0).any():  # callers pass rows of fitted series only (update checks them first)
        raise ValueError(f"series {keys[int(np.argmax(rows < 0))]!r} was not fitted")
    return _rows_of(fitted, rows)


def _constant_variates(parts: list[np.ndarray], keys: list, columns: list) -> list[tuple]:
    """(key, column, value) of each variate constant over the rows of one of ``parts``."""
    return [(key, column, part[0, c]) for key, part in zip(keys, parts) if len(part)
            for c, column in enumerate(columns) if part[:, c].min() == part[:, c].max()]  # ptp overflows at 1e308


def warn_constant_variates(parts: list[np.ndarray], keys: list, columns: list) -> None:
    """Warn when a variate is constant over a standardisation's rows (each of ``parts``, the training
    rows of one series, or of all of them for the global scaler): it gets scale 1, standardises to all
    zeros, and the network's output for it, whatever training left there, comes back in the data's
    own units, however small the level (ARNet, at its lr and batch size before 2026-12-05, forecast a
    series of 1e-9 at about -0.34)."""
    found = _constant_variates(parts, keys, columns)
    if not found:
        return
    key, column, value = found[0]
    where = f"variate {column!r} of y" + ("" if key is None else f" (series {key!r})")
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    warn_user(
        f"{where}{more} is constant over the training rows (every value {value:.6g}): standardised, it is "
        "all zeros, so the network learns nothing of it, and its forecast is that value plus what the "
        "network outputs there, in the data's own units whatever the level; forecast a constant variate "
        "as its value, or drop it from y",
        RuntimeWarning,
    )


def warn_constant_contexts(new: list[tuple], columns: list) -> None:
    """Warn when a series not fitted, standardised by the rows given for it (``new``: (key, rows)
    pairs), is constant in a variate there: as for a constant training variate
    (:func:`warn_constant_variates`), its forecast is the network's output for zeros in the data's
    own units (a new series of 1e-9 was forecast between -0.33 and 0.16 by small ARNet and LS4 models)."""
    found = _constant_variates([rows for _, rows in new], [key for key, _ in new], columns)
    if not found:
        return
    key, column, value = found[0]
    # the series in one parenthesis: batch forecasting shows one warning of this kind (_warn.each_kind_once)
    # whichever series and how many each chunk names
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    where = "y" if key is None else f"a series of y (series {key!r}{more})"
    warn_user(
        f"{where}, not one the model was fitted on, is constant in variate {column!r} over the rows given for it "
        f"(every value {value:.6g}): standardised by its own rows, it is all zeros, and its forecast is that value "
        "plus what the network outputs for zeros, in the data's own units whatever the level; forecast a constant "
        "series as its value",
        RuntimeWarning,
    )


def warn_mixed_scales(rows: np.ndarray, keys: list, counts: list[int], columns: list, scale: np.ndarray) -> None:
    """Warn when a series of a panel (``counts`` consecutive ``rows`` each, named by ``keys``) has a
    spread :data:`SCALE_SPREAD` or more times below the global ``scale`` in a variate, with the fix."""
    if len(keys) < 2:
        return
    _, var = group_moments(rows, counts)
    spread = np.sqrt(var)
    narrow = (spread > 0) & (spread * SCALE_SPREAD <= scale)  # a constant series is not squeezed: it has no spread
    for channel, column in enumerate(columns):
        if not narrow[:, channel].any():
            continue
        worst = int(np.argmin(np.where(narrow[:, channel], spread[:, channel], np.inf)))
        others = int(narrow[:, channel].sum()) - 1
        warn_user(
            f"series {keys[worst]!r} of y{f' (and {others} more)' if others else ''} has a spread (std "
            f"{spread[worst, channel]:.3g} in variate {column!r}) {scale[channel] / spread[worst, channel]:.3g} times "
            f"below that of all series together ({scale[channel]:.3g}), which differ in spread or level: one scaler "
            "for all leaves it nearly constant to the network, and its forecasts can be far off; standardise each "
            "series on its own with scaling='series'",
            RuntimeWarning,
        )
        return
