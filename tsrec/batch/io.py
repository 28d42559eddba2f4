"""Reading series from CSV/Parquet files (long or wide layout) and writing forecasts atomically.

Every check happens while reading, before any forecasting, so that a bad file fails fast and
nothing is written. Each error names the file, the problem and the fix (DESIGN.md, "Bad input").
"""

from __future__ import annotations

import errno
import gzip
import os
from datetime import tzinfo
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec._files import atomic_write, check_writable, os_error, same_file, user_path
from tsrec.batch._frame_checks import check_duplicates, check_finite, check_roles
from tsrec.batch._spacing import check_spacing
# file_format and PathLike are used and re-exported from here (tsrec.batch.io.file_format is public)
from tsrec.batch._tables import PYARROW_FIX, PathLike, check_parquet_engine, file_format, read_one
from tsrec.batch._times import check_time_types, check_time_zone, common_time_zone, wall_clock_in
# InputFileNotFoundError lives with the other errors in tsrec.errors (the datasets loaders raise it
# too); it is re-exported here and from tsrec.batch, where it was first defined
from tsrec.errors import InputError, InputFileNotFoundError

__all__ = ["InputFileNotFoundError", "LAYOUTS", "PathLike", "check_output_path", "file_format", "input_paths",
           "read_series", "write_forecasts"]

LAYOUTS = ("long", "wide")
# most file systems take names of at most 255 bytes (NAME_MAX) and paths of at most 4096 (PATH_MAX)
_SHORTER_NAME = "give a shorter output name, at most 255 bytes per file or folder name (CLI: --output)"


def read_series(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    layout: str = "long",
    id_col: str = "unique_id",
    time_col: str = "ds",
    value_col: str = "y",
    columns: Sequence[str] | None = None,
    time_zone: str | tzinfo | None = None,
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """Read many series from CSV or Parquet files into one panel.

    Parameters
    ----------
    path_or_paths : path or sequence of paths
        ``.csv`` (or ``.csv.gz``) and ``.parquet`` (or ``.pq``) files; several files are
        concatenated, so a series may be split over files (e.g. one file per month).
    layout : {"long", "wide"}, default="long"
        ``"long"``: one row per (series, time) with columns ``id_col``, ``time_col`` and the value
        column(s), as neuralforecast's ``unique_id, ds, y``. ``"wide"``: a ``time_col`` plus one
        column per series; every column is one univariate series named by its header. A first
        CSV column without a header (the row numbers of pandas' ``to_csv(index=True)``) is
        dropped, as a stored Parquet row index is, unless it holds stamps: then, in either
        layout and format, it is ``time_col`` (a frame indexed by unnamed stamps, saved).
    id_col, time_col : str
        Names of the series-id and time columns (``id_col`` only names the output level for wide
        files).
    value_col : str, default="y"
        The value column of long files, and the name given to the values of wide files.
    columns : sequence of str, optional
        Long layout: several value columns, one per variate of a multivariate series (replaces
        ``value_col``). Wide layout: the series columns to read (default: all but ``time_col``).
    time_zone : str, tzinfo or None, default=None
        Read stamps without a zone as wall-clock times in this zone (``forecast_files`` passes a
        zoned model's), before their spacing is checked: local hours skip or repeat one at a
        daylight-saving change (of a series' two rows at a repeated time, the first is the earlier
        instant; a repeated time given once, or a skipped one, is refused). Stamps with UTC offsets
        are converted to it (the same instants, in its calendar).
    dayfirst : bool or None, default=None
        How dates that start with their day or month (``05/03/2024``) read: True day-first (5 March),
        False month-first (May 3). None reads them as pandas does and refuses those that read both
        ways with different dates, as a file holding only 1 to 12 March would. Dates that do not read
        in the order given are refused; year-first dates (``2024-03-05``) are read as they are.

    Returns
    -------
    pandas.DataFrame
        A panel with a MultiIndex ``(id_col, time_col)`` and float64 value columns, sorted by
        series id and then time (unsorted input is sorted, silently and stably). Times are parsed
        with pandas; an integer time column is kept as integer time steps. Stamps with UTC offsets
        that differ within a file or between files (e.g. ``+01:00`` in winter, ``+02:00`` in
        summer) are converted to UTC, unless that breaks their even spacing and their step is a
        day or more (local midnights, 23 or 25 hours apart in UTC): those keep the local dates
        and times they show, without a zone. Series ids are text in every file (Parquet numbers too,
        ``1.0`` as ``1``), so id ``1`` in a Parquet file and ``1`` in a CSV file are one series, ``007``
        stays ``"007"``, and ``NA``, ``None`` or ``null`` are ids, not missing ones. Values held
        as objects (a Parquet DECIMAL column, numbers stored as text) are converted to float.

    Raises
    ------
    InputError
        A file is missing, unreadable, empty or has an unknown extension; a column is missing,
        or a CSV header names a used column twice (or, wide, leaves a series column unnamed), or
        has fewer names than the rows have fields; dates read both day- and month-first;
        two roles (id, time, value, a wide file's series) share a column name; an id is empty; a value is
        NaN/inf; a series has duplicate or unevenly spaced time stamps (the message names the
        file and a fix for the series' step); time stamps cannot be parsed.
    TypeError
        A value column holds non-numeric values.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> path = tempfile.mkdtemp() + "/wide.csv"
    >>> pd.DataFrame({"ds": ["2024-01-01 00:00", "2024-01-01 01:00"], "a": [1.0, 2.0],
    ...               "b": [3.0, 4.0]}).to_csv(path, index=False)
    >>> read_series(path, layout="wide")  # doctest: +NORMALIZE_WHITESPACE
                                   y
    unique_id ds
    a         2024-01-01 00:00:00  1.0
              2024-01-01 01:00:00  2.0
    b         2024-01-01 00:00:00  3.0
              2024-01-01 01:00:00  4.0
    """
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    time_zone = check_time_zone(time_zone)
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise InputError(f"dayfirst must be True, False or None, got {dayfirst!r}")
    paths = input_paths(path_or_paths)
    names = _value_names(layout, value_col, columns)
    check_roles(layout, id_col, time_col, names, columns)
    read = [read_one(Path(p), layout, id_col, time_col, names, columns, dayfirst) for p in paths]
    frames, in_utc = common_time_zone([f for f, _ in read], [wall for _, wall in read], id_col, time_col, time_zone)
    # remember each row's file so that errors found across files can still name the file
    source = np.repeat(np.arange(len(paths)), [len(f) for f in frames])
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    check_time_types(frame, time_col, paths, frames)
    if time_zone is not None and pd.api.types.is_datetime64_dtype(frame[time_col].dtype):  # not zoned yet
        where = f"{', '.join(map(str, paths))}: "
        frame[time_col] = wall_clock_in(pd.DatetimeIndex(frame[time_col]), time_zone, f"are read in {time_zone}", where,
                                        frame[id_col].to_numpy())
    elif time_zone is not None and isinstance(frame[time_col].dtype, pd.DatetimeTZDtype):
        # the same instants in the zone's calendar: a file's fixed offset (+01:00) steps a day as 24 hours
        # past a daylight-saving change, where the zone's days take 23 or 25
        frame[time_col] = frame[time_col].dt.tz_convert(time_zone)
    files = np.array(paths, dtype=object)[source]  # each row's file, gathered without a Python loop
    check_finite(frame, id_col, time_col, names, files, layout)
    check_duplicates(frame, id_col, time_col, files)
    frame = frame.sort_values([id_col, time_col], kind="mergesort")
    # every frame has a RangeIndex, so the sorted index gives each row's place before sorting
    check_spacing(frame, id_col, time_col, files[frame.index.to_numpy()], in_utc)
    return frame.set_index([id_col, time_col])[names]


def _holds_data(given: object) -> bool:
    """Whether ``given`` is data rather than paths: a frame, bytes, or an array or Series of anything
    but one axis of text or paths (``df["path"]`` and ``np.array(paths)`` are lists of files)."""
    if isinstance(given, (pd.DataFrame, bytes)):
        return True
    if isinstance(given, (pd.Series, np.ndarray)):
        return given.ndim != 1 or not all(isinstance(item, (str, os.PathLike)) for item in given)
    return False


def input_paths(path_or_paths: PathLike | Iterable[PathLike]) -> list[PathLike]:
    """One path or an iterable of paths (a list, ``Path.glob``) as a non-empty list."""
    if _holds_data(path_or_paths):
        # iterated, a frame gave its column names and bytes their codes, read as file names
        fix = ("forecast an in-memory panel with tsrec.batch.forecast_panel, or write it to a .csv or .parquet "
               "file first" if not isinstance(path_or_paths, bytes) else "pass the path as text (os.fsdecode(path))")
        names = {bytes: "bytes", np.ndarray: "a NumPy array", pd.Series: "a Series", pd.DataFrame: "a DataFrame"}
        kind = next(name for cls, name in names.items() if isinstance(path_or_paths, cls))
        raise InputError(f"the input files are {kind}, not paths; {fix}")
    if not isinstance(path_or_paths, (str, os.PathLike, Iterable)):
        raise InputError(f"the input files are {path_or_paths!r}; pass a path to a .csv or .parquet file, or a "
                         "list of them")
    paths = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
    paths = [user_path(path) if isinstance(path, (str, os.PathLike)) else path for path in paths]
    if not paths:
        raise InputError("no input files were given; pass at least one .csv or .parquet file")
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise InputError(f"the input files include {path!r}; give each as a path to a .csv or .parquet file")
    seen: dict[str, PathLike] = {}
    for path in paths:  # its rows would all be duplicate stamps, blamed on the file itself
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(f"{path} is given twice (also as {seen[real]}); pass each input file once")
        seen[real] = path
    return paths


def _value_names(layout: str, value_col: str, columns: Sequence[str] | None) -> list[str]:
    """The panel's value columns: the long file's columns, or ``value_col`` for wide files."""
    if columns is not None:
        if isinstance(columns, str) or not len(columns):
            raise InputError(f"columns must be a non-empty list of column names, got {columns!r}")
        if len(set(columns)) != len(columns):
            raise InputError(f"columns has duplicates: {list(columns)}; name each column once (CLI: --columns)")
    return list(columns) if layout == "long" and columns is not None else [value_col]




def check_output_path(path: PathLike, inputs: PathLike | Sequence[PathLike] = ()) -> Path:
    """Check that forecasts can be written to ``path``: a known extension (Parquet with its engine
    installed), not a folder, not one of ``inputs``, and a folder that takes a new file (an OSError
    naming ``path`` otherwise).

    Examples
    --------
    >>> check_output_path("out/forecasts.parquet").name
    'forecasts.parquet'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"the output file is {path!r}; pass a path ending in .csv or .parquet")
    target = user_path(path)
    file_format(target)
    check_parquet_engine(target, "writing")
    if _is_folder(target):
        raise InputError(f"{target} is a folder; give a file name ending in .csv or .parquet")
    # `if inputs` on a Series or an array raised pandas' and NumPy's "truth value ... is ambiguous"
    given = len(inputs) > 0 if isinstance(inputs, (pd.Series, np.ndarray)) else bool(inputs)
    for source in input_paths(inputs) if given else []:
        if same_file(Path(source), target):
            raise InputError(
                f"{target} is also an input file ({source}); writing the forecasts there would overwrite "
                "the input: give another output file (CLI: --output)"
            )
    # a missing folder is probed at its nearest existing parent: an over-long name in it was found only by
    # mkdir, after the forecasts
    if any(len(os.fsencode(part)) > 255 for part in target.parts):
        raise os_error(OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG)), f"cannot write {target}",
                       _SHORTER_NAME)
    # the file is written beside its real path (a link is followed); found now, not after the forecasts
    fix = "give an output file in a folder you can write to (CLI: --output)"
    check_writable(Path(os.path.realpath(target)).parent, target, fix)
    return target


def _is_folder(target: Path) -> bool:
    """Whether ``target`` is a folder; a name the file system refuses (over 255 bytes) fails here, with a fix."""
    try:
        return target.is_dir()
    except OSError as err:  # pathlib passes on errors other than "no such file", e.g. ENAMETOOLONG
        fix = _SHORTER_NAME if err.errno == errno.ENAMETOOLONG else None
        raise os_error(err, f"cannot write {target}", fix) from None


def write_forecasts(frame: pd.DataFrame, path: PathLike) -> Path:
    """Write ``frame`` (no index) as CSV or Parquet by the extension of ``path``, atomically.

    The data goes to a temporary file in the same folder, is flushed to disk, and is then
    renamed over ``path`` with :func:`os.replace`; readers see the old file or the new one,
    never half of one, and a failure leaves ``path`` as it was. Missing folders are created.
    A CSV's time stamps are written with their time of day, also where all are midnight
    ("2024-01-02 00:00:00", where pandas alone writes "2024-01-02").

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write; its index is not written (reset it first to keep it).
    path : str or os.PathLike
        The output file; its extension (``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq``) picks
        the format and compression, as :func:`file_format` reads it.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`pathlib.Path`, the file now written.

    Raises
    ------
    TypeError
        ``frame`` is not a DataFrame.
    InputError
        ``path`` has an unknown extension or is a folder, ``frame`` names a column twice, or pyarrow
        cannot store a column in Parquet (an object column of mixed values); nothing is written then.
    OSError
        ``path`` cannot be written (the message names it and a fix); ``path`` is left as it was.
    ImportError
        A Parquet file is asked for and pyarrow is not installed.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> out = write_forecasts(pd.DataFrame({"unique_id": ["a"], "y_hat": [1.5]}),
    ...                       tempfile.mkdtemp() + "/forecasts.csv")
    >>> out.read_text()
    'unique_id,y_hat\\na,1.5\\n'
    """
    _check_frame(frame)
    target = check_output_path(path)
    kind, compression = file_format(target)
    if kind == "csv":
        frame = _stamps_with_times(frame)

    def write(tmp: Path) -> None:
        if kind == "csv" and compression == "gzip":
            # no name and no time in the gzip header: pandas would store the hidden temporary
            # name (which gunzip -N restores) and the time, so equal forecasts gave unequal bytes
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                frame.to_csv(packed, index=False)
            return
        if kind == "csv":
            frame.to_csv(tmp, index=False)
            return
        try:
            frame.to_parquet(tmp, index=False)
        except ImportError:
            raise ImportError(f"writing {target} needs pyarrow: {PYARROW_FIX}") from None
        except Exception as err:
            if not type(err).__module__.startswith("pyarrow"):  # pyarrow's ArrowInvalid, ArrowTypeError, ...
                raise
            raise _parquet_error(err, target) from None

    return atomic_write(target, write)


def _stamps_with_times(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each naive datetime column whose stamps all fall at midnight as text with the time of day.

    pandas writes such a column as dates alone ("2024-01-02"), so an hourly model's forecasts at
    ``fh=[24]`` read "2024-01-02" and at ``fh=[23, 24]`` "2024-01-01 23:00:00" and "2024-01-02 00:00:00":
    one format whatever the stamps (as pandas writes zoned stamps, and as ETT's files hold them) lets
    a reader with a fixed format parse every file. Other columns are left to pandas (it writes the
    time, and any fractions of a second, when a stamp has one).
    """
    midnight = [name for name, column in frame.items()
                if isinstance(column.dtype, np.dtype) and column.dtype.kind == "M"
                and column.dropna().dt.normalize().eq(column.dropna()).all()]
    written = frame.copy(deep=False)  # the caller's frame keeps its datetime columns
    for name in midnight:
        written[name] = frame[name].dt.strftime("%Y-%m-%d %H:%M:%S")
    return written


def _check_frame(frame: object) -> None:
    """Refuse what is not a DataFrame: a list failed with "'list' object has no attribute 'to_csv'";
    and a frame with a column name twice (Parquet refused it in pandas' words, without the file)."""
    if isinstance(frame, pd.DataFrame):
        if frame.columns.has_duplicates:
            twice = list(dict.fromkeys(frame.columns[frame.columns.duplicated()]))
            raise InputError(f"the forecasts name columns {twice} twice; give each column its own name "
                             "(frame.columns = [...]) before writing them")
        return
    fix = "series.to_frame()" if isinstance(frame, pd.Series) else "pd.DataFrame(rows, columns=[...])"
    raise TypeError(f"write_forecasts writes a pandas DataFrame, got {type(frame).__name__}; pass the frame "
                    f"forecast_panel returns, or make one: {fix}")


def _parquet_error(err: Exception, target: Path) -> InputError:
    """pyarrow's refusal of a column (an object column of mixed values: "Could not convert 'x' with type str")
    as an InputError naming the column and the fix."""
    detail, *where = (str(arg) for arg in err.args) or [str(err)]
    column = where[0].split("for column ", 1)[-1].split(" with type", 1)[0] if where else None
    fix = (f"give column {column!r} values of one type (e.g. frame[{column!r}] = frame[{column!r}].astype(str))"
           if column else "give each column values of one type")
    return InputError(f"cannot write {target} as Parquet ({detail}{'; ' + where[0] if where else ''}); {fix}, "
                      "or write a .csv file")
