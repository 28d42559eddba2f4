"""Saving and loading estimators as a folder: ``config.json`` + ``weights.safetensors``.

Loading never unpickles and never runs code from the folder: the class is looked up by name in
tsrec's registry, parameters come from JSON, tensors from safetensors, and a SHA-256 of the
weights file recorded in the config detects truncation or tampering.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from tsrec.estimators.errors import LoadError

FORMAT = "tsrec-estimator"
FORMAT_VERSION = 1
CONFIG, WEIGHTS = "config.json", "weights.safetensors"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tsrec_version = version("tsrec")
    except PackageNotFoundError:
        tsrec_version = "unknown"
    return {"tsrec": tsrec_version, "torch": torch.__version__}


def _json_params(est) -> dict:
    params = est.get_params(deep=False)
    try:
        json.dumps(params)
    except TypeError as err:
        raise ValueError(
            f"cannot save {type(est).__name__}: a parameter is not JSON-serialisable ({err}); "
            "save with serialization_format='pickle' instead"
        ) from None
    return params


def write_folder(path: str | os.PathLike, config: dict, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``config`` and ``tensors`` to ``path`` atomically (a temporary folder, then rename)."""
    target = Path(path)
    if target.is_file() or (target.is_dir() and any(target.iterdir()) and not (target / CONFIG).is_file()):
        # an empty folder or an earlier save is replaced; anything else may be the user's data
        raise FileExistsError(f"{target} exists and is not a saved tsrec estimator; choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(staging / WEIGHTS))
        config = dict(config, weights_sha256=_sha256(staging / WEIGHTS))
        (staging / CONFIG).write_text(json.dumps(config, indent=2))
        if target.exists():
            backup = target.with_name(f".{target.name}.old")
            os.replace(target, backup)
            os.replace(staging, target)
            shutil.rmtree(backup)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def read_folder(path: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read and verify a saved folder; every failure is a :class:`LoadError` saying what is wrong."""
    folder = Path(path)
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise LoadError(f"{folder} is not a saved tsrec estimator: {CONFIG} and {WEIGHTS} are needed")
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LoadError(f"{folder / CONFIG} is not valid JSON ({err}); the file is damaged") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise LoadError(f"{folder / CONFIG} is not a tsrec estimator config")
    if config.get("format_version") != FORMAT_VERSION:
        raise LoadError(f"unsupported format_version {config.get('format_version')!r}; expected {FORMAT_VERSION}")
    if _sha256(folder / WEIGHTS) != config.get("weights_sha256"):
        raise LoadError(f"{folder / WEIGHTS} does not match its checksum: it was truncated or modified")
    try:
        tensors = load_file(str(folder / WEIGHTS))
    except Exception as err:  # safetensors raises its own error type
        raise LoadError(f"{folder / WEIGHTS} cannot be read ({err})") from None
    return config, tensors


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_config(est, fitted: dict) -> dict:
    """The config shared by all estimators: class, parameters, versions and fitted metadata."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(est).__name__,
        "params": _json_params(est),
        "versions": _versions(),
        "fitted": fitted,
    }


# ---- forecasters ------------------------------------------------------------------------------


def _index_to_json(index: pd.Index) -> dict:
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "freq": index.freqstr, "values": index.asi8.tolist()}
    if isinstance(index, pd.DatetimeIndex):
        tz = None if index.tz is None else str(index.tz)
        return {
            "kind": "datetime", "freq": index.freqstr, "tz": tz, "unit": index.unit,
            "values": index.as_unit("ns").asi8.tolist(),
        }
    return {"kind": "int", "values": np.asarray(index, dtype=np.int64).tolist()}


def _index_from_json(spec: dict, name) -> pd.Index:
    kind, values = spec["kind"], spec["values"]
    if kind == "period":
        return pd.PeriodIndex.from_ordinals(values, freq=spec["freq"], name=name)
    if kind == "datetime":
        index = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]"), name=name)
        if spec.get("tz"):
            index = index.tz_localize("UTC").tz_convert(spec["tz"])
        return pd.DatetimeIndex(index, freq=spec.get("freq")).as_unit(spec.get("unit", "ns"))
    if kind == "int":
        return pd.Index(np.asarray(values, dtype=np.int64), name=name)
    raise LoadError(f"unknown index kind {kind!r} in the saved context")


def save_estimator(est, path) -> Path:
    """Save a fitted forecaster: weights, scaler, and the last ``lookback`` rows of each series."""
    from tsrec.estimators._series import split_panel
    from tsrec.estimators._timeindex import infer_freq, positions

    est.check_is_fitted()
    lookback = est._lookback_length()
    parts = split_panel(est._y)
    tensors = {f"network.{k}": v for k, v in est.network_.state_dict().items()}
    series = []
    for i, (key, df) in enumerate(parts):
        tail = df.iloc[-lookback:]
        tensors[f"context.{i}"] = torch.tensor(tail.to_numpy(float))
        last = int(positions(df.index, infer_freq(df.index))[-1]) + int(est.position_offset_[i])
        key = list(key) if isinstance(key, tuple) else key
        series.append({"key": key, "index": _index_to_json(tail.index), "last_position": last})
    fitted = {
        "n_channels": est.n_channels_,
        "columns": est.columns_,
        "network_meta": est.network_meta_,
        "history": est.history_,
        "scaler": {"mean": est.scaler_.mean_.tolist(), "scale": est.scaler_.scale_.tolist(), "var": est.scaler_.var_.tolist()},
        "y_mtype": est._y_metadata["mtype"],
        "index_names": list(est._y.index.names),
        "fh": None if est._fh is None else np.asarray(est._fh.to_relative(est.cutoff)).tolist(),
        "series": series,
    }
    try:
        return write_folder(path, base_config(est, fitted), tensors)
    except TypeError as err:
        raise ValueError(f"cannot save: column names or series keys are not JSON-serialisable ({err})") from None


def _context_frame(config: dict, tensors: dict) -> pd.DataFrame:
    fitted = config["fitted"]
    names = fitted["index_names"]
    frames, keys = [], []
    for i, spec in enumerate(fitted["series"]):
        index = _index_from_json(spec["index"], names[-1])
        values = tensors[f"context.{i}"].numpy()
        frames.append(pd.DataFrame(values, index=index, columns=fitted["columns"]))
        keys.append(tuple(spec["key"]) if isinstance(spec["key"], list) else spec["key"])
    if keys == [None]:
        return frames[0]
    out = pd.concat(frames, keys=keys)
    out.index.names = names
    return out


def load_forecaster(cls: type, config: dict, tensors: dict):
    """Rebuild a forecaster: fit bookkeeping on the saved context, weights from the file."""
    from sklearn.preprocessing import StandardScaler
    from sktime.datatypes import convert_to

    fitted = config["fitted"]
    est = cls(**config["params"])
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(fitted["scaler"]["mean"])
    scaler.scale_ = np.asarray(fitted["scaler"]["scale"])
    scaler.var_ = np.asarray(fitted["scaler"]["var"])
    scaler.n_features_in_ = len(scaler.mean_)
    state = {
        "network_meta": fitted["network_meta"],
        "weights": {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")},
        "scaler": scaler,
        "history": fitted["history"],
        "last_positions": [s["last_position"] for s in fitted["series"]],
    }
    y = convert_to(_context_frame(config, tensors), to_type=fitted["y_mtype"])
    setattr(est, "_DeepForecaster__restore", state)  # survives sktime's reset (name has "__")
    try:
        est.fit(y, fh=fitted["fh"])
    finally:
        delattr(est, "_DeepForecaster__restore")
    return est


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
    tensors = {f"network.{k}": v for k, v in est.network_.state_dict().items()}
    try:
        return write_folder(path, base_config(est, fitted), tensors)
    except TypeError as err:
        raise ValueError(f"cannot save: class labels are not JSON-serialisable ({err})") from None


def load_classifier(cls: type, config: dict, tensors: dict):
    """Rebuild a classifier from a saved folder without running any training."""
    from tsrec.nn.heads import SequenceClassifier

    fitted = config["fitted"]
    est = cls(**config["params"])
    dtype = None if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
    est.classes_ = np.asarray(fitted["classes"], dtype=dtype if dtype is not None else object)
    est.n_features_in_ = fitted["n_features_in"]
    est.input_ndim_ = fitted["input_ndim"]
    est.n_channels_, est.n_timepoints_ = fitted["n_channels"], fitted["n_timepoints"]
    est.history_ = fitted["history"]
    encoder, width = est._build_encoder(est.n_channels_, est.n_timepoints_)
    est.network_ = SequenceClassifier(encoder, width, len(est.classes_))
    weights = {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")}
    try:
        est.network_.load_state_dict(weights)
    except RuntimeError as err:
        raise LoadError(f"saved weights do not fit {cls.__name__}: {err}") from None
    est.network_.eval()
    return est
