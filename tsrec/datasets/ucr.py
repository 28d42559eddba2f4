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

In each root the layouts ``UCR_UEA/<name>/<name>_TRAIN.ts``, ``<name>/<name>_TRAIN.ts`` and
``<name>_TRAIN.ts`` are tried.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from tsrec._checks import check_int
from tsrec.datasets._checks import did_you_mean
from tsrec.datasets._datadir import data_roots, first_file

__all__ = ["list_ucr", "load_ucr"]

_SPLITS = ("train", "test")
_PADS = ("error", "last")
# the archive's files (and sktime's reader) use both: UnitTest opens with '%' lines
_COMMENTS = ("#", "%")
# published (train, test) case counts of the problems in the shared data folder: a file cut at a
# line boundary parses cleanly, so only the count shows it is truncated
PUBLISHED_CASES = {
    "ACSF1": (100, 100),
    "ArrowHead": (36, 175),
    "BasicMotions": (40, 40),
    "GunPoint": (50, 150),
    "ItalyPowerDemand": (67, 1029),
    "JapaneseVowels": (270, 370),
    "OSULeaf": (200, 242),
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
    """Paths where ``name``'s ``split`` file may lie under ``root``."""
    files = [f"{name}_{split.upper()}.ts", f"{name}_{split}.ts"]
    folders = [root / "UCR_UEA" / name, root / name, root]
    return [folder / f for folder in folders for f in files]


def _find_file(name: str, split: str, data_dir: str | os.PathLike[str] | None) -> Path:
    """Return the first existing file, or raise InputFileNotFoundError listing every path tried."""
    roots = _roots(data_dir)
    tried = [p for root in roots for p in _candidates(root, name, split)]
    # a misspelt or miscased name ("gunpoint") is likelier than a missing file: name the close one found
    found = set() if any(p.is_file() for p in tried) else {n for root in roots for n, _ in _files_in(root)}
    what = f"UCR/UEA file for {name!r} ({split}){did_you_mean(name, found)}"
    return first_file(tried, what, f"Put {name}_{split.upper()}.ts in <folder>/UCR_UEA/{name}/")


def _parse_header(tag: str, rest: str, header: dict[str, str], lineno: int) -> None:
    """Store one ``@tag value`` line; check the few tags whose values matter."""
    key = tag.lower()
    if key == "timestamps" and rest.lower() == "true":
        raise ValueError(f"line {lineno}: @timeStamps true is not supported (only plain value lists)")
    if key in ("univariate", "equallength", "missing") and rest.lower() not in ("true", "false"):
        raise ValueError(f"line {lineno}: @{tag} must be 'true' or 'false', got {rest!r}")
    if key in ("dimensions", "serieslength") and not rest.isdigit():
        raise ValueError(f"line {lineno}: @{tag} must be a positive integer, got {rest!r}")
    header[key] = rest


def _parse_values(text: str, lineno: int) -> np.ndarray:
    """One channel's comma-separated values -> float64 array (``?`` -> NaN)."""
    tokens = [t.strip() for t in text.split(",")]
    try:
        return np.array([np.nan if t == "?" else float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if t != "?" and not _is_float(t))
        raise ValueError(f"line {lineno}: cannot read {bad!r} as a number") from None


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _parse_case(line: str, lineno: int, labels: set[str]) -> tuple[list[np.ndarray], str]:
    """One data line -> (channels, label)."""
    *channels, label = line.split(":")
    label = label.strip()
    if not channels:
        raise ValueError(f"line {lineno}: expected '<values>:<label>', found no ':' separator")
    if label not in labels:
        raise ValueError(f"line {lineno}: class label {label!r} is not among @classLabel {sorted(labels)}")
    return [_parse_values(c, lineno) for c in channels], label


def _read_ts(path: Path) -> tuple[list[list[np.ndarray]], list[str]]:
    """Parse a ``.ts`` file into per-case channel lists and labels."""
    header: dict[str, str] = {}
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    declared: set[str] | None = None  # class labels, known once @data is reached
    for lineno, line in _lines(path):
        try:
            if declared is None:
                declared = _header_line(line, header, lineno)
                continue
            series, label = _parse_case(line, lineno, declared)
            _check_case(series, header, cases, lineno)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        cases.append(series)
        labels.append(label)
    if not cases:
        raise ValueError(f"{path}: no cases found (a file needs a header, @data, then one line per case)")
    return cases, labels


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's stripped lines that are neither blank nor comments, with their line numbers."""
    # utf-8-sig: some archive files start with a byte-order mark, which would hide a first comment
    with open(path, encoding="utf-8-sig") as fh:
        try:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.strip()
                if line and not line.startswith(_COMMENTS):
                    yield lineno, line
        except UnicodeDecodeError:
            raise ValueError(f"{path}: {_not_utf8(path)}") from None


def _not_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 lies, and how to re-save the file; the streaming
    decoder's error gives an offset within one chunk only, so the file is decoded whole here."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        where = f"line {line}: byte {data[err.start]:#04x} is not UTF-8"
    else:  # the file changed since it failed to decode
        where = "not UTF-8 text"
    return (
        f"{where}; .ts files are read as UTF-8: re-save the file as UTF-8, e.g. "
        "iconv -f latin1 -t utf-8 old.ts > new.ts if it is Latin-1"
    )


def _header_line(line: str, header: dict[str, str], lineno: int) -> set[str] | None:
    """Handle a line before the data; at ``@data`` return the declared class labels."""
    if not line.startswith("@"):
        raise ValueError(f"line {lineno}: data found before @data")
    tag, _, rest = line[1:].partition(" ")
    if tag.lower() != "data":
        _parse_header(tag, rest.strip(), header, lineno)
        return None
    words = header.get("classlabel", "").split()
    if len(words) < 2 or words[0].lower() != "true":
        raise ValueError(
            f"line {lineno}: '@classLabel true <labels>' must come before @data; "
            "only labelled classification files are supported"
        )
    return set(words[1:])


def _check_case(series: list[np.ndarray], header: dict[str, str], cases: list, lineno: int) -> None:
    """Channel count and, where declared, length agree with the header and earlier cases."""
    n_ch = len(series)
    expected = len(cases[0]) if cases else int(header.get("dimensions", n_ch))
    if header.get("univariate", "").lower() == "true":
        expected = 1
    if n_ch != expected:
        raise ValueError(f"line {lineno}: {n_ch} channels, expected {expected}")
    lengths = {s.size for s in series}
    if len(lengths) > 1:
        raise ValueError(f"line {lineno}: channels have different lengths {sorted(lengths)}")
    declared = header.get("serieslength")
    if header.get("equallength", "").lower() == "true" and declared and series[0].size != int(declared):
        raise ValueError(f"line {lineno}: series length {series[0].size}, header says @seriesLength {declared}")


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
        raise ValueError(f"length={target} is shorter than the longest series ({longest}) in {path.name}")
    out = np.empty((len(cases), len(cases[0]), target), dtype=np.float64)
    for i, case in enumerate(cases):
        block = np.stack(case)
        out[i, :, : block.shape[1]] = block
        out[i, :, block.shape[1] :] = _last_observed(block)[:, None]
    return out


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
        Which file to read (``<name>_TRAIN.ts`` or ``<name>_TEST.ts``).
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
        Bad arguments, a malformed file (the message gives the line number), a file of a problem
        listed in ``PUBLISHED_CASES`` with another number of cases (truncated), or unequal
        lengths with ``pad="error"``.

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
    cases, labels = _read_ts(path)
    _check_case_count(name, split.lower(), len(cases), path)
    X = _stack(cases, pad, length, path)
    return (X[:, 0] if X.shape[1] == 1 else X), np.asarray(labels, dtype=str)


def _check_case_count(name: str, split: str, n_cases: int, path: Path) -> None:
    """A problem whose published size is known must have it: fewer cases means a truncated file."""
    if name in PUBLISHED_CASES and n_cases != PUBLISHED_CASES[name][_SPLITS.index(split)]:
        raise ValueError(
            f"{path} has {n_cases} cases but the published {name} {split} split has "
            f"{PUBLISHED_CASES[name][_SPLITS.index(split)]}: the file is truncated or another copy; "
            "re-download it from the UCR/UEA archive (timeseriesclassification.com)"
        )


def _check_args(name: object, split: object, pad: object, length: object) -> None:
    """Validate the arguments of :func:`load_ucr`."""
    if not isinstance(name, str) or not name or any(s in name for s in ("/", "\\", "..")):
        raise ValueError(f"name must be a dataset name such as 'GunPoint', got {name!r}")
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

    A problem is listed when a ``.ts`` file of it in the searched folders declares class labels
    (``@classLabel true ...``). Regression problems (``@targetLabel``, e.g. sktime's Covid3Month
    and Tecator) are left out: load_ucr reads labelled classification files only.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Folder to search; default as in :func:`load_ucr`.

    Returns
    -------
    list of str
        Sorted problem names that have a train or a test file with class labels.

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
    return sorted({name for root in _roots(data_dir) for name, path in _files_in(root) if _has_class_labels(path)})


def _files_in(root: Path) -> Iterable[tuple[str, Path]]:
    """(problem name, file) for ``*_TRAIN.ts``/``*_TEST.ts`` files in the layouts load_ucr searches."""
    for folder in (root / "UCR_UEA", root):
        if not folder.is_dir():
            continue
        for path in [*folder.glob("*.ts"), *folder.glob("*/*.ts")]:
            stem, _, suffix = path.stem.rpartition("_")
            if stem and suffix.lower() in _SPLITS:
                yield stem, path


def _has_class_labels(path: Path) -> bool:
    """Whether the header (the lines before ``@data``) declares ``@classLabel true``; reads no data."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for raw in fh:
            words = raw.strip().lower().split()
            if words[:1] == ["@data"]:
                return False
            if words[:2] == ["@classlabel", "true"]:
                return True
    return False
