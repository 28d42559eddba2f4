"""A saved forecaster's values as JSON and back: time indexes, ``fh``, scaler statistics, column
names, series keys and positions. The readers check what they read, so that a folder not written by
tsrec (its checksums recomputed) is refused with a :class:`LoadError` instead of loading wrong values.
"""

from __future__ import annotations

import datetime
import reprlib
import zoneinfo

import numpy as np
import pandas as pd

from tsrec.estimators.errors import LoadError


TUPLE_MARK = "__tuple__"
#: a dict whose keys are not all strings (a classifier's class_weight by integer labels), as [key, value] pairs:
#: JSON writes every key as a string, and {1: 9.0} would load as {"1": 9.0}, which names no class
ITEMS_MARK = "__items__"


def params_to_json(value: object) -> object:
    """Parameters with each tuple marked: JSON writes tuples as lists, and a loaded estimator's
    ``get_params`` must equal the saved one's (``hidden_layers=()`` is no ``[]``). NumPy scalars
    (a grid search's np.arange values) become the Python numbers they equal."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {TUPLE_MARK: [params_to_json(v) for v in value]}
    if isinstance(value, list):
        return [params_to_json(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {ITEMS_MARK: [[params_to_json(k), params_to_json(v)] for k, v in value.items()]}
        return {k: params_to_json(v) for k, v in value.items()}
    return value


def params_from_json(value: object) -> object:
    """Inverse of :func:`params_to_json` (folders saved before the marks keep their lists)."""
    if isinstance(value, dict) and list(value) == [TUPLE_MARK] and isinstance(value[TUPLE_MARK], list):
        return tuple(params_from_json(v) for v in value[TUPLE_MARK])
    if isinstance(value, dict) and list(value) == [ITEMS_MARK] and isinstance(value[ITEMS_MARK], list):
        return _dict_of_items(value[ITEMS_MARK])
    if isinstance(value, list):
        return [params_from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: params_from_json(v) for k, v in value.items()}
    return value


def _dict_of_items(items: list) -> dict:
    """The dict of :data:`ITEMS_MARK`'s pairs, checked: a hand-edited config gets a LoadError."""
    if not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int, float, bool, type(None)))
               for item in items):
        raise LoadError(f"a saved dict's items {reprlib.repr(items)} are not [key, value] pairs of simple keys; the "
                        "file was not written by tsrec")
    return {key: params_from_json(item) for key, item in items}


def tz_to_json(index: pd.DatetimeIndex) -> str | None:
    """The stamps' time zone as a name ``tz_convert`` reads back to the same wall-clock times.

    ``str(tz)`` is such a name for zoneinfo, pytz and datetime.timezone zones, but not for
    dateutil's fixed zones (``tzutc()``, ``tzoffset(None, 3600)``, ``tzfile('/usr/share/zoneinfo/UTC')``),
    which a load could not read: their offset is written instead, and a zone with no readable name is
    refused before anything is written. dateutil's ``tzlocal()`` is
    saved as such: it loads in the loading machine's local zone (the same instants).
    """
    tz = index.tz
    if tz is None or isinstance(tz, zoneinfo.ZoneInfo) or type(tz).__module__.startswith("pytz"):
        return None if tz is None else str(tz)  # no round trip to check: one per series of a panel
    if isinstance(tz, datetime.timezone):  # by its offset: one named "CET" would load as CET, with summer time
        return str(datetime.timezone(tz.utcoffset(None)))
    offset = tz.utcoffset(None)
    # (pandas 3 builds no dateutil zone with summer time: the others have one offset)
    candidates = [str(tz)] + ([str(datetime.timezone(offset))] if offset is not None else [])
    for text in candidates:
        try:
            same = index.tz_convert(text).tz_localize(None).equals(index.tz_localize(None))
        except Exception:  # noqa: BLE001 - pandas raises several types for a name it does not know
            continue
        if same:
            return text
    raise ValueError(f"cannot save: the time zone {tz!r} of the stamps has no name a load could read back; convert "
                     "them to a named zone before fitting (y.tz_convert('UTC'), or an IANA name such as "
                     "'Europe/Berlin'), or save in sktime's format, est.save(path, serialization_format='pickle')")


def index_to_json(index: pd.Index) -> dict:
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "freq": index.freqstr, "values": index.asi8.tolist()}
    if isinstance(index, pd.DatetimeIndex):
        tz = tz_to_json(index)
        return {
            "kind": "datetime", "freq": index.freqstr, "tz": tz, "unit": index.unit,
            "values": index.as_unit("ns").asi8.tolist(),
        }
    # an int32 or uint64 index keeps its dtype (the cutoff's); folders saved without it read as int64
    return {"kind": "int", "dtype": str(index.dtype), "values": np.asarray(index).tolist()}


def index_from_json(spec: dict, name, step: object = None) -> pd.Index:
    kind, values = spec["kind"], spec["values"]
    if kind == "period":
        return pd.PeriodIndex.from_ordinals(values, freq=spec["freq"], name=name)
    if kind == "datetime":
        index = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]"), name=name)
        if spec.get("tz"):
            index = index.tz_localize("UTC").tz_convert(spec["tz"])
        return with_freq(index, step if step is not None else spec.get("freq")).as_unit(spec.get("unit", "ns"))
    if kind == "int":
        return pd.Index(np.asarray(values, dtype=_integer_dtype(spec.get("dtype", "int64"))), name=name)
    raise LoadError(f"unknown index kind {kind!r} in the saved context")


def _integer_dtype(spec: object) -> np.dtype:
    """The saved integer index's NumPy dtype (int8 ... uint64)."""
    try:
        dtype = np.dtype(spec)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "iu":
        raise LoadError(f"the saved integer index dtype {spec!r} is no integer dtype; "
                        "the file was not written by tsrec")
    return dtype


def columns_to_json(columns: pd.Index) -> dict:
    """The fitted columns' names (columns.name, or each level's) and dtype (int32, a categorical's
    categories), which forecasts' columns keep after a load; ``fitted["columns"]`` holds the labels."""
    names = [key_to_json(name) for name in columns.names]
    if isinstance(columns.dtype, pd.CategoricalDtype):
        categories = columns.dtype.categories
        dtype = {"categories": key_to_json(tuple(categories)), "ordered": bool(columns.dtype.ordered)}
        return {"names": names, "dtype": dtype}
    # text labels and a MultiIndex's tuples need none: pandas gives them their dtype as it read them;
    # object labels (None, mixed kinds, text pandas 3 would read as str) are rebuilt as object
    flat = not isinstance(columns, pd.MultiIndex)
    # pandas' nullable "string" labels as such (pandas 3 reads text as "str", whose missing value is NaN)
    nullable_text = isinstance(columns.dtype, pd.StringDtype) and columns.dtype.na_value is pd.NA
    kept = flat and (columns.dtype.kind in "iub" or columns.dtype == object or nullable_text)
    return {"names": names, "dtype": str(columns.dtype) if kept else None}


def with_saved_columns(columns: pd.Index, spec: dict | None) -> pd.Index:
    """``columns`` (the saved labels) with the saved names and dtype; folders saved without them keep
    pandas' defaults."""
    if spec is None:
        return columns
    try:
        columns = _as_saved_dtype(columns, spec["dtype"])
        return columns.set_names([key_from_json(name) for name in spec["names"]])
    except (TypeError, ValueError, KeyError, IndexError, OverflowError):
        raise LoadError(f"the saved column names and dtype {spec!r} do not fit the saved columns; "
                        "the file was not written by tsrec") from None


def _as_saved_dtype(columns: pd.Index, spec: object) -> pd.Index:
    if spec is None or spec == "object":  # text labels: pandas gives them their dtype as it reads them;
        return columns  # object labels were built as object (saved_columns)
    dtype = pd.CategoricalDtype(spec["categories"], spec["ordered"]) if isinstance(spec, dict) \
        else pd.api.types.pandas_dtype(spec)
    converted = columns.astype(dtype)
    if list(converted) != list(columns):  # int8 wraps 1000 around, a category not listed reads as NaN
        raise ValueError(spec)
    return converted


def with_freq(index: pd.DatetimeIndex, step: object) -> pd.DatetimeIndex:
    """The saved stamps with the saved step as their freq, which sktime reads as the data's step
    (it would guess it from the few saved rows: business days Monday to Friday as days)."""
    if step is None or isinstance(step, int):
        return index
    try:
        return pd.DatetimeIndex(index, freq=step)
    except ValueError:  # a daily step across a daylight-saving change is no pandas freq
        return index


def fh_to_json(fh, cutoff) -> list | dict | None:
    """The fitted ``fh``: relative steps as a list (as every tsrec saved it), absolute stamps as
    ``{"absolute": index}``: they stay where they are when ``update`` moves the cutoff."""
    if fh is None:
        return None
    if fh.is_relative:
        return np.asarray(fh.to_relative(cutoff)).tolist()
    return {"absolute": index_to_json(fh.to_pandas())}


def fh_from_json(spec: list | dict | None):
    from sktime.forecasting.base import ForecastingHorizon

    if spec is None:
        return None
    if isinstance(spec, list):  # relative steps, as fh_to_json writes them
        if not all(type(step) is int and abs(step) < 2**53 for step in spec):
            raise LoadError(f"the saved fh {reprlib.repr(spec)} is not a list of relative steps; the file was not "
                            "written by tsrec")
        return spec
    if not isinstance(spec, dict) or "absolute" not in spec:  # an int such as 2**40 would be built step by step
        raise LoadError(f"the saved fh {reprlib.repr(spec)} is neither relative steps nor time stamps; "
                        "the file was not written by tsrec")
    return ForecastingHorizon(index_from_json(spec["absolute"], None), is_relative=False)


def scaler_to_json(scaler) -> dict | None:
    if scaler is None:  # each series has its own statistics
        return None
    if not hasattr(scaler, "mean_"):  # scaler="robust": a RobustScaler
        return {"kind": "robust", "center": scaler.center_.tolist(), "scale": scaler.scale_.tolist()}
    return {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(), "var": scaler.var_.tolist(),
            "n_samples_seen": np.asarray(scaler.n_samples_seen_).tolist()}


def scaler_from_json(spec: dict | None, n_channels: int):
    from sklearn.preprocessing import StandardScaler

    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise LoadError(f"the saved scaler {reprlib.repr(spec)} is not a scaler's statistics; the file was not "
                        "written by tsrec")
    if spec.get("kind") == "robust":
        return _robust_scaler_from(spec, n_channels)
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = _channel_statistics(spec, ("mean", "scale", "var"), n_channels)
    scaler.n_features_in_ = n_channels
    if "n_samples_seen" in spec:  # folders saved before it lack it
        scaler.n_samples_seen_ = _samples_seen(spec["n_samples_seen"], n_channels)
    return scaler


def _robust_scaler_from(spec: dict, n_channels: int):
    from sklearn.preprocessing import RobustScaler

    scaler = RobustScaler(unit_variance=True)
    scaler.center_, scaler.scale_ = _channel_statistics(spec, ("center", "scale"), n_channels)
    scaler.n_features_in_ = n_channels
    return scaler


def _channel_statistics(spec: dict, names: tuple[str, ...], n_channels: int) -> list[np.ndarray]:
    """The saved scaler statistics ``names`` (its centre and scale first), one float64 each per channel."""
    arrays = [np.asarray(spec.get(name, []), dtype=float) for name in names]
    if any(array.shape != (n_channels,) for array in arrays):
        raise LoadError(f"the saved scaler statistics do not have one value for each of the {n_channels} channels")
    check_statistics(arrays[0], arrays[1], "the scaler")
    return arrays


def _samples_seen(value: object, n_channels: int) -> np.ndarray | np.generic:
    """sklearn's count of rows the scaler saw (a float in recent versions): one number, or one per
    channel where some were NaN; whole, finite and >= 0."""
    counts = np.asarray(value)
    ok = counts.dtype.kind in "iuf" and counts.shape in ((), (n_channels,))
    if not ok or not (np.isfinite(counts) & (counts >= 0) & (counts == np.round(counts))).all():
        raise LoadError(f"the saved scaler row count {value!r} is not a count per channel; "
                        "the file was not written by tsrec")
    counts = counts.astype(np.float64 if counts.dtype.kind == "f" else np.int64)
    return counts[()] if counts.ndim == 0 else counts


def check_statistics(mean: np.ndarray, scale: np.ndarray, where: str) -> None:
    """Finite float64 means and positive finite scales, as tsrec writes them."""
    if mean.dtype != np.float64 or scale.dtype != np.float64 or not np.isfinite(mean).all() \
            or not (np.isfinite(scale) & (scale > 0)).all():
        raise LoadError(f"the saved statistics of {where} are not finite float64 means and positive scales; "
                        "the file was not written by tsrec")


def saved_columns(fitted: dict) -> pd.Index:
    """The fitted column names; JSON wrote a tuple (a MultiIndex column) as a list, which no name is."""
    labels, spec = [key_from_json(c) for c in fitted["columns"]], fitted.get("columns_index")
    dtype = spec.get("dtype") if isinstance(spec, dict) else None
    # labels of several kinds (None among text) keep them, as an object Index; pandas would infer
    # a dtype, reading None among text as NaN (folders saved before "object" was stored too)
    as_object = dtype == "object" or (dtype is None and _mixed_kinds(labels))
    return with_saved_columns(pd.Index(labels, dtype=object if as_object else None, tupleize_cols=True), spec)


def _mixed_kinds(labels: list) -> bool:
    """Labels pandas would not keep as they are: of more than one type, or None."""
    return len({type(label) for label in labels}) > 1 or any(label is None for label in labels)


def saved_index_names(fitted: dict) -> list:
    """The names of the fitted index's levels; JSON wrote a tuple name as a list, which no name is."""
    names = fitted["index_names"]
    if not isinstance(names, list) or not names or any(isinstance(name, dict) for name in names):
        raise LoadError(f"the saved index_names {names!r} are not the names of index levels; "
                        "the file was not written by tsrec")
    id_levels = {_id_level_count(series_key(spec)) for spec in fitted["series"]}
    if id_levels != {len(names) - 1}:
        raise LoadError(f"the saved index_names {names!r} name {len(names)} index levels, but the saved series "
                        f"keys have {sorted(id_levels)} id levels and a time level; the file was not written by tsrec")
    return [key_from_json(name) for name in names]


def _id_level_count(key: object) -> int:
    """A series key's id levels: none for the one series of a flat index, a tuple's length for a panel
    with several id levels, else one."""
    return 0 if key is None else len(key) if isinstance(key, tuple) else 1


def key_to_json(key: object) -> object:
    """A series key as JSON holds it: a tuple as a list, NumPy scalars (an Int64 or int32 id) as Python's."""
    plain = lambda part: part.item() if isinstance(part, np.generic) else part  # noqa: E731
    return [plain(part) for part in key] if isinstance(key, tuple) else plain(key)


def key_from_json(value: object) -> object:
    """A key, column label or level name as :func:`key_to_json` wrote it: JSON wrote a tuple as a list."""
    return tuple(value) if isinstance(value, list) else value


def id_dtypes_to_json(index: pd.Index) -> list:
    """The dtypes of a panel's series-id levels (a categorical's with its categories); none for one series."""
    if not isinstance(index, pd.MultiIndex):
        return []
    return [{"categories": key_to_json(tuple(level.dtype.categories)), "ordered": bool(level.dtype.ordered)}
            if isinstance(level.dtype, pd.CategoricalDtype) else str(level.dtype) for level in index.levels[:-1]]


def with_id_dtypes(index: pd.MultiIndex, specs: list) -> pd.MultiIndex:
    """The saved panel's id levels in the dtypes they were fitted with, so that forecasts are labelled alike."""
    for level, spec in enumerate(specs):
        try:
            dtype = pd.CategoricalDtype(spec["categories"], spec["ordered"]) if isinstance(spec, dict) \
                else pd.api.types.pandas_dtype(spec)
            index = index.set_levels(index.levels[level].astype(dtype), level=level, verify_integrity=False)
        except (TypeError, ValueError, KeyError, IndexError):
            raise LoadError(f"the saved series-id dtype {spec!r} does not fit the saved ids; "
                            "the file was not written by tsrec") from None
    return index


def series_key(spec: dict) -> object:
    return key_from_json(spec["key"])


def saved_position(value: object) -> int:
    """A series' saved step count: an integer that float64 and int64 hold exactly."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**53:
        raise LoadError(f"a saved last_position is {value!r}, not a step count; the file was not written by tsrec")
    return value
