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

import pandas as pd

from tsrec._checks import check_int
from tsrec.datasets._checks import check_name
from tsrec.datasets._datadir import data_roots, first_file, warn_if_fallback
from tsrec.datasets._filecheck import warn_if_unpublished
from tsrec.datasets._ltsf_file import PUBLISHED_SHA256, read_ltsf_csv, regular_index
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
    path = first_file(tried, f"{name} ({file})", f"Put {file} at <folder>/{group}/{file}")
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
        ``date``. weather.csv's header holds bytes that are not UTF-8, read as U+FFFD, so three of
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
        and the fix): gzip-compressed or a Git LFS pointer, not a CSV, without a ``date`` column,
        with another number of rows or columns (truncated), another header (e.g. swapped names, which
        would make another variate ``OT``), a time stamp other than the published file's at any row
        (rows out of order, repeated, missing or re-dated; weather's repeat and gap above are the
        published ones), or a value that is not a finite number (damaged).

    Warns
    -----
    UnpublishedDataWarning
        Once per changed copy, when the file passes these checks but its SHA-256 differs from the
        published file's (e.g. other line endings): scores may not compare with published numbers.
    TypeError
        ``data_dir`` is not a path.

    Examples
    --------
    >>> df = load_ltsf("ETTh1")
    >>> df.shape, df.index.freqstr
    ((17420, 7), 'h')
    """
    check_name("data set", name, LTSF_FILES)
    path = _find_file(name, data_dir)
    df = read_ltsf_csv(path, name)
    df.index = regular_index(df.pop("date"), path, name, LTSF_FILES[name][2])
    # after the structural checks: a copy they refuse needs no word about its digest
    warn_if_unpublished(path, PUBLISHED_SHA256[name], name)
    return df


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
        Rows of the whole frame (>= 1). The ETT borders do not depend on it; the others do.

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
    check_name("data set", name, LTSF_FILES)
    n_rows = check_int("n_rows", n_rows)
    if name not in _ETT_ROWS_PER_HOUR:
        n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
        return n_train, n_rows - n_test, n_rows
    train, val, test = (h * _ETT_ROWS_PER_HOUR[name] for h in _ETT_HOURS)
    return train, train + val, train + val + test


def _check_frame(df: object) -> None:
    """ltsf_split cuts rows by position with ``iloc``: it needs a non-empty pandas frame."""
    if not isinstance(df, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"df must be a pandas DataFrame (rows in time order, as load_ltsf returns), got "
            f"{type(df).__name__}; wrap an array as pd.DataFrame(array)"
        )
    if df.empty:
        raise ValueError("df has no rows; pass the whole benchmark frame from load_ltsf")


def _check_step(df: pd.DataFrame | pd.Series, name: str) -> None:
    """A frame on time stamps must be in time order and at ``name``'s step: ETTm under "ETTh1" would cut
    3 months, not 12."""
    index = df.index
    timed = isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex))
    if timed and not index.is_monotonic_increasing:  # the splits cut by position: shuffled rows mix the parts
        raise ValueError("df's rows are not in time order; sort them first, e.g. ltsf_split(df.sort_index(), ...)")
    if timed and not index.is_unique:  # a repeated row shifts every later border by one row
        first = index[index.duplicated()][0]
        raise InputError(
            f"df's time stamps repeat ({first} appears more than once); each row must have its own stamp: "
            "pass the benchmark frame as load_ltsf returns it, or drop repeats, e.g. df[~df.index.duplicated()]"
        )
    step = index.freq if timed else None
    if step is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        step = pd.infer_freq(index)
    expected = LTSF_FILES[name][2]
    if step is not None and pd.tseries.frequencies.to_offset(step) != pd.tseries.frequencies.to_offset(expected):
        raise ValueError(
            f"df is sampled every {pd.tseries.frequencies.to_offset(step).freqstr} but {name} every {expected}: "
            f"is it another data set? Pass the name of the set df holds"
        )


def ltsf_split(
    df: pd.DataFrame, name: str, lookback: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a benchmark frame into the papers' train, validation and test parts.

    ETTh: train rows [0, 8640), validation [8640 - lookback, 11520), test
    [11520 - lookback, 14400); ETTm the same times 4; other sets 70/10/20. Validation and test
    start ``lookback`` rows early so that their first window forecasts the first row after the
    previous split.

    Parameters
    ----------
    df : pandas.DataFrame
        The whole benchmark frame, rows in time order, as :func:`load_ltsf` returns it (a Series
        works too).
    name : str
        The data set ``df`` holds, one of :func:`load_ltsf`'s names: it picks the borders
        (:func:`ltsf_borders`).
    lookback : int
        Window length of the model (>= 1 and at most the training rows).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(train, val, test)``, row slices of ``df`` (validation and test include the
        ``lookback`` rows before them). Rows after the test border are left out.

    Raises
    ------
    TypeError
        ``df`` is not a pandas DataFrame or Series.
    ValueError
        ``df`` is empty or shorter than the borders need, ``name`` is unknown, ``df``'s time
        stamps (a DatetimeIndex or PeriodIndex) are out of order, repeat, or are at another step
        than ``name``'s (another data set), or ``lookback`` is not an integer in ``[1, train rows]``.

    Examples
    --------
    >>> train, val, test = ltsf_split(load_ett("ETTh1"), "ETTh1", lookback=96)
    >>> len(train), len(val), len(test)
    (8640, 2976, 2976)
    """
    _check_frame(df)
    lookback = check_int("lookback", lookback)
    train_end, val_end, test_end = ltsf_borders(name, len(df))
    _check_step(df, name)
    if test_end > len(df):
        raise ValueError(f"{name} split needs {test_end} rows but the frame has {len(df)}")
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
