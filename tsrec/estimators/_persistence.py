"""Saving and loading estimators as a folder: ``config.json`` + ``weights.safetensors``.

Loading never unpickles and never runs code from the folder: the class is looked up by name in
tsrec's registry, parameters come from JSON, tensors from safetensors. SHA-256 checksums of the
weights file and of the config itself detect truncation, damage and hand edits (not a forger, who
can recompute them: that needs a signature, which tsrec does not claim).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save_file

from tsrec.estimators.errors import LoadError

FORMAT = "tsrec-estimator"
# version 1 checksummed only the weights; version 2 checksums config.json too. Both load.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
CONFIG, WEIGHTS = "config.json", "weights.safetensors"
SAVED_FILES = frozenset({CONFIG, WEIGHTS})
CONFIG_SHA = "config_sha256"


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


def sktime_save(est, path, serialization_format: str | None):
    """sktime's zip file (or in-memory pair when ``path`` is None), loadable by ``sktime.base.load``.

    ``BaseObject.save`` only pickles ``est``, so it serves scikit-learn estimators as well.
    """
    from sktime.base import BaseObject

    return BaseObject.save(est, path, serialization_format=serialization_format or "pickle")


# ---- writing ---------------------------------------------------------------------------------


def write_folder(path: str | os.PathLike, config: dict, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``config`` and ``tensors`` to the folder ``path`` atomically.

    The complete new folder is built beside ``path`` under a unique name, flushed to disk and
    swapped in by one atomic rename (Linux), so the folder always holds the earlier complete save
    or the new one. Residual window: a reader that opens config.json before the swap and the
    weights after it gets a mix, which the checksums turn into a LoadError (reading again
    succeeds); where the atomic swap is missing, see :func:`_swap_by_two_renames`.
    Only an empty folder or an earlier complete tsrec save is replaced; anything else may be the
    user's data and is refused. A symbolic link is followed: its folder is replaced, the link kept.
    """
    target = _follow_link(Path(path))
    if not _replaceable(target):
        raise FileExistsError(
            f"{path} exists and is not a saved tsrec estimator (only an empty folder or an earlier save "
            f"holding just {CONFIG} and {WEIGHTS} is replaced); choose another path or empty it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tsrec-new-", dir=target.parent))
    try:
        _write_files(staging, config, tensors)
        _swap_in(staging, target)
        _fsync(target.parent)
    finally:
        # after a swap this holds the earlier save (or the empty folder it replaced)
        shutil.rmtree(staging, ignore_errors=True)
    return Path(path)


def _follow_link(path: Path) -> Path:
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError) as err:  # a loop of links
        raise FileExistsError(f"{path} is a symbolic link that cannot be followed ({err}); choose another path") from None


def _replaceable(folder: Path) -> bool:
    """True when writing to ``folder`` loses nothing: it is absent, empty, or a complete tsrec save."""
    if not os.path.lexists(folder):
        return True
    if folder.is_symlink() or not folder.is_dir():
        return False
    entries = list(folder.iterdir())
    return not entries or _is_complete_save(folder, entries)


def _is_complete_save(folder: Path, entries: list[Path]) -> bool:
    """Exactly the two regular files tsrec writes, the config carrying tsrec's format tag."""
    if {p.name for p in entries} != SAVED_FILES or any(p.is_symlink() or not p.is_file() for p in entries):
        return False
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("format") == FORMAT


def _write_files(folder: Path, config: dict, tensors: dict[str, torch.Tensor]) -> None:
    weights = folder / WEIGHTS
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(weights))
    config = dict(config, weights_sha256=_sha256(weights.read_bytes()))
    # the checksum is taken over the config as it will be read back (JSON turns tuples into lists)
    config[CONFIG_SHA] = _config_sha256(json.loads(json.dumps(config)))
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    for item in (weights, folder / CONFIG, folder):
        _fsync(item)  # the data is on disk before the rename makes it visible


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; an existing ``target`` ends up at ``staging``."""
    if not os.path.lexists(target):
        os.replace(staging, target)  # fails, losing nothing, if a non-empty folder appeared meanwhile
        return
    if _exchange(staging, target):
        if not _replaceable(staging):  # someone filled the folder since it was checked: undo
            _exchange(staging, target)
            _refuse_changed(target)
        return
    _swap_by_two_renames(staging, target)


def _refuse_changed(target: Path) -> None:
    raise FileExistsError(f"{target} changed while saving and is no saved tsrec estimator now; nothing was replaced")


def _swap_by_two_renames(staging: Path, target: Path) -> None:
    """Fallback where renameat2 is missing (not Linux, or a file system without RENAME_EXCHANGE).

    Residual window: between the two renames ``target`` does not exist and a reader gets
    LoadError; if the process dies there, the earlier save stays in the ``.NAME.tsrec-old-*``
    folder (``tsrec.load`` names it) and the next save writes a fresh ``target`` unhindered.
    """
    backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.tsrec-old-", dir=target.parent))
    os.replace(target, backup)  # a folder may be renamed onto an empty one
    if not _replaceable(backup):
        os.replace(backup, target)
        _refuse_changed(target)
    try:
        os.replace(staging, target)
    except BaseException:  # Ctrl-C included: put the earlier save back
        os.replace(backup, target)
        raise
    shutil.rmtree(backup)


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100


@functools.cache
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot (the caller falls back)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- reading ---------------------------------------------------------------------------------


def read_folder(path: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read and verify a saved folder; every failure is a :class:`LoadError` saying what is wrong."""
    folder = Path(path)
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise LoadError(
            f"{folder} is not a saved tsrec estimator: {CONFIG} and {WEIGHTS} are needed{_interrupted_hint(folder)}"
        )
    config = _read_config(folder / CONFIG)
    weights = (folder / WEIGHTS).read_bytes()  # read once: the checked bytes are the loaded bytes
    if _sha256(weights) != config.get("weights_sha256"):
        raise LoadError(f"{folder / WEIGHTS} does not match its checksum: it was truncated or modified")
    try:
        tensors = load_tensors(weights)
    except Exception as err:  # safetensors raises its own error type
        raise LoadError(f"{folder / WEIGHTS} cannot be read ({err})") from None
    return config, tensors


def _interrupted_hint(folder: Path) -> str:
    """Name the earlier save an interrupted save left beside ``folder``, if there is one."""
    parent = folder.absolute().parent
    left = sorted(parent.glob(f".{folder.name}.tsrec-old-*")) + sorted(parent.glob(f".{folder.name}.old"))
    if not left:
        return ""
    return f"; an interrupted save left the earlier model in {left[0]}: rename it to {folder} to recover it"


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LoadError(f"{path} is not valid JSON ({err}); the file is damaged") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise LoadError(f"{path} is not a tsrec estimator config")
    version = config.get("format_version")
    if version not in READABLE_VERSIONS:
        raise LoadError(
            f"{path}: unsupported format_version {version!r}; this tsrec reads {list(READABLE_VERSIONS)}: "
            "load it with the tsrec version that saved it"
        )
    estimator_class(path, config.get("class"))  # before the checksum: a foreign name is reported as such
    if version >= 2 and config.get(CONFIG_SHA) != _config_sha256(config):
        raise LoadError(f"{path} does not match its checksum: it was edited or damaged; save the model again")
    missing = [key for key in ("class", "params", "fitted") if key not in config]
    if missing or not isinstance(config["params"], dict) or not isinstance(config["fitted"], dict):
        raise LoadError(f"{path} lacks {missing or 'a params or fitted mapping'}; the file is damaged")
    return config


def estimator_class(config_file: Path, name) -> type:
    """The registered estimator class ``name``; nothing outside tsrec's registry is looked up."""
    from tsrec.registry import all_estimators

    classes = dict(all_estimators())
    if not isinstance(name, str) or name not in classes:
        raise LoadError(f"{config_file}: unknown estimator class {name!r}; known: {sorted(classes)}")
    return classes[name]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _config_sha256(config: dict) -> str:
    """SHA-256 of the config in canonical JSON, leaving out the field that stores it."""
    body = {k: v for k, v in config.items() if k != CONFIG_SHA}
    return _sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


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


FORECASTER_FITTED = ("n_channels", "columns", "network_meta", "history", "scaler", "y_mtype", "index_names", "fh", "series")
CLASSIFIER_FITTED = ("classes", "classes_dtype", "n_features_in", "input_ndim", "n_channels", "n_timepoints", "history")


def _fitted(config: dict, keys: tuple[str, ...]) -> dict:
    missing = [key for key in keys if key not in config["fitted"]]
    if missing:
        raise LoadError(f"the fitted state lacks {missing}")
    return config["fitted"]


def _construct(cls: type, params: dict):
    """``cls(**params)``, refusing names ``cls`` does not take (a plain TypeError would not say why)."""
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise LoadError(f"{unknown} are not parameters of {cls.__name__}")
    return cls(**params)


def _scaler_from_json(spec: dict, n_channels: int):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = (np.asarray(spec[k], dtype=float) for k in ("mean", "scale", "var"))
    if not scaler.mean_.shape == scaler.scale_.shape == scaler.var_.shape == (n_channels,):
        raise LoadError(f"the saved scaler statistics do not have one value for each of the {n_channels} channels")
    scaler.n_features_in_ = n_channels
    return scaler


def load_forecaster(cls: type, config: dict, tensors: dict):
    """Rebuild a forecaster: fit bookkeeping on the saved context, weights from the file."""
    from sktime.datatypes import convert_to

    fitted = _fitted(config, FORECASTER_FITTED)
    est = _construct(cls, config["params"])
    state = {
        "network_meta": fitted["network_meta"],
        "weights": {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")},
        "scaler": _scaler_from_json(fitted["scaler"], fitted["n_channels"]),
        "history": fitted["history"],
        "last_positions": [s["last_position"] for s in fitted["series"]],
    }
    y = convert_to(_context_frame(config, tensors), to_type=fitted["y_mtype"])
    setattr(est, "_DeepForecaster__restore", state)  # survives sktime's reset (name has "__")
    try:
        est.fit(y, fh=fitted["fh"])
    except RuntimeError as err:  # raised by load_state_dict when the parameters ask for other shapes
        raise LoadError(f"saved weights do not fit {cls.__name__} with the saved parameters: {err}") from None
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


def _classes_from_json(fitted: dict) -> np.ndarray:
    dtype = object if fitted["classes_dtype"] == "object" else np.dtype(fitted["classes_dtype"])
    classes = np.asarray(fitted["classes"], dtype=dtype)
    if classes.ndim != 1 or len(classes) < 2 or len(np.unique(classes)) != len(classes):
        raise LoadError(f"the saved classes {fitted['classes']!r} are not two or more distinct labels")
    return classes


def _check_input_shape(fitted: dict) -> None:
    ndim, channels, timepoints = fitted["input_ndim"], fitted["n_channels"], fitted["n_timepoints"]
    features = timepoints if ndim == 2 else channels  # what scikit-learn counts as features
    if ndim not in (2, 3) or fitted["n_features_in"] != features or (ndim == 2 and channels != 1):
        raise LoadError(
            f"the saved input shape is inconsistent (input_ndim={ndim!r}, n_channels={channels!r}, "
            f"n_timepoints={timepoints!r}, n_features_in={fitted['n_features_in']!r})"
        )


def load_classifier(cls: type, config: dict, tensors: dict):
    """Rebuild a classifier from a saved folder without running any training."""
    from tsrec.nn.heads import SequenceClassifier

    fitted = _fitted(config, CLASSIFIER_FITTED)
    est = _construct(cls, config["params"])
    est._check_params()
    _check_input_shape(fitted)
    est.classes_ = _classes_from_json(fitted)
    est.n_features_in_ = fitted["n_features_in"]
    est.input_ndim_ = fitted["input_ndim"]
    est.n_channels_, est.n_timepoints_ = fitted["n_channels"], fitted["n_timepoints"]
    est.history_ = fitted["history"]
    encoder, width = est._build_encoder(est.n_channels_, est.n_timepoints_)
    est.network_ = SequenceClassifier(encoder, width, len(est.classes_))
    weights = {k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")}
    load_network_weights(est.network_, weights, cls.__name__)
    return est


def load_network_weights(network, weights: dict, owner: str) -> None:
    """Load saved weights into a freshly built network, in their saved dtype, and set it to eval."""
    dtypes = {v.dtype for v in weights.values() if v.is_floating_point()}
    if len(dtypes) == 1:  # precision="64-true" saved float64 weights; loading must not round them
        network.to(dtypes.pop())
    try:
        network.load_state_dict(weights)
    except RuntimeError as err:
        raise LoadError(f"saved weights do not fit {owner} with the saved parameters: {err}") from None
    network.eval()
