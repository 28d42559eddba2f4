"""Saving and loading estimators as a folder: ``config.json`` + ``weights.safetensors``.

Loading never unpickles and never runs code from the folder: the class is looked up by name in
tsrec's registry, parameters come from JSON, tensors from safetensors. The folder itself (atomic
writing, checksums, verified reading) is :mod:`tsrec.estimators._folder`'s; this module says what
the config holds for forecasters and classifiers and rebuilds them from it.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsrec._files import user_path
from tsrec.estimators._class_weights import check_class_labels
from tsrec.estimators._fitted_params import fitted_params, remember_fitted_params
from tsrec.estimators._folder import FORMAT, FORMAT_VERSION, write_folder
from tsrec.estimators._saved_json import (
    check_statistics, columns_to_json, fh_from_json, fh_to_json, index_from_json, saved_columns,
    saved_index_names, saved_position, id_dtypes_to_json, key_from_json, key_to_json, params_to_json, scaler_from_json,
    scaler_to_json, series_key, with_freq, with_id_dtypes,
)
from tsrec.estimators._saved_params import construct
from tsrec.estimators._saved_weights import network_with_weights, weights_error
from tsrec.estimators.errors import InputError, LoadError


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tsrec_version = version("tsrec")
    except PackageNotFoundError:
        tsrec_version = "unknown"
    return {"tsrec": tsrec_version, "torch": torch.__version__}


def _json_params(est) -> dict:
    params = params_to_json(fitted_params(est))
    for name, value in params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"cannot save {type(est).__name__}: its parameter {name} is not JSON-serialisable ({err}); "
                "save with serialization_format='pickle' instead"
            ) from None
    return params


def base_config(est, fitted: dict) -> dict:
    """The config shared by all estimators: class, parameters, versions and fitted metadata."""
    _check_loadable_class(type(est))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(est).__name__,
        "params": _json_params(est),
        "versions": _versions(),
        "fitted": fitted,
    }


def _check_loadable_class(cls: type) -> None:
    """``tsrec.load`` finds the class by name in the registry: a folder of a subclass that is not
    registered could never be loaded, so refuse it before anything (an earlier save) is replaced."""
    from tsrec.registry import all_estimators

    if dict(all_estimators()).get(cls.__name__) is not cls:
        raise ValueError(
            f"cannot save {cls.__name__}: tsrec.load finds a class by its name among the registered "
            f"estimators, and {cls.__name__} is not one; register it (decorate the class with "
            "@tsrec.registry.register('forecaster') or ('classifier')), or save in sktime's format, "
            "est.save(path, serialization_format='pickle')"
        )


def checked_path(path: object, where: str, none_ok: bool = False) -> Path | None:
    """``path`` as a Path with ``~`` expanded (:func:`tsrec._files.user_path`), or None where ``none_ok``
    (``save``'s in-memory pickle). Anything but a str or os.PathLike is refused here, not reported as a
    JSON or file-system problem later."""
    if isinstance(path, (str, os.PathLike)):
        return user_path(path)
    if none_ok and path is None:
        return None
    also = ", or None for sktime's in-memory pickle" if none_ok else ""
    fix = "pass the folder's path as text or a pathlib.Path"
    name = getattr(path, "filename", None)
    if isinstance(path, zipfile.ZipFile) and name is not None:  # sktime's docs list ZipFile; its load refuses one
        fix = (f"a zip written by est.save(path, serialization_format=...) is read by its file's path: "
               f"sktime.base.load(pathlib.Path({str(name)!r}))")
    raise TypeError(f"{where}: path must be a str or os.PathLike (such as pathlib.Path){also}, got "
                    f"{type(path).__name__} {path!r:.60}; {fix}")


# ---- forecasters ------------------------------------------------------------------------------


def save_estimator(est, path, fast: bool = True) -> Path:
    """Save a fitted forecaster: weights, scaler, and the last ``lookback`` rows and the time step of each series.

    ``fast=False`` takes the series-by-series path (and the json and torch writers) for every panel,
    which panels the fast path refuses take anyway; both write the same bytes.
    """
    from tsrec.estimators._saved_context import context_series, series_one_by_one

    est.check_is_fitted()
    lookback = est._lookback_length()
    tensors = {f"network.{k}": v for k, v in est.network_.state_dict().items()}
    context = context_series(est, lookback) if fast else None  # a panel of runs: from whole-panel arrays
    if context is None:
        series = series_one_by_one(est, lookback, tensors)
    else:
        series, arrays = context
        tensors.update(arrays)
    _check_positions(series)
    fitted = {
        "n_channels": est.n_channels_,
        "columns": [key_to_json(column) for column in est.columns_],  # NumPy scalars as Python's
        "columns_index": columns_to_json(est._y.columns),  # its name and dtype (int32, categorical)
        "network_meta": est.network_meta_,
        "history": est.history_,
        "scaler": scaler_to_json(est.scaler_),
        # what was fitted, not the parameter: an attribute set after fit does not change the model
        "scaling": "global" if est.series_scales_ is None else "series",
        "y_mtype": est._y_metadata["mtype"],
        # an unnamed Series and a Series named 0 both fit as column 0
        "series_unnamed": est._converter_store_y.get("name", 0) is None,
        "index_names": list(est._y.index.names),
        "id_dtypes": id_dtypes_to_json(est._y.index),  # forecasts keep int32 or categorical ids after a load
        "fh": fh_to_json(est._fh, est.cutoff),
        "series": series,
    }
    try:
        return write_folder(path, base_config(est, fitted), tensors, fast=fast)
    except TypeError as err:
        raise ValueError(
            f"cannot save: column names or series keys are not JSON-serialisable ({err}); rename them to "
            "text or integers, or save in sktime's format, est.save(path, serialization_format='pickle'), "
            "and load it with sktime.base.load"
        ) from None


def _check_positions(series: list[dict]) -> None:
    """Refuse, before anything is written, a step count that ``tsrec.load`` refuses (saved_position):
    such a save would replace an earlier one with a folder that cannot be loaded."""
    for spec in series:
        try:
            saved_position(spec["last_position"])
        except LoadError:
            key = f" of series {spec['key']!r}" if spec["key"] is not None else ""
            raise ValueError(
                f"cannot save: the last time stamp{key} is step {spec['last_position']} of its time grid, beyond "
                "2**53, the largest step count a saved folder holds; number the rows from a nearer origin "
                "(y.reset_index(drop=True), or stamps at a coarser step), or save in sktime's format, "
                "est.save(path, serialization_format='pickle')"
            ) from None


def _series_scales_from(config: dict, tensors: dict) -> pd.DataFrame | None:
    """The saved per-series statistics as ``series_scales_``, or None for a globally scaled model
    (every folder saved before tsrec had per-series scaling)."""
    from tsrec.estimators._scale_statistics import Scales
    from tsrec.estimators._scaling import series_scales_frame

    fitted, saved = config["fitted"], [tensors.get(f"scales.{name}") for name in ("mean", "scale")]
    if fitted.get("scaling", "global") == "global":
        return None
    shape = (len(fitted["series"]), fitted["n_channels"])
    if any(t is None or tuple(t.shape) != shape for t in saved):
        raise LoadError(f"a model with scaling='series' needs the statistics of each of its {shape[0]} series "
                        f"and {shape[1]} variates (scales.mean and scales.scale, {shape}); they are missing or "
                        "of another shape")
    scales = Scales(*(t.numpy() for t in saved))
    check_statistics(*scales, "scales.mean / scales.scale")
    keys = [series_key(spec) for spec in fitted["series"]]
    return series_scales_frame(scales, keys, saved_index_names(fitted)[:-1], list(saved_columns(fitted)),
                               config["params"].get("scaler", "standard"))


def _saved_steps(fitted: dict) -> dict | None:
    """Each series' step by key; None for folders saved before steps were stored (format <= 2)."""
    from tsrec.estimators._steps import step_from_json

    if any(spec.get("step") is None for spec in fitted["series"]):
        return None
    texts = [json.dumps(spec["step"], sort_keys=True) for spec in fitted["series"]]
    read = {text: step_from_json(json.loads(text)) for text in dict.fromkeys(texts)}  # ~40 us a step
    return {series_key(spec): read[text] for spec, text in zip(fitted["series"], texts)}


def _context_frame(config: dict, tensors: dict, steps: dict | None) -> pd.DataFrame:
    fitted = config["fitted"]
    names, specs, columns = saved_index_names(fitted), fitted["series"], saved_columns(fitted)
    values = [tensors[f"context.{i}"].numpy() for i in range(len(specs))]
    if any(v.dtype != np.float64 for v in values):  # tsrec saves the rows as they were read, in float64
        raise weights_error("the saved context rows are not float64; the file was not written by tsrec")
    keys = [series_key(spec) for spec in specs]
    if keys == [None]:
        index = index_from_json(specs[0]["index"], names[-1], None if steps is None else steps[None])
        return pd.DataFrame(values[0], index=index, columns=columns)
    # one index for the stamps of every series (a frame per series cost ~0.5 ms each)
    stamps = {**specs[0]["index"], "values": [v for spec in specs for v in spec["index"]["values"]]}
    times = index_from_json(stamps if stamps["kind"] == "period" else {**stamps, "freq": None}, names[-1])
    ids = pd.Index(keys, tupleize_cols=True).repeat([len(rows) for rows in values])
    index = pd.MultiIndex.from_arrays([*(ids.get_level_values(i) for i in range(ids.nlevels)), times], names=names)
    index = with_id_dtypes(index, fitted.get("id_dtypes", []))  # folders saved before it lack it
    # folders without steps (format <= 2) keep each series' saved freq
    saved = steps.values() if steps is not None else [spec["index"].get("freq") for spec in specs]
    return pd.DataFrame(np.concatenate(values), index=_with_level_freq(index, saved), columns=columns)


def _with_level_freq(index: pd.MultiIndex, steps) -> pd.MultiIndex:
    """The panel with its distinct stamps at the series' shared step, as a fit on the saved frames
    had them (sktime's cutoff takes its freq from there), where they are evenly spaced."""
    shared = set(steps)
    if len(shared) != 1 or not isinstance(index.levels[-1], pd.DatetimeIndex):
        return index
    return index.set_levels(with_freq(index.levels[-1], shared.pop()), level=-1, verify_integrity=False)


FORECASTER_FITTED = ("n_channels", "columns", "network_meta", "history", "scaler", "y_mtype", "index_names", "fh",
                     "series")
CLASSIFIER_FITTED = ("classes", "classes_dtype", "n_features_in", "input_ndim", "n_channels", "n_timepoints", "history")


def _fitted(config: dict, keys: tuple[str, ...]) -> dict:
    missing = [key for key in keys if key not in config["fitted"]]
    if missing:
        raise LoadError(f"the fitted state lacks {missing}")
    return config["fitted"]


def _as_mtype(frame: pd.DataFrame, fitted: dict):
    """The saved context in the fitted container; a Series keeps its name (sktime's converter drops
    it), which is its column's as JSON read it, or None where it was unnamed."""
    from tsrec.estimators._series import fitted_series_name, from_flat

    if fitted["y_mtype"] != "pd.Series":
        return from_flat(frame, fitted["y_mtype"])
    column = key_from_json(fitted["columns"][0])  # JSON wrote a tuple as a list
    # folders saved before "series_unnamed" tell a Series named 0 from an unnamed one by guess
    unnamed = fitted.get("series_unnamed", fitted_series_name(column) is None)
    return frame.iloc[:, 0].rename(None if unnamed else column)


def load_forecaster(cls: type, config: dict, tensors: dict):
    """Rebuild a forecaster: fit bookkeeping on the saved context, weights from the file."""
    from tsrec.estimators._updates import keep_container

    fitted = _fitted(config, FORECASTER_FITTED)
    params = dict(config["params"])
    if "scaling" not in fitted:  # saved before per-series scaling: one global scaler
        params.setdefault("scaling", "global")
    est = construct(cls, params, warn=False)  # the fit below checks them again, and warns
    state = {
        "network_meta": fitted["network_meta"],
        "weights": {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")},
        "scaler": scaler_from_json(fitted["scaler"], fitted["n_channels"]),
        "series_scales": _series_scales_from(config, tensors),
        "history": fitted["history"],
        "last_positions": [saved_position(s["last_position"]) for s in fitted["series"]],
        "steps": _saved_steps(fitted),
    }
    if state["scaler"] is None and state["series_scales"] is None:
        raise LoadError("the saved model has no scaler statistics: neither one scaler nor each series' own")
    mtype = fitted["y_mtype"]
    # NumPy holds no time positions: as an array, the saved rows would be refitted as rows 0, 1, ...
    # and the cutoff would move; fitted on the frame (its saved positions), it answers in NumPy
    y = _context_frame(config, tensors, state["steps"])
    y = y if mtype in NUMPY_MTYPES else _as_mtype(y, fitted)
    setattr(est, "_DeepForecaster__restore", state)  # survives sktime's reset (name has "__")
    try:
        est.fit(y, fh=fh_from_json(fitted["fh"]))  # weights that do not fit: LoadError (_saved_weights)
    finally:
        delattr(est, "_DeepForecaster__restore")
    if mtype in NUMPY_MTYPES:
        keep_container(est, mtype, {})
    return est


NUMPY_MTYPES = ("np.ndarray", "numpy3D")


# ---- classifiers -----------------------------------------------------------------------------


def save_classifier(est, path) -> Path:
    """Save a fitted classifier: weights, classes and input shape."""
    classes = est.classes_
    fitted = {
        "classes": classes.tolist(),
        "classes_dtype": classes.dtype.str if classes.dtype != object else "object",
        "n_features_in": int(est.n_features_in_),
        "input_ndim": int(est.input_ndim_),
        "n_channels": int(est.n_channels_),
        "n_timepoints": int(est.n_timepoints_),
        "history": est.history_,
    }
    if hasattr(est, "feature_names_in_"):
        # scikit-learn sets it only for X with string column names, so it is a list of strings
        fitted["feature_names_in"] = [str(name) for name in est.feature_names_in_]
    if hasattr(est, "time_unit_"):  # a classifier that reads the time between stamps
        fitted["stamps"] = {"time_unit": float(est.time_unit_), "kind": str(est.stamp_kind_)}
    tensors = {f"network.{k}": v for k, v in est.network_.state_dict().items()}
    try:
        return write_folder(path, base_config(est, fitted), tensors)
    except TypeError as err:
        raise ValueError(f"cannot save: class labels are not JSON-serialisable ({err}); save with "
                         "serialization_format='pickle', or fit on string or integer labels") from None


def _classes_from_json(fitted: dict) -> np.ndarray:
    dtype = object if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
    classes = np.asarray(fitted["classes"], dtype=dtype)
    if classes.ndim != 1 or len(classes) < 2 or len(np.unique(classes)) != len(classes):
        raise LoadError(f"the saved classes {fitted['classes']!r} are not two or more distinct labels")
    return classes


def _check_saved_class_weight(est) -> None:
    """A ``class_weight`` dict naming no saved class was edited in: a refit would refuse it."""
    if not isinstance(est.class_weight, dict):
        return
    try:
        check_class_labels(est.class_weight, est.classes_)
    except InputError as err:
        raise LoadError(f"the saved class_weight is refused ({err}); the file was edited or damaged: save the "
                        "model again") from None


def _check_input_shape(fitted: dict) -> None:
    ndim, channels, timepoints = fitted["input_ndim"], fitted["n_channels"], fitted["n_timepoints"]
    features = timepoints if ndim == 2 else channels  # what scikit-learn counts as features
    if ndim not in (2, 3) or fitted["n_features_in"] != features or (ndim == 2 and channels != 1):
        raise LoadError(
            f"the saved input shape is inconsistent (input_ndim={ndim!r}, n_channels={channels!r}, "
            f"n_timepoints={timepoints!r}, n_features_in={fitted['n_features_in']!r})"
        )


def _feature_names_from_json(fitted: dict) -> np.ndarray | None:
    """The fitted column names, or None for a classifier fitted without them (or saved before
    tsrec stored them: such a folder loads as it did, without the names)."""
    names = fitted.get("feature_names_in")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names) \
            or len(names) != fitted["n_features_in"]:
        raise LoadError(
            f"the saved feature_names_in {names!r} are not {fitted['n_features_in']} column names (strings)"
        )
    return np.asarray(names, dtype=object)


def _load_stamps(est, fitted: dict, params: dict) -> None:
    """The unit and kind of the stamps a ``timing="stamps"`` classifier was fitted on."""
    stamps = fitted.get("stamps")
    if params.get("timing", "steps") != "stamps":
        return
    unit = stamps.get("time_unit") if isinstance(stamps, dict) else None
    if not (isinstance(unit, (int, float)) and 0 < unit < float("inf") and isinstance(stamps.get("kind"), str)):
        raise LoadError(f"the classifier reads stamps (timing='stamps') but the saved stamps {stamps!r} are not a "
                        "time unit > 0 and a kind")
    est.time_unit_, est.stamp_kind_ = float(unit), stamps["kind"]


def load_classifier(cls: type, config: dict, tensors: dict):
    """Rebuild a classifier from a saved folder without running any training."""
    from tsrec.nn.heads import SequenceClassifier

    fitted = _fitted(config, CLASSIFIER_FITTED)
    est = construct(cls, config["params"])
    _check_input_shape(fitted)
    est.classes_ = _classes_from_json(fitted)
    _check_saved_class_weight(est)
    est.n_features_in_ = fitted["n_features_in"]
    feature_names = _feature_names_from_json(fitted)
    if feature_names is not None:
        est.feature_names_in_ = feature_names
    est.input_ndim_ = fitted["input_ndim"]
    est.n_channels_, est.n_timepoints_ = fitted["n_channels"], fitted["n_timepoints"]
    est.history_ = fitted["history"]
    _load_stamps(est, fitted, config["params"])
    remember_fitted_params(est)

    def build():
        encoder, width = est._build_encoder(est.n_channels_, est.n_timepoints_)
        return SequenceClassifier(encoder, width, len(est.classes_))

    weights = {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")}
    est.network_ = network_with_weights(build, weights, cls.__name__)
    return est
