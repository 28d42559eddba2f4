"""Reading one CSV/Parquet file into a flat long frame: the format by extension, the layout's columns.

The checks across files (time zones, duplicates, spacing) are :func:`tsrec.batch.io.read_series`'s.
"""

from __future__ import annotations

import importlib
import os
import zlib
from pathlib import Path

import pandas as pd

from tsrec._files import READ_FIX, os_error
from tsrec._ids import id_text
from tsrec.batch._csv import index_to_columns, read_csv, read_fix
from tsrec.batch._frame_checks import check_series_names
from tsrec.batch._times import parse_times
from tsrec.batch._values import FIX_COLUMNS, check_ids, numeric
from tsrec.errors import InputError, InputFileNotFoundError

PathLike = str | os.PathLike
PYARROW_FIX = "pip install pyarrow (or, in the tsrec checkout, pip install -e '.[parquet]')"
# compressed CSV is decided by the suffix; the temporary output name hides it, so keep it here
_FORMATS = {".csv": ("csv", None), ".csv.gz": ("csv", "gzip"), ".parquet": ("parquet", None), ".pq": ("parquet", None)}


def check_parquet_engine(path: Path, action: str) -> None:
    """Refuse a Parquet ``path`` where pandas has no engine for it, before any slow work."""
    if file_format(path)[0] != "parquet":
        return
    for engine in ("pyarrow", "fastparquet"):  # pandas' engine="auto" tries these two
        try:
            importlib.import_module(engine)
        except ImportError:
            continue
        return
    raise ImportError(f"{action} {path} needs pyarrow: {PYARROW_FIX}")


def file_format(path: PathLike) -> tuple[str, str | None]:
    """Return ``(format, compression)`` of ``path`` from its extension.

    Parameters
    ----------
    path : str or os.PathLike
        A file name; only its extension is read (case-insensitive), the file need not exist.
        ``.csv``, ``.csv.gz``, ``.parquet`` and ``.pq`` are known.

    Returns
    -------
    tuple of (str, str or None)
        ``("csv", None)``, ``("csv", "gzip")`` or ``("parquet", None)``.

    Raises
    ------
    InputError
        The extension is none of the known ones.

    Examples
    --------
    >>> file_format("data/series.parquet")
    ('parquet', None)
    >>> file_format("series.csv.gz")
    ('csv', 'gzip')
    """
    name = Path(path).name.lower()
    # longest suffix first, so that ".csv.gz" wins over ".gz"
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    raise InputError(f"{path}: unknown file extension; use one of {', '.join(_FORMATS)} (CSV or Parquet)")


def _pattern_hint(path: Path) -> str:
    """For a name that is a pattern (``data/*.csv`` quoted in the shell, or passed as a string),
    which tsrec reads as one file name: how to give the files it matches."""
    if not any(char in str(path) for char in "*?["):
        return ""
    return (f" (it is read as one file name, not as a pattern: let the shell expand it, unquoted, or pass "
            f"sorted(Path({str(path.parent)!r}).glob({path.name!r})) in Python)")


def _read_table(path: Path, id_col: str | None, wanted: list[str], every: bool = False) -> pd.DataFrame:
    """The file as a frame; ``wanted`` columns stored as a Parquet index become columns again.

    ``wanted`` starts with the id column (long files) or the time column (wide); unnamed stamps
    saved as the index (``to_csv()``, ``to_parquet()``) are the time column. ``every``: all
    columns are used (a wide file's series), not only ``wanted``.
    """
    time_col = wanted[0] if id_col is None else wanted[1]
    if not path.exists():
        raise InputFileNotFoundError(f"{path}: file not found; check the path{_pattern_hint(path)}")
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass the .csv or .parquet files in it")
    if not path.is_file():  # a named pipe is read twice (header, then table): the second read waited forever
        raise InputError(f"{path} is not a regular file (a pipe or a device); write its contents to a file and "
                         "pass that")
    kind, compression = file_format(path)
    try:
        if kind == "parquet":
            raw = index_to_columns(pd.read_parquet(path), wanted, time_col)
        else:
            raw = read_csv(path, compression, id_col, None if every else wanted, time_col)
    except ImportError:
        raise ImportError(f"reading {path} needs pyarrow: {PYARROW_FIX}") from None
    except InputError:  # the CSV reader's own messages, already naming the file
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty; it needs a header row and data rows") from None
    except PermissionError as err:  # no format problem: say so, not "check that it is a valid file"
        raise os_error(err, f"cannot read {path}", READ_FIX) from None
    except (EOFError, zlib.error) as err:  # a .csv.gz cut short (a partial download) or damaged inside
        problem = "the compressed file is cut short" if isinstance(err, EOFError) else "the compressed data is damaged"
        raise InputError(f"cannot read {path} as CSV ({problem}); download or compress it again") from None
    except (ValueError, OSError) as err:  # parser errors, bad encodings, damaged Parquet
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot read {path} as {kind.upper()} ({message}); {read_fix(path, kind, err)}") from None
    if len(raw) == 0:
        raise InputError(f"{path} has no data rows; it needs at least one row per time step")
    return raw


def _require(raw: pd.DataFrame, path: Path, wanted: list[str], hint: str = "") -> None:
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {missing}; available columns: {list(raw.columns)}; {FIX_COLUMNS}{hint}"
        )


def _wide_hint(raw: pd.DataFrame, id_col: str, time_col: str) -> str:
    """The other layout, for a long read of a file with a time column but no id column: likely a wide file."""
    if time_col in raw.columns and id_col not in raw.columns and len(raw.columns) > 1:
        return f"; or, if each column but {time_col!r} is a series (a wide file), layout='wide' (CLI: --layout wide)"
    return ""


def read_one(
    path: Path, layout: str, id_col: str, time_col: str, names: list[str], columns, dayfirst: bool | None = None
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Read one file into a flat long frame ``id_col, time_col, *names`` with checked values.

    Also returns the local wall-clock stamps where the file's UTC offsets differ (see parse_times,
    which reads the dates in the order ``dayfirst`` gives).
    """
    if layout == "long":
        frame = _read_long(path, id_col, time_col, names)
    else:
        frame = _read_wide(path, id_col, time_col, names[0], columns)
    for col in names:
        frame[col] = numeric(frame[col], path)
    frame[time_col], wall = parse_times(frame[time_col], path, dayfirst)
    return frame, wall


def _read_long(path: Path, id_col: str, time_col: str, names: list[str]) -> pd.DataFrame:
    raw = _read_table(path, id_col, [id_col, time_col, *names])
    _require(raw, path, [id_col, time_col, *names], _wide_hint(raw, id_col, time_col))
    frame = raw[[id_col, time_col, *names]].copy()
    check_ids(frame[id_col], path)
    frame[id_col] = id_text(frame[id_col])  # ids as text in every file (Parquet keeps numbers)
    return frame


def _read_wide(path: Path, id_col: str, time_col: str, value_col: str, columns) -> pd.DataFrame:
    raw = _read_table(path, None, [time_col, *(columns or [])], every=columns is None)
    _require(raw, path, [time_col])
    series = list(columns) if columns is not None else [c for c in raw.columns if c != time_col]
    if not series:
        raise InputError(
            f"{path}: a wide file needs a {time_col!r} column and one column per series; "
            f"found only {list(raw.columns)}"
        )
    _require(raw, path, series)
    if time_col in series:
        raise InputError(f"{path}: {time_col!r} is the time column, not a series; drop it from columns "
                         "(CLI: --columns)")
    check_series_names(series, path, id_col, value_col)
    for col in series:
        raw[col] = numeric(raw[col], path)
    # one univariate series per column: stack them into long rows (series id = header)
    frame = raw[[time_col, *series]].melt(id_vars=time_col, var_name=id_col, value_name=value_col)
    frame[id_col] = frame[id_col].astype(str)
    return frame[[id_col, time_col, value_col]]
