"""Time stamps of batch input files: parsed per file, then made comparable across files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.estimators.errors import InputError

# a clock time followed by a UTC offset ("...01:00:00+01:00", "...T01:00Z"); a bare date's "-31" is no offset
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


def parse_times(values: pd.Series, path: Path) -> pd.Series:
    """Datetimes parsed by pandas, or integer time steps kept as they are."""
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
        raise InputError(
            f"{path}: column {values.name!r} has empty time stamps (first at data row {row}); fill them in"
        )
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("int64")
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise InputError(
            f"{path}: time column {values.name!r} holds {values.dtype} numbers; use dates "
            "(e.g. 2024-01-01 00:00) or integer time steps"
        )
    message = ""
    for options in _datetime_options(values):
        try:
            return pd.to_datetime(values, **options)
        except (ValueError, TypeError, OverflowError) as err:
            message = str(err).splitlines()[0]
    raise InputError(
        f"{path}: column {values.name!r} has values that are not time stamps ({message}); "
        "write dates in one format (e.g. 2024-01-01 00:00) or use integer time steps"
    )


def _datetime_options(values: pd.Series) -> Iterator[dict]:
    """Ways to parse text stamps, tried in turn (lazily: the offset test reads every value)."""
    yield {}
    # the first stamp fixes pandas' guessed format; ISO 8601 stamps may vary in precision
    yield {"format": "ISO8601"}
    # offsets that change (daylight saving time) meet in UTC; a stamp without one must not pass as UTC
    if values.astype(str).str.strip().str.contains(_OFFSET).all():
        yield {"utc": True}
        yield {"utc": True, "format": "ISO8601"}


def common_time_zone(frames: list[pd.DataFrame], time_col: str) -> list[pd.DataFrame]:
    """Files whose stamps are all zone-aware but in different zones (e.g. one offset per month) meet in UTC."""
    zones = {str(getattr(f[time_col].dtype, "tz", None)) for f in frames}
    if len(zones) < 2 or "None" in zones:
        return frames
    return [f.assign(**{time_col: f[time_col].dt.tz_convert("UTC")}) for f in frames]


def check_time_types(frame: pd.DataFrame, time_col: str, paths: list, frames: list) -> None:
    """Refuse files whose stamps pandas could only join as objects (dates beside integers, zones beside none)."""
    if len(frames) > 1 and frame[time_col].dtype == object:
        kinds = {str(p): str(f[time_col].dtype) for p, f in zip(paths, frames)}
        raise InputError(
            f"the input files have different kinds of time stamps ({kinds}); use the same kind "
            "(all dates with the same time zone, or all integer steps) in every file"
        )
