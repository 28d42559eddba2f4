"""Value and id columns of batch input files: numbers as float64, ids present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.estimators.errors import InputError

FIX_COLUMNS = "pass id_col=/time_col=/value_col=/columns= (CLI: --id-col/--time-col/--value-col/--columns)"


def numeric(values: pd.Series, path: Path) -> pd.Series:
    """Values as float64, or a TypeError quoting the first value that is not a number.

    Numbers held as objects (a Parquet DECIMAL column, numbers stored as text) are converted one
    by one with ``float``, which rounds correctly (``pd.to_numeric`` parses text to within a bit,
    so forecasts could differ from the same numbers read from a float column).
    """
    is_bool = pd.api.types.is_bool_dtype(values.dtype)
    if pd.api.types.is_numeric_dtype(values.dtype) and not is_bool:
        return values.astype("float64")
    missing = values.isna().to_numpy()
    if is_bool:
        bad = ~missing
    else:
        numbers = [np.nan if gap else _as_float(v) for v, gap in zip(values.to_numpy(dtype=object), missing)]
        bad = np.array([n is None for n in numbers], dtype=bool)
        if not bad.any():
            return pd.Series(np.array(numbers, dtype="float64"), index=values.index, name=values.name)
    row = int(np.flatnonzero(bad)[0])
    value = values.iat[row]
    shown = repr(value) if isinstance(value, str) else value
    raise TypeError(
        f"{path}: column {values.name!r} has non-numeric values (e.g. {shown} at data row {row + 1}); fix or "
        f"remove them, or pick other value columns: {FIX_COLUMNS}{_comma_hint(value, path)}"
    )


def _comma_hint(value: object, path: Path) -> str:
    """For a decimal comma ("10,5", quoted so that the comma is no delimiter): the number it means.
    Three digits after it ("1,250") may as well be thousands: no guess then."""
    if not isinstance(value, str) or value.count(",") != 1 or len(value.strip().split(",")[1]) == 3 \
            or _as_float(value.replace(",", ".")) is None:
        return ""
    rewrite = ", e.g. pd.read_csv(path, decimal=',').to_csv(new_path, index=False)" if ".csv" in path.suffixes else ""
    return f" ({value!r} looks like a decimal comma: write {value.replace(',', '.')!r}{rewrite})"


def _as_float(value: object) -> float | None:
    """``value`` as a float, or None for what is no number (True, "1_000", text, dates)."""
    # float() takes True and Python's "1_000" spelling; neither is a number in a data file
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, str) and "_" in value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def check_ids(ids: pd.Series, path: Path) -> None:
    """Refuse missing or empty series ids (CSV ids are read as text, so an empty cell is "")."""
    empty = ids.isna().to_numpy() | ids.eq("").to_numpy(dtype=bool, na_value=False)
    if empty.any():
        row = int(np.flatnonzero(empty)[0]) + 1
        raise InputError(f"{path}: column {ids.name!r} has empty series ids (first at data row {row}); fill them in")
