"""Long-term forecasting benchmark data: ETT (ETTh1/ETTh2 bundled), Exchange, ILI, Weather.

ETTh1 and ETTh2 ship with the package (CC BY-ND 4.0, unmodified; see ``data/ATTRIBUTION.md``).
The other sets are read from a data folder: the ``data_dir`` argument, else the environment
variable ``TSREC_DATA``. Inside it a file may lie at ``<dir>/<file>`` or
``<dir>/<group>/<file>`` (e.g. ``$TSREC_DATA/ETT/ETTm1.csv``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

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
# ETT borders of the papers' protocol, in hours: 12 months train, 4 validation, 4 test
_ETT_HOURS = (12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24)


def _find_file(name: str, data_dir: str | os.PathLike | None) -> Path:
    group, file, _ = LTSF_FILES[name]
    if name in BUNDLED and data_dir is None:
        return Path(str(resources.files("tsrec.datasets") / "data" / file))
    folder = data_dir if data_dir is not None else os.environ.get("TSREC_DATA")
    if folder is None:
        raise FileNotFoundError(
            f"{name} is not bundled; put {file} in a data folder and pass data_dir=... or set "
            f"TSREC_DATA (looked for <dir>/{group}/{file} or <dir>/{file})"
        )
    for candidate in (Path(folder) / group / file, Path(folder) / file):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name}: {file} not found in {folder}; put it at {Path(folder) / group / file}"
    )


def load_ltsf(name: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a long-term forecasting benchmark as a DataFrame with a regular DatetimeIndex.

    Parameters
    ----------
    name : str
        One of ``ETTh1, ETTh2, ETTm1, ETTm2, exchange_rate, illness, weather``.
    data_dir : path or None
        Folder holding the files; None uses the bundled copy (ETTh1, ETTh2) or ``TSREC_DATA``.

    Examples
    --------
    >>> df = load_ltsf("ETTh1")
    >>> df.shape
    (17420, 7)
    """
    if name not in LTSF_FILES:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(LTSF_FILES)}")
    path = _find_file(name, data_dir)
    df = pd.read_csv(path, encoding_errors="replace")
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("date"), format="mixed"), name="date")
    return df.asfreq(LTSF_FILES[name][2]) if name.startswith("ETT") else df


def load_ett(name: str = "ETTh1", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load ETTh1, ETTh2 (bundled), ETTm1 or ETTm2 (from ``data_dir`` or ``TSREC_DATA``).

    Examples
    --------
    >>> load_ett("ETTh2").columns.tolist()
    ['HUFL', 'HULL', 'MUFL', 'MULL', 'LUFL', 'LULL', 'OT']
    """
    if not name.startswith("ETT") or name not in LTSF_FILES:
        raise ValueError(f"unknown ETT set {name!r}; choose ETTh1, ETTh2, ETTm1 or ETTm2")
    return load_ltsf(name, data_dir)


def ltsf_borders(name: str, n_rows: int) -> tuple[int, int, int]:
    """End rows of the train, validation and test splits of the papers' protocol."""
    if name.startswith("ETTh"):
        steps = 1
    elif name.startswith("ETTm"):
        steps = 4
    else:
        n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
        return n_train, n_rows - n_test, n_rows
    train, val, test = (h * steps for h in _ETT_HOURS)
    return train, train + val, train + val + test


def ltsf_split(
    df: pd.DataFrame, name: str, lookback: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split a benchmark frame into the papers' train, validation and test parts.

    ETTh: train rows [0, 8640), validation [8640 - lookback, 11520), test
    [11520 - lookback, 14400); ETTm the same times 4; other sets 70/10/20. Validation and test
    start ``lookback`` rows early so that their first window forecasts the first row after the
    previous split.

    Examples
    --------
    >>> train, val, test = ltsf_split(load_ett("ETTh1"), "ETTh1", lookback=96)
    >>> len(train), len(val), len(test)
    (8640, 2976, 2976)
    """
    train_end, val_end, test_end = ltsf_borders(name, len(df))
    if test_end > len(df):
        raise ValueError(f"{name} split needs {test_end} rows but the frame has {len(df)}")
    if lookback < 1 or lookback > train_end:
        raise ValueError(f"lookback must be in [1, {train_end}], got {lookback}")
    return (
        df.iloc[:train_end],
        df.iloc[train_end - lookback : val_end],
        df.iloc[val_end - lookback : test_end],
    )
