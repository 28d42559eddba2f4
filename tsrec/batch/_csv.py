"""Reading one table as written: CSV ids as text, saved row numbers dropped and unnamed stamps kept as
the time column (CSV and Parquet), repeated names refused."""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from pathlib import Path

import pandas as pd

from tsrec.estimators.errors import InputError

# the byte-order marks of UTF-16, little- and big-endian; pandas already skips UTF-8's (EF BB BF)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of every gzip file


def read_csv(path: Path, compression: str | None, id_col: str | None, used: list[str] | None,
             time_col: str) -> pd.DataFrame:
    """The CSV file ``path`` as a frame.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    compression : str or None
        pandas' compression of the file (e.g. ``"gzip"``).
    id_col : str or None
        The series-id column, read as text exactly as written (None for wide files, whose ids are
        the headers).
    used : list of str or None
        The columns that will be read; None means every column (the series of a wide file). A
        header that names one of them twice is refused, and with None a first column without a
        name is dropped if it holds distinct integers (the row numbers of pandas'
        ``to_csv(index=True)``), else refused.
    time_col : str
        The time column: a first column without a name that holds no row numbers (``to_csv()``
        of a frame indexed by unnamed stamps) takes this name when no column has it.

    Returns
    -------
    pandas.DataFrame
        The file's columns.

    Raises
    ------
    InputError
        A used column is named twice, or (with ``used`` None) a later column has no name.
    """
    header = _header(path, compression)
    _check_separator(header, path)
    _check_header(header, path, used)
    # ids as text, and every text an id: "007" must not become 7, nor Namibia's "NA" a missing id;
    # a converter sees the text before pandas' NA strings apply (to this column only)
    raw = pd.read_csv(
        path, compression=compression, converters=None if id_col is None else {id_col: str},
        # the default parser may be off by one bit, so forecasts could differ from the same data in memory
        float_precision="round_trip",
    )
    if not isinstance(raw.index, pd.RangeIndex):
        # pandas takes the surplus leading fields of rows longer than the header as a row index,
        # shifting every column by one: nothing would be where its name says
        if header[0].strip().lower().startswith("sep="):  # Excel's separator hint, above the header
            raise InputError(
                f"{path}: line 1, {','.join(header)!r}, is Excel's separator hint, not the header; remove that line "
                "(the header must be the first line)"
            )
        if len(header) == 1:  # one name over rows of several: a title or comment line above the header
            raise InputError(
                f"{path}: line 1, {header[0]!r}, has one field but the rows below it have more; if it is a title "
                "or comment above the header, remove it (the header must be the first line)"
            )
        raise InputError(
            f"{path}: the data rows have more fields than the header's {len(header)} names (a delimiter "
            "at the end of each row does this); remove the extra fields or name them in the header"
        )
    if header[0] == "" and time_col not in header and not pd.api.types.is_integer_dtype(raw.iloc[:, 0].dtype):
        return raw.rename(columns={raw.columns[0]: time_col})  # stamps saved as an unnamed index
    if used is None and header[0] == "":
        first = raw.iloc[:, 0]
        if not (pd.api.types.is_integer_dtype(first.dtype) and first.is_unique):  # data, not row numbers
            raise _unnamed_column(path, 0)
        # a stored row index carries no data; the Parquet reader drops it too
        raw = raw.iloc[:, 1:]
    return raw


def index_to_columns(raw: pd.DataFrame, wanted: list[str], time_col: str) -> pd.DataFrame:
    """A Parquet table's wanted index levels (e.g. the time, saved as the index) as columns; the others dropped.

    pandas stores any index but a plain RangeIndex, e.g. the row numbers of shuffled rows; that
    is no data, and a wide file would read it as one more series. An unnamed index of stamps is
    the time column when no column has that name.
    """
    if raw.index.name is None and time_col not in raw.columns and pd.api.types.is_datetime64_any_dtype(raw.index):
        raw = raw.rename_axis(time_col)
    keep = [name for name in raw.index.names if name in wanted and name not in raw.columns]
    if keep:
        raw = raw.reset_index(level=keep)
    return raw.reset_index(drop=True)


def _header(path: Path, compression: str | None) -> list[str]:
    """The header cells as written (pandas renames repeats to "a.1" and empty cells to "Unnamed: 0")."""
    first = pd.read_csv(path, compression=compression, header=None, nrows=1, dtype=str, keep_default_na=False)
    return [str(cell) for cell in first.iloc[0]]


def _check_header(header: list[str], path: Path, used: list[str] | None) -> None:
    repeated = [name for name, n in Counter(header).items() if n > 1 and name and (used is None or name in used)]
    if repeated:
        raise InputError(
            f"{path}: the header names column {repeated[0]!r} {header.count(repeated[0])} times; give each "
            "column its own name (in a wide file each column is one series, named by its header)"
        )
    unnamed = [i for i, name in enumerate(header) if not name and i > 0]
    if used is None and unnamed:
        raise _unnamed_column(path, unnamed[0])


def _check_separator(header: list[str], path: Path) -> None:
    """A header read as one name that holds another separator: said first, as the data rows of a
    file with decimal commas ("1,5") would otherwise be blamed for their extra fields."""
    other = [sep for sep in ";\t|" if len(header) == 1 and sep in header[0]]
    if other:
        raise InputError(f"{path}: the header is one name, {header[0]!r}: the file is separated by {other[0]!r}; "
                         "save it comma-separated (with decimal points, not commas)")


def _unnamed_column(path: Path, position: int) -> InputError:
    return InputError(f"{path}: column {position + 1} has no name in the header; name it, or pick the series "
                      "columns with columns= (CLI: --columns)")


def read_fix(path: Path, kind: str, err: Exception) -> str:
    """The fix for a file its reader failed on: a Parquet file named .csv is only misnamed, not badly encoded."""
    start = _first_bytes(path, 4) if kind == "csv" else b""
    if start == b"PAR1":  # Parquet's magic number, with which every Parquet file starts
        return "this is a Parquet file: name it .parquet (or .pq)"
    if kind == "parquet" and _looks_like_csv(path):
        return "this is a text file, not Parquet: if it holds CSV, name it .csv"
    gzipped = _first_bytes(path, 2, unpack=False) == _GZIP_MAGIC
    if kind == "csv" and gzipped != path.name.lower().endswith(".gz"):  # the name says otherwise than the bytes
        return ("the file is gzip-compressed: name it .csv.gz" if gzipped else
                "the file is not gzip-compressed: name it without .gz (e.g. .csv)")
    if start[:2] in _UTF16_BOMS:  # not cp1252: that reads each character as two, with NUL bytes between
        sep = ", sep='\\t'" if _utf16_tab_separated(path) else ""
        return (f"the file is UTF-16 text (as Excel's 'Unicode Text' saves): save it as UTF-8 (Excel's 'CSV UTF-8', "
                f"or pd.read_csv(path, encoding='utf-16'{sep}).to_csv(new_path, index=False))")
    if isinstance(err, UnicodeDecodeError):
        return "save it as UTF-8 (e.g. Excel's 'CSV UTF-8', or pd.read_csv(path, encoding='cp1252').to_csv(...))"
    return f"check that it is a valid {kind} file"


def _looks_like_csv(path: Path) -> bool:
    """Whether a file named as Parquet is no Parquet file (those start with PAR1) but opens with a line of
    UTF-8 text that holds a comma, as a CSV file does."""
    start = _first_bytes(path, 4096, unpack=False)
    try:
        first_line = start.decode("utf-8").split("\n", 1)[0]
    except UnicodeDecodeError:  # 4096 bytes may cut a character: only the first line matters
        first_line = start.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    readable = "\ufffd" not in first_line and "\x00" not in first_line
    return not start.startswith(b"PAR1") and "," in first_line and readable


def _utf16_tab_separated(path: Path) -> bool:
    """Whether the first line of the UTF-16 file ``path`` has tabs (Excel's Unicode text is tab-separated)."""
    first = _first_bytes(path, 4096).decode("utf-16", errors="ignore")
    return "\t" in first.split("\n", 1)[0]


def _first_bytes(path: Path, n: int, unpack: bool = True) -> bytes:
    """The first ``n`` bytes of ``path`` (inside its gzip for .gz, unless not ``unpack``); empty where it
    cannot be read."""
    opener = gzip.open if unpack and path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            return file.read(n)
    except (OSError, EOFError, zlib.error):  # not gzip after all, cut short or unreadable: the reader's error stands
        return b""
