"""Read one LTSF benchmark CSV and refuse a copy that is not the published file.

Truncated and re-encoded copies of these files circulate (the reference notes name cut ETTm
copies); pandas reads them without a word, and the papers' splits, cut by row position, would then
silently differ. So the file's shape is compared with the published one and every value column
must hold finite numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# published shape of each file: rows and value columns (``date`` excluded)
PUBLISHED_SHAPES = {
    "ETTh1": (17420, 7),
    "ETTh2": (17420, 7),
    "ETTm1": (69680, 7),
    "ETTm2": (69680, 7),
    "exchange_rate": (7588, 8),
    "illness": (966, 7),
    "weather": (52696, 21),
}
_FIX = "re-download the file (the Autoformer/TSLib copy; SHA-256 digests are in the data folder's SHA256SUMS)"


def read_ltsf_csv(path: Path, name: str) -> pd.DataFrame:
    """The file as a frame with its ``date`` column, after checking it is the published ``name`` file."""
    try:
        df = pd.read_csv(path, encoding_errors="replace", low_memory=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as err:
        message = f"{path} is not a readable CSV file ({err}); is it the {name} benchmark file? {_FIX}"
        raise ValueError(message) from None
    if "date" not in df.columns or df.empty:
        raise ValueError(f"{path} needs a 'date' column and at least one row; is it the {name} benchmark file?")
    rows, columns = PUBLISHED_SHAPES[name]
    if df.shape != (rows, columns + 1):
        raise ValueError(
            f"{path} has {len(df)} rows and {df.shape[1] - 1} value columns, but the {name} benchmark has "
            f"{rows} and {columns}: the file is truncated or another copy; {_FIX}"
        )
    _check_values(df.drop(columns="date"), path, name)
    return df


def _check_values(values: pd.DataFrame, path: Path, name: str) -> None:
    """Every value column numeric and finite (a corrupt byte turns a column into strings or NaN)."""
    for column in values.columns:
        numbers = pd.to_numeric(values[column], errors="coerce")
        bad = numbers.isna() | ~numbers.abs().lt(float("inf"))
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValueError(
                f"{path}: column {column!r} has a value that is not a finite number "
                f"({values[column].iloc[row]!r}, file line {row + 2}); the {name} file is damaged; {_FIX}"
            )


def first_stamp(stamps: pd.Series, path: Path) -> pd.Timestamp:
    """The first ``date`` value as a time stamp, or a message naming the file."""
    try:
        return pd.to_datetime(stamps.iloc[0], format="mixed")
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"{path}: the first 'date' value {stamps.iloc[0]!r} is not a date; {_FIX}") from None
