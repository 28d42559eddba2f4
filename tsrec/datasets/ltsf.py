"""Long-term forecasting benchmark data: ETT (ETTh1/ETTh2 bundled), Exchange, ILI, Weather.

ETTh1 and ETTh2 ship with the package (CC BY-ND 4.0, unmodified; see ``data/ATTRIBUTION.md``).
The other sets are read from a data folder: the ``data_dir`` argument alone (then ETTh1 and ETTh2
are read from it too), else the environment variable ``TSREC_DATA`` (an empty value counts as
unset), then ``../shared/data`` beside a development checkout (with a warning when ``TSREC_DATA``
is set but lacks the file). Inside it a file may lie at ``<dir>/<group>/<file>`` or ``<dir>/<file>``
(e.g. ``$TSREC_DATA/ETT/ETTm1.csv``); a missing file raises
:class:`~tsrec.estimators.errors.InputFileNotFoundError` (a ``FileNotFoundError`` and a
``ValueError``) listing every path tried.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsrec._checks import check_int
from tsrec.datasets._checks import check_name
from tsrec.datasets._datadir import data_roots, first_file, warn_if_fallback
from tsrec.datasets._filecheck import file_sha256, warn_if_unpublished
from tsrec.datasets._ltsf_file import KNOWN_AS, PUBLISHED_SHA256, PUBLISHED_STAMPS, read_ltsf_csv, regular_index
from tsrec.errors import InputError

# name -> (folder in the data dir, file name, pandas frequency)
LTSF_FILES = {
    "ETTh1": ("ETT", "ETTh1.csv", "h"),
    "ETTh2": ("ETT", "ETTh2.csv", "h"),
    "ETTm1": ("ETT", "ETTm1.csv", "15min"),
    "ETTm2": ("ETT", "ETTm2.csv", "15min"),
    "exchange_rate": ("exchange_rate", "exchange_rate.csv", "D"),
    "illness": ("illness", "national_illness.csv", "W-TUE"),
    "weather": ("weather", "weather.csv", "10min"),
}
BUNDLED = ("ETTh1", "ETTh2")
_ETTM = {"ETTm1", "ETTm2"}  # the pair the ETDataset repository once published swapped
# rows per hour of the ETT sets, whose borders the papers fix in hours
_ETT_ROWS_PER_HOUR = {"ETTh1": 1, "ETTh2": 1, "ETTm1": 4, "ETTm2": 4}
# ETT borders of the papers' protocol, in hours: 12 months train, 4 validation, 4 test
_ETT_HOURS = (12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24)
# fewest rows whose 70/10/20 split gives each part a row (int(5 * 0.2) = 1 test row)
_MIN_ROWS = 5


def _find_file(name: str, data_dir: str | os.PathLike | None) -> Path:
    group, file, _ = LTSF_FILES[name]
    if name in BUNDLED and data_dir is None:
        return Path(str(resources.files("tsrec.datasets") / "data" / file))
    tried = [path for root in data_roots(data_dir) for path in (root / group / file, root / file)]
    path = first_file(tried, f"{name} ({file})", f"Put {file} at <folder>/{group}/{file}", data_dir)
    warn_if_fallback(path, data_dir)
    return path


def load_ltsf(name: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a long-term forecasting benchmark as a DataFrame with a regular DatetimeIndex.

    Every row of the file is kept, in file order, so that the papers' splits (cut by row
    position) are unchanged. The index is a regular range at the set's sampling step (ETTh hourly,
    ETTm 15 min, exchange_rate daily, illness weekly on Tuesdays, weather 10 min) starting at the
    file's first stamp. Every stamp of the file is checked against the published file's, so for ETT,
    exchange_rate and illness the index is exactly the file's stamps.
    weather.csv's stamps are irregular: 2020-05-12 06:00 appears twice and the 9 stamps
    2020-05-29 09:40 .. 11:00 are missing. So 33,652 of its 52,696 rows get a stamp other than the
    file's: 10 minutes later from the repeated row up to the gap, 80 minutes earlier after it. The
    last row is labelled 2020-12-31 22:40, not 2021-01-01 00:00.

    Parameters
    ----------
    name : str
        One of ``ETTh1, ETTh2, ETTm1, ETTm2, exchange_rate, illness, weather`` (case matters).
    data_dir : path or None
        Folder holding the file, searched alone (ETTh1 and ETTh2 too: the bundled copy is not used).
        None: ETTh1 and ETTh2 are the bundled copies (``TSREC_DATA`` is not searched for them); the
        other sets are searched in ``TSREC_DATA`` first, then in ``../shared/data`` beside a
        development checkout; a file found only there, while ``TSREC_DATA`` is set, warns.

    Returns
    -------
    pandas.DataFrame
        One column per variate (the file's columns but ``date``, with the file's dtypes: illness's
        five count columns, ``OT`` among them, are int64), indexed by a regular DatetimeIndex named
        ``date``. weather.csv's header holds the replacement character U+FFFD in place of ² and µ, so three of
        its column names contain it (``SWDR (W/m<U+FFFD>)`` and two PAR columns): select those columns by position.

    Raises
    ------
    InputFileNotFoundError
        The file is in none of the searched places (the message lists them and says where to put
        the file), or ``data_dir`` is not an existing folder. A ``FileNotFoundError`` and a
        ``ValueError``.
    ValueError
        An unknown ``name`` or an empty ``data_dir``.
    InputError
        A file that is not the published one (a ``ValueError``; the message names the file, the line
        and the fix): compressed (gzip, zip, bzip2, xz, zstd) or a Git LFS pointer, not a CSV,
        without a ``date`` column, with another number of rows or columns (truncated), another header
        (e.g. swapped names, which would make another variate ``OT``), a time stamp other than the
        published file's at any row (rows out of order, repeated, missing or re-dated; weather's repeat
        and gap above are the published ones), a value that is not a finite number (damaged), or
        another set's published file (ETTm2's bytes as ETTm1.csv, as ETDataset once held them).
    TypeError
        ``data_dir`` is not a path.
    PermissionError
        The file may not be read by this user (the message says how to make it readable).

    Warns
    -----
    UnpublishedDataWarning
        Once per changed copy, when the file passes these checks but its SHA-256 differs from the
        published file's (e.g. other line endings): scores may not compare with published numbers.

    Examples
    --------
    >>> df = load_ltsf("ETTh1")
    >>> df.shape, df.index.freqstr
    ((17420, 7), 'h')
    """
    check_name("data set", name, LTSF_FILES, KNOWN_AS)
    path = _find_file(name, data_dir)
    df = read_ltsf_csv(path, name)
    df.index = regular_index(df.pop("date"), path, name, LTSF_FILES[name][2])
    # after the structural checks: a copy they refuse needs no word about its digest
    _refuse_another_set(path, name)
    warn_if_unpublished(path, PUBLISHED_SHA256[name], name)
    return df


def _refuse_another_set(path: Path, name: str) -> None:
    """Refuse the published file of another set under ``name``'s file name: ETTm1 and ETTm2 (and ETTh1 and
    ETTh2) share their shape, header and stamps, so only the digest tells them apart."""
    digest = file_sha256(path)
    other = next((set_ for set_, published in PUBLISHED_SHA256.items() if published == digest), name)
    if other != name:
        swapped = " (ETDataset held the two swapped from December 2020 to March 2021)" if {name, other} == _ETTM else ""
        raise InputError(
            f"{path} is the published {other} file, not {name}: its SHA-256 is {other}'s{swapped}. Re-download "
            f"{name}, or rename this file to {LTSF_FILES[other][1]} to load it as {other!r}"
        )


def load_ett(name: str = "ETTh1", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load ETTh1, ETTh2 (bundled), ETTm1 or ETTm2 (from ``data_dir`` or the data folder).

    :func:`load_ltsf` restricted to the four ETT sets.

    Parameters
    ----------
    name : {"ETTh1", "ETTh2", "ETTm1", "ETTm2"}, default="ETTh1"
        The ETT set (case matters).
    data_dir : path or None
        Folder holding the files, as in :func:`load_ltsf`: None uses the bundled copy (ETTh1,
        ETTh2), else ``TSREC_DATA``, else ``../shared/data`` beside a development checkout.

    Returns
    -------
    pandas.DataFrame
        The seven columns ``HUFL, HULL, MUFL, MULL, LUFL, LULL, OT`` on a regular DatetimeIndex
        (hourly for ETTh, 15 minutes for ETTm).

    Raises
    ------
    InputFileNotFoundError
        The file is in none of the searched places (ETTh1 and ETTh2 are looked for only when
        ``data_dir`` is given); see :func:`load_ltsf`.
    ValueError
        ``name`` is not an ETT set.

    Examples
    --------
    >>> load_ett("ETTh2").columns.tolist()
    ['HUFL', 'HULL', 'MUFL', 'MULL', 'LUFL', 'LULL', 'OT']
    """
    check_name("ETT set", name, _ETT_ROWS_PER_HOUR)
    return load_ltsf(name, data_dir)


def ltsf_borders(name: str, n_rows: int) -> tuple[int, int, int]:
    """End rows of the train, validation and test splits of the papers' protocol.

    The ETT sets have fixed borders in months (12 train, 4 validation, 4 test, of 30 days); the
    other sets split ``n_rows`` 70/10/20 (train and test rounded down, validation the rest).

    Parameters
    ----------
    name : str
        One of :func:`load_ltsf`'s names (case matters).
    n_rows : int
        Rows of the whole frame (>= 1; >= 5 for the 70/10/20 sets, which give every part a row).
        The ETT borders do not depend on it; the others do.

    Returns
    -------
    tuple of int
        ``(train_end, val_end, test_end)``: the splits end before these row positions. For ETT
        ``test_end`` is 14400 rows (hourly) or 57600 (15 min), not the frame's length.

    Raises
    ------
    ValueError
        An unknown ``name`` or an ``n_rows`` that is not a positive integer.

    Examples
    --------
    >>> ltsf_borders("ETTh1", 17420), ltsf_borders("illness", 966)
    ((8640, 11520, 14400), (676, 773, 966))
    """
    check_name("data set", name, LTSF_FILES, KNOWN_AS)
    n_rows = check_int("n_rows", n_rows)
    if name not in _ETT_ROWS_PER_HOUR and n_rows < _MIN_ROWS:  # (0, 1, 1) gave an empty training part
        raise ValueError(f"n_rows={n_rows} is too few for {name}'s 70/10/20 split: at least {_MIN_ROWS} rows give "
                         "every part a row; pass the benchmark frame's length")
    return _borders(name, n_rows)


def _borders(name: str, n_rows: int) -> tuple[int, int, int]:
    """:func:`ltsf_borders` of checked arguments (``n_rows`` may leave a part empty: ltsf_split says so)."""
    if name not in _ETT_ROWS_PER_HOUR:
        n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
        return n_train, n_rows - n_test, n_rows
    train, val, test = (h * _ETT_ROWS_PER_HOUR[name] for h in _ETT_HOURS)
    return train, train + val, train + val + test


def _check_frame(df: object) -> None:
    """ltsf_split cuts rows by position with ``iloc``: it needs one series of numbers, with rows and columns."""
    if not isinstance(df, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"df must be a pandas DataFrame or Series (rows in time order, as load_ltsf returns), got "
            f"{type(df).__name__}; wrap an array as pd.DataFrame(array)"
        )
    if isinstance(df.index, pd.MultiIndex):  # positions run across the stacked series: borders fall in the wrong one
        raise InputError(
            f"df has a MultiIndex on its rows ({df.index.nlevels} levels: several series stacked?), but ltsf_split "
            "cuts one series by row position; split each series on its own, e.g. "
            "{key: ltsf_split(df.xs(key), name, lookback) for key in df.index.unique(level=0)}"
        )
    if len(df) == 0:
        raise ValueError("df has no rows; pass the whole benchmark frame from load_ltsf")
    if df.ndim == 2 and df.shape[1] == 0:
        raise InputError(
            f"df has no columns (its {len(df)} rows hold no values); pass the benchmark frame with its variates, "
            "as load_ltsf returns it"
        )
    _check_numeric(df.to_frame() if isinstance(df, pd.Series) else df)


def _check_numeric(df: pd.DataFrame) -> None:
    """Every column holds numbers: a stamp or text column would reach the model as one more variate."""
    for column, dtype in df.dtypes.items():
        if pd.api.types.is_numeric_dtype(dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(dtype) or str(column).lower() == "date":
            fix = (
                f"make the time stamps the index, e.g. df.set_index({column!r}) (text stamps parsed first: "
                f"df[{column!r}] = pd.to_datetime(df[{column!r}]))"
            )
        else:
            fix = f"drop it, e.g. df.drop(columns={column!r}), or convert it to numbers"
        raise InputError(f"df's column {column!r} is not numeric ({dtype}); the parts must hold only variates: {fix}")


def _check_stamps(df: pd.DataFrame | pd.Series, name: str) -> None:
    """Rows on time stamps must be those of ``name``'s benchmark: the splits cut by position, so shuffled,
    repeated or missing rows, or another step (ETTm under "ETTh1" would cut 3 months, not 12), move the borders."""
    index = df.index
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return  # positions alone: nothing to check them against
    if not index.is_monotonic_increasing:  # the splits cut by position: shuffled rows mix the parts
        raise ValueError("df's rows are not in time order; sort them first, e.g. ltsf_split(df.sort_index(), ...)")
    if not index.is_unique:  # a repeated row shifts every later border by one row
        first = index[index.duplicated()][0]
        raise InputError(
            f"df's time stamps repeat ({first} appears more than once); each row must have its own stamp: pass the "
            f"frame load_ltsf({name!r}) returns, which keeps every row of the file on a regular index (weather.csv "
            "repeats a stamp); dropping repeated rows would move the papers' borders"
        )
    _check_step(index, name)
    _check_gaps(index, name)
    _check_ett_start(index, name)


def _check_ett_start(index: pd.DatetimeIndex | pd.PeriodIndex, name: str) -> None:
    """ETT's borders are fixed times (12, 4 and 4 months from the file's first stamp), counted in rows from the
    frame's first: a frame that starts later (rows dropped at its start) would move every border."""
    if name not in _ETT_ROWS_PER_HOUR:
        return  # the other sets' borders are fractions of the frame's rows, wherever it starts
    first = pd.Timestamp(PUBLISHED_STAMPS[name][1])
    start = index[0].start_time if isinstance(index, pd.PeriodIndex) else index[0].tz_localize(None)
    if start != first:
        raise InputError(
            f"df starts at {index[0]}, but {name}'s split borders are fixed times counted from its first stamp, "
            f"{first}; rows dropped at the start move every border. Pass the frame load_ltsf({name!r}) returns, "
            "unchanged"
        )


def _check_step(index: pd.DatetimeIndex | pd.PeriodIndex, name: str) -> None:
    """The index's frequency, set or inferred, is ``name``'s: another one is another data set."""
    step = index.freq
    if step is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        step = pd.infer_freq(index)
    expected = LTSF_FILES[name][2]
    if step is not None and to_offset(step) != to_offset(expected):
        raise ValueError(
            f"df is sampled every {to_offset(step).freqstr} but {name} every {expected}: "
            f"is it another data set? Pass the name of the set df holds"
        )


def _check_gaps(index: pd.DatetimeIndex | pd.PeriodIndex, name: str) -> None:
    """Each stamp is one step after the one before, the regular grid of ``name``'s step: a frame with missing
    rows has no frequency to infer, so only this finds them, and each moves every later border."""
    freq = LTSF_FILES[name][2]
    # a PeriodIndex (its frequency checked above) steps by whole periods; a DatetimeIndex by the set's offset
    step = 1 if isinstance(index, pd.PeriodIndex) else to_offset(freq)
    gaps = np.flatnonzero(index[1:] != index[:-1] + step)
    if not gaps.size:
        return
    before, after = index[gaps[0]], index[gaps[0] + 1]
    if isinstance(index, pd.DatetimeIndex):
        regrid = f"df.asfreq({freq!r})"
    else:  # asfreq would convert the periods, not fill in the missing ones
        regrid = f"df.reindex(pd.period_range(df.index[0], df.index[-1], freq={freq!r}))"
    raise InputError(
        f"df's time stamps have a gap: {before} is followed by {after}, not by {before + step} (the step of {name} "
        f"is {freq}); missing rows move the papers' split borders. Pass the frame load_ltsf({name!r}) returns, "
        f"unchanged, or reindex df to the regular grid, e.g. {regrid}, and fill the rows that adds"
    )


def ltsf_split(
    df: pd.DataFrame | pd.Series, name: str, lookback: int
) -> tuple[pd.DataFrame | pd.Series, pd.DataFrame | pd.Series, pd.DataFrame | pd.Series]:
    """Split a benchmark frame into the papers' train, validation and test parts.

    ETTh: train rows [0, 8640), validation [8640 - lookback, 11520), test
    [11520 - lookback, 14400); ETTm the same times 4; other sets 70/10/20. Validation and test
    start ``lookback`` rows early so that their first window forecasts the first row after the
    previous split.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
        The whole benchmark frame, rows in time order, as :func:`load_ltsf` returns it, or one of
        its columns.
    name : str
        The data set ``df`` holds, one of :func:`load_ltsf`'s names: it picks the borders
        (:func:`ltsf_borders`).
    lookback : int
        Window length of the model (>= 1 and at most the training rows).

    Returns
    -------
    tuple of pandas.DataFrame or pandas.Series
        ``(train, val, test)``, row slices of ``df`` of its type (validation and test include the
        ``lookback`` rows before them). Rows after the test border are left out.

    Raises
    ------
    TypeError
        ``df`` is not a pandas DataFrame or Series.
    ValueError
        ``df`` has no rows or is shorter than the borders need, ``name`` is unknown, ``df``'s time
        stamps (a DatetimeIndex or PeriodIndex) are out of order or at another step than ``name``'s
        (another data set), or ``lookback`` is not an integer in ``[1, train rows]``.
    InputError
        A ``ValueError`` whose message says how to fix ``df``: it has a MultiIndex on its rows
        (stacked series: split each on its own), no columns, a column that is not numeric (e.g. a
        ``date`` column: make it the index), time stamps that repeat or have a gap (missing
        rows: the stamps must lie on the regular grid of ``name``'s step), or, for ETT, a first
        stamp other than the file's (its borders are fixed times from it).

    Examples
    --------
    >>> train, val, test = ltsf_split(load_ett("ETTh1"), "ETTh1", lookback=96)
    >>> len(train), len(val), len(test)
    (8640, 2976, 2976)
    """
    _check_frame(df)
    lookback = check_int("lookback", lookback)
    check_name("data set", name, LTSF_FILES, KNOWN_AS)
    train_end, val_end, test_end = _borders(name, len(df))
    _check_stamps(df, name)
    if test_end > len(df):
        raise ValueError(f"{name} split needs {test_end} rows but the frame has {len(df)}; pass the whole "
                         f"benchmark frame, as load_ltsf({name!r}) returns it")
    if not 0 < train_end < val_end < test_end:
        raise ValueError(
            f"the frame has {len(df)} rows, too few for the 70/10/20 split (at least {_MIN_ROWS} rows give "
            "every part a row); pass the whole benchmark frame from load_ltsf"
        )
    if lookback > train_end:
        raise ValueError(f"lookback must be in [1, {train_end}] (the training rows), got {lookback}")
    return (
        df.iloc[:train_end],
        df.iloc[train_end - lookback : val_end],
        df.iloc[val_end - lookback : test_end],
    )
