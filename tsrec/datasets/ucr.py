"""Load UCR/UEA classification problems from their ``.ts`` files, without sktime.

A ``.ts`` file has comment lines (starting ``#`` or ``%``), header lines (``@problemName``,
``@timeStamps``, ``@missing``, ``@univariate``, ``@dimensions``, ``@equalLength``,
``@seriesLength``, ``@classLabel true <labels>``) and, after ``@data``, one case per line: channels separated by
``:``, values within a channel by ``,``, the class label last. ``?`` marks a missing value.

Where files are looked for (the lookup the forecasting loaders share, ``tsrec.datasets._datadir``,
then sktime's folder): ``data_dir`` alone when it is given; otherwise, in order:

1. the folder in the environment variable ``TSREC_DATA`` (an empty value counts as unset);
2. ``<repository>/../shared/data``, where the data lies in a development checkout;
3. the data folder that sktime installs with itself, which holds a few problems (ArrowHead,
   BasicMotions, GunPoint, ItalyPowerDemand, JapaneseVowels, OSULeaf, ...) byte for byte as
   the archive has them.

One rule says where a problem's file lies, for :func:`load_ucr` and :func:`list_ucr` alike: in each
root, ``<name>_TRAIN.ts`` (or ``<name>_train.ts``; ``_TEST``/``_test`` for the test split) in the
folders ``UCR_UEA/<name>/``, ``<name>/``, ``UCR_UEA/`` and the root itself, tried in that order. Other
places (``<group>/<name>_TRAIN.ts``) and spellings (``<name>_Train.ts``) are neither read nor listed.
A file found in 2. or 3. while ``TSREC_DATA`` is set (so that it lacks the file) warns, naming where
it was read from.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tsrec._checks import check_int
from tsrec._files import READ_FIX
from tsrec._warn import warn_user
from tsrec.datasets._checks import closest_names, did_you_mean, path_hint
from tsrec.datasets._datadir import data_roots, first_file, warn_if_fallback
from tsrec.datasets._filecheck import file_sha256, warn_if_unpublished
from tsrec.datasets._ts_file import read_ts
from tsrec.errors import InputError

__all__ = ["list_ucr", "load_ucr"]

_SPLITS = ("train", "test")
_PADS = ("error", "last")
# published case counts and SHA-256 digests of the problems in the shared data folder, per split: a file
# cut at a line boundary parses cleanly, so only the count shows it is truncated; a flipped label only
# the digest. The counts are the archive's; the digests are those of the shared data folder's SHA256SUMS,
# whose files are copied from the released sktime 1.2.0 wheel (shared/data/MANIFEST.md)
PUBLISHED_CASES = {
    "ACSF1": {
        "train": (100, "0646b90dc4843e02baed6b2ba345c5601a4991b6796565489cef1b2d92a7537b"),
        "test": (100, "93e8aaeb44a10af181d24a156e60da7021193cd990ca28f263fccf3b905bfebf"),
    },
    "ArrowHead": {
        "train": (36, "a83c470aaf611a5f5284377cce27a5fc9f6292bc3d110257b0fd4905ced5ee72"),
        "test": (175, "5417dab42626d41df5e435bb22458c2df40dfad4bcd3b59559bbe72e20e84904"),
    },
    "BasicMotions": {
        "train": (40, "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6"),
        "test": (40, "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc"),
    },
    "GunPoint": {
        "train": (50, "f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5"),
        "test": (150, "79332750788a6227b325b96bd0d70130c8eb707b9731f8d7dec62b7a7d36017e"),
    },
    "ItalyPowerDemand": {
        "train": (67, "341269cb7e6cef96846b30e774580beec79addb93848ba360145219115a74b7c"),
        "test": (1029, "26122451f87dd0387ef90b18bc8a86c041371b8a1c068004922b939971247144"),
    },
    "JapaneseVowels": {
        "train": (270, "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd"),
        "test": (370, "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462"),
    },
    "OSULeaf": {
        "train": (200, "86b9d6e860414ffd26cebc62fff84ffb37fa588ef3e5bf79e4094a437c36ddfc"),
        "test": (242, "6c549dd354f9e42d5985fa5fab75321ca9acefc7873457e71467fc8a31f107ce"),
    },
}


def _roots(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    """Folders to search, in order: the shared data-folder lookup, then sktime's own data folder."""
    roots = data_roots(data_dir)
    bundled = sktime_data_folder()
    if data_dir is None and bundled is not None:
        roots.append(bundled)
    return roots


def sktime_data_folder() -> Path | None:
    """The folder of ``.ts`` files installed with sktime, found without importing sktime."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


def _candidates(root: Path, name: str, split: str) -> list[Path]:
    """Paths where ``name``'s ``split`` file may lie under ``root``, in search order: the one layout rule of
    load_ucr and list_ucr (see the module docstring)."""
    files = [f"{name}_{split.upper()}.ts", f"{name}_{split}.ts"]
    folders = [root / "UCR_UEA" / name, root / name, root / "UCR_UEA", root]
    return [folder / f for folder in folders for f in files]


def _tried(roots: list[Path], name: str, split: str) -> list[Path]:
    """Every path load_ucr tries for ``name``'s ``split`` file, in order; the first existing one is read."""
    return [path for root in roots for path in _candidates(root, name, split)]


def _find_file(name: str, split: str, data_dir: str | os.PathLike[str] | None) -> Path:
    """Return the first existing file, or raise InputFileNotFoundError listing every path tried."""
    roots = _roots(data_dir)
    tried = _tried(roots, name, split)
    # a misspelt or miscased name ("gunpoint") is likelier than a missing file: name the close one found
    found = set() if any(p.is_file() for p in tried) else {n for root in roots for n in _names_in(root)}
    what = f"UCR/UEA file for {name!r} ({split}){did_you_mean(name, found)}"
    # after "did you mean 'GunPoint'?", a fix that spells 'gunpoint' again would repeat the slip; of
    # names equally close ("did you mean 'Foo1' or 'Foo2'?") the message cannot pick one
    close = closest_names(name, found)
    fix = f"Pass name={close[0]!r}: its files are in a folder searched." if len(close) == 1 else None
    path = first_file(tried, what, f"Put {name}_{split.upper()}.ts in <folder>/UCR_UEA/{name}/", data_dir, fix)
    warn_if_fallback(path, data_dir)
    return path


def _stack(cases: list[list[np.ndarray]], pad: str, length: int | None, path: Path) -> np.ndarray:
    """Cases -> [N, C, T] float64, padding at the end by repeating the last non-missing value if asked."""
    lengths = [c[0].size for c in cases]
    longest = max(lengths)
    if pad == "error":
        if len(set(lengths)) > 1:
            raise ValueError(
                f"{path.name} has unequal series lengths ({min(lengths)}..{longest}); pass pad='last' to "
                "pad each series at the end with its last value (and length=N to fix the padded length, "
                "e.g. the same N for train and test)"
            )
        return np.stack([np.stack(c) for c in cases])
    target = longest if length is None else length
    if target < longest:
        raise ValueError(f"length={target} is shorter than the longest series ({longest}) in {path.name}; padding "
                         f"never truncates: give length >= {longest}, and at least the other split's longest so that "
                         "train and test share one length, or truncate the series yourself after loading")
    _check_padded_size(len(cases), len(cases[0]), target, longest)
    out = np.empty((len(cases), len(cases[0]), target), dtype=np.float64)
    for i, case in enumerate(cases):
        block = np.stack(case)
        out[i, :, : block.shape[1]] = block
        out[i, :, block.shape[1] :] = _last_observed(block)[:, None]
    return out


def _check_padded_size(n_cases: int, n_channels: int, length: int, longest: int) -> None:
    """Refuse a padded ``length`` whose array could not fit in memory (a typo of a few zeros would
    reach numpy's MemoryError, or an allocation that swaps the machine to a halt)."""
    # imported here: tsrec.kernels brings torch, which importing the loaders must not (only padding needs it)
    from tsrec.kernels._memory import physical_memory

    memory, need = physical_memory(), n_cases * n_channels * length * 8
    if memory is not None and need > memory:
        raise ValueError(f"length={length:,} pads {n_cases} series of {n_channels} channel(s) to {need / 2**30:.3g} "
                         f"GiB, more than the {memory / 2**30:.3g} GiB of memory this process may use; pass a length "
                         f"near the longest series ({longest}) or leave length=None")


def _last_observed(block: np.ndarray) -> np.ndarray:
    """Each channel's last value that is not missing (NaN for a channel with none): a series ending in
    ``?`` would otherwise be padded with NaN."""
    seen = ~np.isnan(block)
    last = block.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
    return np.where(seen.any(axis=1), block[np.arange(len(block)), last], np.nan)


def load_ucr(
    name: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    pad: str = "error",
    length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a UCR/UEA classification problem from its ``.ts`` file.

    Parameters
    ----------
    name : str
        Problem name as in the archive, e.g. ``"GunPoint"`` or ``"BasicMotions"``.
    split : {"train", "test"}, default="train"
        Which file to read: ``<name>_TRAIN.ts`` or ``<name>_TEST.ts`` (or ``_train``, ``_test``), the first
        found in ``UCR_UEA/<name>/``, ``<name>/``, ``UCR_UEA/`` or the folder itself (the module docstring's rule,
        which :func:`list_ucr` follows too).
    data_dir : str or path-like, optional
        Folder to search, alone (see the module docstring). Default: ``$TSREC_DATA``, then the
        development folder ``<repository>/../shared/data``, then the data folder installed with
        sktime (a few problems such as ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand,
        JapaneseVowels; found without importing sktime).
    pad : {"error", "last"}, default="error"
        What to do with unequal lengths (e.g. JapaneseVowels). ``"error"`` raises a ValueError.
        ``"last"`` pads every series at its end by repeating its last non-missing value (per
        channel), up to the longest series in the file or to ``length``; missing values within the
        series, a trailing ``?`` included, stay NaN (``1,2,?`` padded to 4 is ``[1, 2, nan, 2]``).
    length : int, optional
        Padded length (requires ``pad="last"``). Give the same value for train and test so their
        shapes match; a series longer than ``length`` raises a ValueError (nothing is truncated).

    Returns
    -------
    X : ndarray of float64
        ``(n_samples, n_timepoints)`` for univariate problems, ``(n_samples, n_channels,
        n_timepoints)`` for multivariate ones. Missing values (``?``) are NaN.
    y : ndarray of str
        Class labels, as written in the file, shape ``(n_samples,)``.

    Raises
    ------
    InputFileNotFoundError
        The file is in none of the searched places (the message lists them, and names a problem
        found there whose name is close, e.g. ``GunPoint`` for ``"gunpoint"``), or ``data_dir`` is
        not an existing folder. Both a ``FileNotFoundError`` and a ``ValueError`` (tsrec's
        ``InputError``).
    ValueError
        Bad arguments, a malformed file (the message gives the line number: e.g. an infinite value,
        a ``1_000``, a ``?``/``nan`` under ``@missing false``, or cases of unequal length under
        ``@equalLength true``), a compressed file (gzip, zip, bzip2, xz, zstd) or Git LFS pointer
        (the message says how to get the text file), a file of a problem listed in
        ``PUBLISHED_CASES`` with another number of cases (truncated) or that is the other split's
        published file, or unequal lengths with ``pad="error"``.
    TypeError
        ``data_dir`` is not a path.
    PermissionError
        The file may not be read by this user (the message says how to make it readable).

    Warns
    -----
    UnpublishedDataWarning
        Once per changed copy, when a ``PUBLISHED_CASES`` problem's file passes the checks but its
        SHA-256 differs from the published file's: scores may not compare with published numbers.

    Examples
    --------
    >>> X, y = load_ucr("GunPoint")
    >>> X.shape, y[:3]
    ((50, 150), array(['2', '2', '1'], dtype='<U1'))
    >>> X, y = load_ucr("JapaneseVowels", "test", pad="last", length=29)
    >>> X.shape
    (370, 12, 29)
    """
    _check_args(name, split, pad, length)
    path = _find_file(name, split.lower(), data_dir)
    cases, labels = read_ts(path)
    _check_published(name, split.lower(), len(cases), path)
    X = _stack(cases, pad, length, path)
    return (X[:, 0] if X.shape[1] == 1 else X), np.asarray(labels, dtype=str)


def _check_published(name: str, split: str, n_cases: int, path: Path) -> None:
    """A problem whose published file is known must have its case count (fewer: truncated) and must not
    be the other split's published file (BasicMotions' and ACSF1's splits hold as many cases: a model
    would train on the test set); other bytes warn."""
    if name not in PUBLISHED_CASES:
        return
    published, digest = PUBLISHED_CASES[name][split]
    other = next(other for other in PUBLISHED_CASES[name] if other != split)
    if file_sha256(path) == PUBLISHED_CASES[name][other][1]:
        raise InputError(
            f"{path} is the published {name} {other} file, not the {split} file: its SHA-256 is the {other} "
            f"split's. Put {name}'s {split} file there (re-download it from the UCR/UEA archive, "
            f"timeseriesclassification.com), or load this one with split={other!r}"
        )
    if n_cases != published:
        raise ValueError(
            f"{path} has {n_cases} cases but the published {name} {split} split has {published}: "
            "the file is truncated or another copy; "
            "re-download it from the UCR/UEA archive (timeseriesclassification.com)"
        )
    warn_if_unpublished(path, digest, f"{name} {split}")


def _is_problem_name(name: object) -> bool:
    """Whether ``name`` can name a problem: a non-empty string that cannot lead out of the data folder."""
    return isinstance(name, str) and bool(name) and not any(s in name for s in ("/", "\\", ".."))


def _check_args(name: object, split: object, pad: object, length: object) -> None:
    """Validate the arguments of :func:`load_ucr`."""
    if not _is_problem_name(name):
        raise ValueError(f"name must be a dataset name such as 'GunPoint', got {name!r}{path_hint(name)}")
    if not isinstance(split, str) or split.lower() not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not isinstance(pad, str) or pad not in _PADS:
        raise ValueError(f"pad must be 'error' or 'last', got {pad!r}")
    if length is not None:
        if pad != "last":
            raise ValueError("length= only applies with pad='last'")
        check_int("length", length)


def list_ucr(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the UCR/UEA classification problems that :func:`load_ucr` can read.

    A problem is listed when a file of it lies where :func:`load_ucr` looks (the layout rule of the module
    docstring: ``<name>_TRAIN.ts`` or ``<name>_train.ts``, likewise for the test split, in ``UCR_UEA/<name>/``,
    ``<name>/``, ``UCR_UEA/`` or the root) and the train or the test file that load_ucr reads declares class
    labels (``@classLabel true ...``). Regression problems (``@targetLabel``, e.g. sktime's Covid3Month and
    Tecator) are left out: load_ucr reads labelled classification files only. Files elsewhere
    (``<group>/<name>_TRAIN.ts``) or spelt otherwise (``<name>_Train.ts``) are not listed, as load_ucr does
    not find them.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Folder to search; default as in :func:`load_ucr`.

    Returns
    -------
    list of str
        Sorted problem names whose train or test file, the one load_ucr reads, has class labels.

    Raises
    ------
    InputFileNotFoundError
        ``data_dir`` is not an existing folder (a ``FileNotFoundError`` and a ``ValueError``).
    TypeError
        ``data_dir`` is not a path.

    Examples
    --------
    >>> "GunPoint" in list_ucr(), "Tecator" in list_ucr()
    (True, False)
    """
    roots = _roots(data_dir)
    names = {name for root in roots for name in _names_in(root)}
    return sorted(name for name in names if any(_has_class_labels(path) for path in _files_read(roots, name)))


def _files_read(roots: list[Path], name: str) -> Iterator[Path]:
    """The train and test files load_ucr reads for ``name`` (the first existing of its search), where found."""
    for split in _SPLITS:
        found = next((path for path in _tried(roots, name, split) if path.is_file()), None)
        if found is not None:
            yield found


def _names_in(root: Path) -> Iterator[str]:
    """Problem names with a file under ``root`` where load_ucr looks: a file is one of its name's candidates."""
    # every folder of the layout rule lies at most two levels below the root
    for path in [*root.glob("*.ts"), *root.glob("*/*.ts"), *root.glob("UCR_UEA/*/*.ts")]:
        name, _, suffix = path.stem.rpartition("_")
        split = suffix.lower()
        if _is_problem_name(name) and split in _SPLITS and path in _candidates(root, name, split):
            yield name


def _has_class_labels(path: Path) -> bool:
    """Whether the header (the lines before ``@data``) declares ``@classLabel true``; reads no data.

    A file this user may not read is skipped with a warning: one such file must not hide the others.
    """
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for raw in fh:
                words = raw.strip().lower().split()
                if words[:1] == ["@data"]:
                    return False
                if words[:2] == ["@classlabel", "true"]:
                    return True
    except PermissionError as err:
        warn_user(f"skipped {path}: cannot read it ({err.strerror}); {READ_FIX}")
    return False
