"""A saved estimator's folder on disk: ``config.json`` + ``weights.safetensors``, written atomically.

SHA-256 checksums of the weights file and of the config itself detect truncation, damage and hand
edits (not a forger, who can recompute them: that needs a signature, which tsrec does not claim).
What the config holds for each kind of estimator is :mod:`tsrec.estimators._persistence`'s.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load as load_tensors
from safetensors.torch import save_file

from tsrec._files import READ_FIX, fsync_folder, fsync_path, hidden_stem, made_folders, os_error
from tsrec.estimators._saved_json import TUPLE_MARK
from tsrec.estimators._weights_file import as_arrays, as_tensors
from tsrec.estimators.errors import LoadError, ModelNotFoundError

FORMAT = "tsrec-estimator"
# version 1 checksummed only the weights; version 2 checksums config.json too; version 3 stores each
# forecaster series' time step (older tsrec would read it off the few saved rows, wrongly); version 4
# marks tuple parameters (JSON writes them as lists, which an older tsrec would pass on unmarked)
# and stores the scaler's row count and the series ids' dtypes. All load.
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
CONFIG, WEIGHTS = "config.json", "weights.safetensors"
SAVED_FILES = frozenset({CONFIG, WEIGHTS})
CONFIG_SHA = "config_sha256"


# ---- writing ---------------------------------------------------------------------------------


def write_folder(path: str | os.PathLike, config: dict, tensors: dict, fast: bool = True) -> Path:
    """Write ``config`` and ``tensors`` (torch tensors, or NumPy arrays) to the folder ``path`` atomically.

    The complete new folder is built beside ``path`` under a unique name, flushed to disk and
    swapped in by one atomic rename (Linux), so the folder always holds the earlier complete save
    or the new one. Residual window: a reader that opens config.json before the swap and the
    weights after it gets a mix, which the checksums turn into a LoadError (reading again
    succeeds); where the atomic swap is missing, see :func:`_swap_by_two_renames`.
    Only an empty folder or an earlier complete tsrec save is replaced; anything else may be the
    user's data and is refused. A symbolic link is followed: its folder is replaced, the link kept.
    ``fast=False`` writes the weights with torch's writer (the same bytes, slower for panels).
    """
    target = _absolute_target(path)
    _refuse_working_folder(target, path)
    refuse_inside_a_save(target, path)
    if not _readable_replaceable(target, path):
        raise FileExistsError(
            f"{path} exists and is not a saved tsrec estimator (only an empty folder or an earlier save "
            f"holding just {CONFIG} and {WEIGHTS} is replaced); choose another path or empty it"
        )
    try:
        # a failed save removes the parent folders it made, as a failed file write does
        with made_folders(target.parent):
            staging = Path(tempfile.mkdtemp(prefix=f".{hidden_stem(target.name)}.tsrec-new-", dir=target.parent))
            try:
                _write_files(staging, config, tensors, fast)
                _set_modes(staging, target)
                _swap_in(staging, target)
                fsync_folder(target.parent)  # the save is complete: a refused flush is no failure
            finally:
                # after a swap this holds the earlier save (or the empty folder it replaced)
                remove_tree(staging)
    except OSError as err:  # it named the hidden staging folder, not the path asked for, and no fix
        raise os_error(err, f"cannot save to {path}") from None
    return Path(path)


def _absolute_target(path: str | os.PathLike) -> Path:
    """``path`` made absolute ("." or "a/.." give no name for the staging folder), its link followed;
    a path the system refuses (a name over 255 bytes, a deleted working folder) named with the fix."""
    if "\x00" in str(os.fspath(path)):  # os's bare "embedded null byte" named neither the path nor the fix
        raise ValueError(f"cannot save to {str(path)!r}: the path holds a NUL character; remove it")
    try:
        return Path(os.path.abspath(_follow_link(Path(path))))
    except FileExistsError:  # a loop of links, named by _follow_link
        raise
    except FileNotFoundError as err:  # os.getcwd: the working folder was deleted
        raise os_error(err, f"cannot save to {path}", "the working folder was deleted; give an absolute path, "
                            "or change to an existing folder (os.chdir)") from None
    except OSError as err:
        raise os_error(err, f"cannot save to {path}") from None


def _refuse_working_folder(target: Path, path: object) -> None:
    """A save swaps the folder at ``target`` out; the process's working folder must not be it or
    inside it (the process would be left in a deleted folder)."""
    try:
        here, there = Path.cwd().resolve(), target.resolve()
    except (OSError, RuntimeError):  # no working folder (deleted) or a loop of links
        return
    if there == here or there in here.parents:
        # a subfolder of an earlier save is refused as inside a save: name one beside it instead
        fix = (f"another folder, e.g. {there.with_name(there.name + '-new')}" if (there / CONFIG).exists() else
               f"a subfolder, e.g. {Path(path) / 'model'}")
        raise ValueError(f"cannot save to {path}: it is the current working folder or holds it, and a save "
                         f"replaces the whole folder; save to {fix}")


def _follow_link(path: Path) -> Path:
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError) as err:  # a loop of links
        raise FileExistsError(f"{path} is a symbolic link that cannot be followed ({err}); "
                              "choose another path") from None


def _readable_replaceable(target: Path, path: object) -> bool:
    """:func:`_replaceable`, with a folder this user may not list reported as such (not as a bare PermissionError)."""
    try:
        return _replaceable(target)
    except OSError as err:
        raise os_error(err, f"cannot save to {path} (its contents must be read to check that it holds only an "
                            "earlier save)", READ_FIX) from None


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` and everything in it, as far as this user may; never raises.

    A save replaces an earlier save whose folder may be read-only (chmod 555): its files can only be
    deleted once their folder is writable, so each folder is made writable for its owner first (its
    files are being deleted anyway). Cleanup never fails a save whose new model is already in place.
    """
    _unlock(folder)
    for root, dirs, _files in os.walk(folder):  # top-down: each folder is unlocked before it is listed
        for name in dirs:
            _unlock(Path(root, name))
    shutil.rmtree(folder, ignore_errors=True)


def _unlock(folder: Path) -> None:
    """Give the owner read, write and search rights on ``folder`` (never through a link), if allowed."""
    try:
        if not folder.is_symlink():
            os.chmod(folder, folder.stat().st_mode | stat.S_IRWXU)
    except OSError:
        pass  # not this user's folder: rmtree leaves what it cannot delete


def _replaceable(folder: Path) -> bool:
    """True when writing to ``folder`` loses nothing: it is absent, empty, or a complete tsrec save."""
    if not os.path.lexists(folder):
        return True
    if folder.is_symlink() or not folder.is_dir():
        return False
    entries = list(folder.iterdir())
    return not entries or _is_complete_save(folder, entries)


def refuse_inside_a_save(target: Path, path: str | os.PathLike) -> None:
    """A save inside an earlier one makes that folder hold more than its save wrote: a later save
    over it refused it as no save of tsrec's."""
    holder = saved_folder_holding(target.parent)
    if holder is not None:
        raise FileExistsError(f"{path} lies inside the saved model {holder}; save elsewhere (e.g. beside it), so "
                              "that the earlier save stays one that a later save can replace")


def saved_folder_holding(path: str | os.PathLike) -> Path | None:
    """The tsrec save that ``path`` is or lies inside (None when none): a file written there would
    make the save's folder hold more than ``save`` wrote, and a later ``save`` over it refuse it."""
    here = Path(os.path.realpath(path))
    for folder in (here, *here.parents):
        try:  # the config first: listing each parent took 0.7 s beside 200,000 files
            if (folder / CONFIG).is_file() and _is_complete_save(folder, list(folder.iterdir())):
                return folder
        except OSError:
            continue  # an unreadable folder is no save this user made; its own check names it
    return None


def _is_complete_save(folder: Path, entries: list[Path]) -> bool:
    """Exactly the two regular files tsrec writes, the config carrying tsrec's format tag."""
    if {p.name for p in entries} != SAVED_FILES or any(p.is_symlink() or not p.is_file() for p in entries):
        return False
    try:  # an OSError (a config this user may not read) is left to the caller, to name with its fix
        config = json.loads((folder / CONFIG).read_text())
    except (ValueError, RecursionError):
        return False
    return isinstance(config, dict) and config.get("format") == FORMAT


def _write_files(folder: Path, config: dict, tensors: dict, fast: bool = True) -> None:
    weights = folder / WEIGHTS
    arrays = as_arrays(tensors) if fast else None  # a panel's many contexts: NumPy's writer, the same bytes
    try:
        if arrays is None:
            save_file(as_tensors(tensors), str(weights))
        else:
            save_arrays(arrays, str(weights))
    except SafetensorError as err:  # its writer's I/O errors (a full disk) are no OSError: write_folder names the path
        raise _as_os_error(err) from None
    config = dict(config, weights_sha256=_sha256(weights.read_bytes()))
    # the checksum is taken over the config as it will be read back (JSON turns tuples into lists)
    config[CONFIG_SHA] = _config_sha256(json.loads(json.dumps(config)))
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    for item in (weights, folder / CONFIG):
        fsync_path(item)  # the data is on disk before the rename makes it visible
    fsync_folder(folder)


def _as_os_error(err: Exception) -> OSError:
    """safetensors' error for a failed write, as the OSError it reports ("... (os error 28)")."""
    found = re.search(r"os error (\d+)", str(err))
    if found is None:
        return OSError(f"writing {WEIGHTS} failed ({err})")
    code = int(found.group(1))
    return OSError(code, os.strerror(code))


def _set_modes(staging: Path, target: Path) -> None:
    """The saved folder's and files' permissions as for anything else the user makes (the umask), or the
    replaced folder's: mkdtemp makes the folder private (0700) and safetensors the weights (0600), so
    that a model saved for a group or a serving account could not be loaded by them."""
    probe = staging / ".umask"
    os.close(os.open(probe, os.O_CREAT | os.O_WRONLY, 0o666))  # created as the umask allows: the file mode
    file_mode = stat.S_IMODE(probe.stat().st_mode)
    probe.unlink()
    os.chmod(staging / WEIGHTS, file_mode)
    if target.is_dir():
        folder_mode = stat.S_IMODE(target.stat().st_mode)
    else:
        os.mkdir(probe)
        folder_mode = stat.S_IMODE(probe.stat().st_mode)
        probe.rmdir()
    os.chmod(staging, folder_mode)


def _still_replaceable(folder: Path) -> bool:
    """:func:`_replaceable` of the earlier folder once swapped out; one that cannot be read now is kept."""
    try:
        return _replaceable(folder)
    except OSError:
        return False


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; an existing ``target`` ends up at ``staging``."""
    if not os.path.lexists(target):
        os.replace(staging, target)  # fails, losing nothing, if a non-empty folder appeared meanwhile
        return
    if _exchange(staging, target):
        if not _still_replaceable(staging):  # someone filled the folder since it was checked: undo
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
    backup = Path(tempfile.mkdtemp(prefix=f".{hidden_stem(target.name)}.tsrec-old-", dir=target.parent))
    os.replace(target, backup)  # a folder may be renamed onto an empty one
    if not _still_replaceable(backup):
        os.replace(backup, target)
        _refuse_changed(target)
    try:
        os.replace(staging, target)
    except BaseException:  # Ctrl-C included: put the earlier save back
        os.replace(backup, target)
        raise
    remove_tree(backup)  # the new model is in place: a backup that cannot be removed fails nothing


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


# ---- reading ---------------------------------------------------------------------------------


def read_folder(path: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read and verify a saved folder; every failure is a :class:`LoadError` saying what is wrong."""
    folder = Path(path)
    try:
        hint = sktime_zip_hint(folder) or _interrupted_hint(folder)  # where the model may be instead
        if not os.path.lexists(folder) and not hint:
            raise ModelNotFoundError(f"{path} is not a saved tsrec estimator: no such folder; check the path, or "
                                     "pass a folder written by est.save")
        if folder.name == CONFIG and folder.is_file():
            raise LoadError(f"{folder} is a saved estimator's {CONFIG}; pass its folder, {folder.parent}")
        if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
            missing = [name for name in (CONFIG, WEIGHTS) if not (folder / name).is_file()]
            state = "is not a file" if os.path.lexists(folder / missing[0]) else "is missing"  # e.g. a folder
            which = f", and {missing[0]} {state}" if len(missing) == 1 else ""  # both: nothing of a save there
            raise LoadError(f"{folder} is not a saved tsrec estimator: {CONFIG} and {WEIGHTS} are needed{which}{hint}")
        config = _read_config(folder / CONFIG)
        weights = (folder / WEIGHTS).read_bytes()  # read once: the checked bytes are the loaded bytes
    except ModelNotFoundError:
        raise
    except OSError as err:  # a folder this user may not read, a name over 255 bytes
        fix = READ_FIX if isinstance(err, PermissionError) else None
        raise os_error(err, f"cannot read the saved estimator {folder}", fix) from None
    if _sha256(weights) != config.get("weights_sha256"):
        raise LoadError(f"{folder / WEIGHTS} does not match its checksum: it was truncated or modified")
    try:
        tensors = load_tensors(weights)
    except Exception as err:  # safetensors raises its own error type
        raise LoadError(f"{folder / WEIGHTS} cannot be read ({err})") from None
    return config, tensors


def sktime_zip_hint(path: str | os.PathLike) -> str:
    """Where ``path`` (or ``path.zip``, sktime's name for it) is the zip that
    ``est.save(path, serialization_format="pickle")`` writes, say that sktime reads it; else ""."""
    for candidate in (Path(path), Path(f"{path}.zip")):
        if candidate.is_file() and zipfile.is_zipfile(candidate):
            return (f"; {candidate} is an sktime zip (est.save(path, serialization_format=...)), which "
                    f"sktime.base.load(pathlib.Path({str(candidate)!r})) reads (a str would get .zip added); "
                    "est.save(folder) writes what tsrec.load reads")
    return ""


def _interrupted_hint(folder: Path) -> str:
    """Name the earlier save an interrupted save left beside ``folder``, if there is one."""
    parent = folder.absolute().parent
    left = sorted(parent.glob(f".{hidden_stem(folder.name)}.tsrec-old-*")) + sorted(parent.glob(f".{folder.name}.old"))
    if not left:
        return ""
    return f"; an interrupted save left the earlier model in {left[0]}: rename it to {folder} to recover it"


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text())
    except (ValueError, RecursionError) as err:  # bad JSON or UTF-8, a 4300-digit number, deep nesting
        raise LoadError(f"{path} is not valid JSON ({err}); the file is damaged") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise LoadError(f"{path} is not a tsrec estimator config")
    version = config.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # 4.0 and True (== 1) compare equal
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
    _check_written_by_its_version(path, config, version)
    return config


def _check_written_by_its_version(path: Path, config: dict, version: int) -> None:
    """A config whose format version is lower than the one it was written in had its version edited:
    lowered to 1, a config checksum (format 2 on) was no longer checked, so any edit loaded. Told by
    what only later formats hold: column names (format 2 on), series steps (3 on), tuple marks,
    scaler row counts, id dtypes and class weights (4 on). A config that holds none of these (a classifier fitted
    on arrays) reads as a true format-1 save, which has to keep loading: folders saved by earlier
    versions load, so such an edit is out of reach, as is one that recomputes the checksum."""
    fitted = config["fitted"]
    series = fitted.get("series")
    steps = isinstance(series, list) and any(isinstance(spec, dict) and "step" in spec for spec in series)
    scaler = fitted.get("scaler")
    version_2 = CONFIG_SHA in config or "feature_names_in" in fitted
    # class_weight (a classifier's, written even as None) came in format 4 too
    version_4 = TUPLE_MARK in json.dumps(config["params"]) or "id_dtypes" in fitted \
        or (isinstance(scaler, dict) and "n_samples_seen" in scaler) or "class_weight" in config["params"]
    if (version < 2 and version_2) or (version < 3 and steps) or (version < 4 and version_4):
        raise LoadError(f"{path} says format_version {version}, but holds what only later versions write: it was "
                        f"edited; {_SAVE_AGAIN}")


_SAVE_AGAIN = "save the model again from the fitted estimator (est.save(path))"


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
