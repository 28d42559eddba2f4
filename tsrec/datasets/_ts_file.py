"""Parse one UCR/UEA ``.ts`` file into cases and labels (the format is described in :mod:`tsrec.datasets.ucr`).

Every error names the file and the line, and says how to repair the file; nothing is read half-way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tsrec.datasets._filecheck import refuse_packed
from tsrec.errors import InputError

# the archive's files (and sktime's reader) use both: UnitTest opens with '%' lines
_COMMENTS = ("#", "%")
_FIX = "re-download the file from the UCR/UEA archive (timeseriesclassification.com)"


def _damaged(lineno: int, what: str) -> InputError:
    """A line the archive's format does not allow: what is wrong, and the fix (as the header's checks give it)."""
    return InputError(f"line {lineno}: {what}; the file is damaged: correct it or {_FIX}")


def _parse_header(tag: str, rest: str, header: dict[str, str], lineno: int) -> None:
    """Store one ``@tag value`` line; check the few tags whose values matter."""
    key = tag.lower()
    if key == "timestamps" and rest.lower() == "true":
        raise ValueError(
            f"line {lineno}: @timeStamps true is not supported: tsrec reads only files without time stamps; "
            "convert the file to plain value lists (resample each series to a regular step, drop the stamps) "
            "and set '@timeStamps false'"
        )
    if key in ("univariate", "equallength", "missing") and rest.lower() not in ("true", "false"):
        raise _damaged(lineno, f"@{tag} must be 'true' or 'false', got {rest!r}")
    # str.isdigit() also accepts non-ASCII digits, which int() then reads ('٢' as 2) or refuses ('²') without a line
    if key in ("dimensions", "serieslength") and not (rest.isascii() and rest.isdigit() and int(rest) > 0):
        raise InputError(
            f"line {lineno}: @{tag} must be a positive integer in ASCII digits, got {rest!r}; "
            f"the header is damaged: correct it or {_FIX}"
        )
    header[key] = rest


def _parse_values(text: str, lineno: int, missing_ok: bool) -> np.ndarray:
    """One channel's comma-separated values -> float64 array (``?`` -> NaN).

    ``missing_ok`` is False where the header says ``@missing false``: a ``?`` or ``nan`` there is damage.
    """
    tokens = [t.strip() for t in text.split(",")]
    try:
        values = np.array([np.nan if t == "?" else float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if t != "?" and not _is_float(t))
        raise _damaged(lineno, f"cannot read {bad!r} as a number") from None
    # float() also reads '1_000', 'inf' and '1e999' (inf), which no archive file holds: check only the odd lines
    if "_" in text or not np.isfinite(values).all():
        _check_tokens(tokens, lineno, missing_ok)
    return values


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _check_tokens(tokens: list[str], lineno: int, missing_ok: bool) -> None:
    """Refuse the first token that is not a plain finite number (or an allowed missing value)."""
    for position, token in enumerate(tokens, start=1):
        if "_" in token:
            raise InputError(
                f"line {lineno}: value {position} {token!r} holds '_', which .ts files do not use; "
                f"the file is damaged: write the plain number ({token.replace('_', '')}) or {_FIX}"
            )
        value = math.nan if token == "?" else float(token)
        if math.isinf(value):
            raise InputError(
                f"line {lineno}: value {position} {token!r} is infinite (or beyond float64's range); "
                f"the file is damaged: {_FIX}"
            )
        if math.isnan(value) and not missing_ok:
            raise InputError(
                f"line {lineno}: value {position} {token!r} marks a missing value but the header says @missing "
                f"false: set '@missing true' if the gaps are meant, else the file is damaged: {_FIX}"
            )


def _parse_case(line: str, lineno: int, labels: set[str], missing_ok: bool) -> tuple[list[np.ndarray], str]:
    """One data line -> (channels, label); ``missing_ok``: whether ``?`` may stand for a value."""
    *channels, label = line.split(":")
    label = label.strip()
    if not channels:
        raise _damaged(lineno, "expected '<values>:<label>', found no ':' separator")
    if label not in labels:
        raise _damaged(lineno, f"class label {label!r} is not among @classLabel {sorted(labels)}")
    return [_parse_values(c, lineno, missing_ok) for c in channels], label


def read_ts(path: Path) -> tuple[list[list[np.ndarray]], list[str]]:
    """Parse a ``.ts`` file into per-case channel lists and labels.

    Parameters
    ----------
    path : Path
        The ``.ts`` file.

    Returns
    -------
    cases : list of list of ndarray
        Per case, one float64 array per channel (``?`` as NaN).
    labels : list of str
        The class label of each case.

    Raises
    ------
    ValueError
        A malformed file, with the line number (an :class:`~tsrec.errors.InputError` for damaged values,
        header integers or lengths, compressed files and Git LFS pointers).
    """
    refuse_packed(path, "a .ts text file")
    header: dict[str, str] = {}
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    declared: set[str] | None = None  # class labels, known once @data is reached
    for lineno, line in _lines(path):
        try:
            if declared is None:
                declared = _header_line(line, header, lineno)
                continue
            missing_ok = header.get("missing", "").lower() != "false"  # '?' is allowed unless declared absent
            series, label = _parse_case(line, lineno, declared, missing_ok)
            _check_case(series, header, cases, lineno)
        except ValueError as err:
            raise (InputError if isinstance(err, InputError) else ValueError)(f"{path}: {err}") from None
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
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a UTF-16 byte-order mark (Windows' "Unicode" text)
        return (f"{where}: the file is UTF-16 text; .ts files are read as UTF-8: re-save it as UTF-8, e.g. "
                "iconv -f utf-16 -t utf-8 old.ts > new.ts")
    return (
        f"{where}; .ts files are read as UTF-8: re-save the file as UTF-8, e.g. "
        "iconv -f latin1 -t utf-8 old.ts > new.ts if it is Latin-1"
    )


def _header_line(line: str, header: dict[str, str], lineno: int) -> set[str] | None:
    """Handle a line before the data; at ``@data`` return the declared class labels."""
    if not line.startswith("@"):
        raise _damaged(lineno, "data found before @data")
    # any whitespace parts tag and value: '@classLabel<TAB>true 1 2' is valid too
    tag, *rest = line[1:].split(maxsplit=1) or [""]  # a bare "@" is an empty tag, as before
    if tag.lower() != "data":
        _parse_header(tag, rest[0].strip() if rest else "", header, lineno)
        return None
    words = header.get("classlabel", "").split()
    if header.get("targetlabel", "").lower().split()[:1] == ["true"]:  # the archive's extrinsic-regression files
        raise ValueError(f"line {lineno}: '@targetLabel true': a regression problem (a number to predict for each "
                         "series), which tsrec does not read; load_ucr reads classification problems "
                         "('@classLabel true <labels>')")
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
        raise _damaged(lineno, f"{n_ch} channels, expected {expected}")
    lengths = {s.size for s in series}
    if len(lengths) > 1:
        raise _damaged(lineno, f"channels have different lengths {sorted(lengths)}")
    if header.get("equallength", "").lower() == "true":
        _check_equal_length(series[0].size, header.get("serieslength"), cases, lineno)


def _check_equal_length(size: int, declared: str | None, cases: list, lineno: int) -> None:
    """Under ``@equalLength true`` every case has the ``@seriesLength`` declared, else the first case's length.

    pad='last' would otherwise pad a short case of a file that promises none, hiding the damage.
    """
    if declared and size != int(declared):
        raise InputError(
            f"line {lineno}: series length {size}, header says @seriesLength {declared}; "
            f"the file is damaged: {_FIX}"
        )
    if cases and size != cases[0][0].size:
        raise InputError(
            f"line {lineno}: series length {size}, but the header says @equalLength true and the first case has "
            f"length {cases[0][0].size}; the file is damaged: {_FIX} (or set '@equalLength false' if the lengths "
            "are meant to differ)"
        )
