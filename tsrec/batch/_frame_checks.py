"""Checks of the columns asked for and of the rows read, shared by the long and wide layouts of batch input.

Each error names the file (or the option), the problem and the fix (DESIGN.md, "Bad input").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.batch._values import FIX_COLUMNS
from tsrec.errors import InputError

# a wide file has one row per time for all series: a series that starts later or ends earlier
# leaves NaN cells that no fill makes right, so its rows belong in the long layout
_WIDE_TO_LONG = (
    "if the series start or end at different times, save the file in the long layout instead (one row per "
    "series and time, e.g. df.melt(id_vars={time!r}, var_name={id!r}, value_name={value!r}).dropna(); "
    "CLI: --layout long), so that each series starts and ends on its own; else fill the gaps (e.g. interpolate)"
)


def check_roles(layout: str, id_col: str, time_col: str, names: list[str], columns) -> None:
    """One column per role: a shared name would make two columns of one frame (pandas fails obscurely)."""
    values = "columns" if layout == "long" and columns is not None else "value_col"
    seen: dict[str, str] = {}
    for role, name in [("id_col", id_col), ("time_col", time_col), *[(values, n) for n in names]]:
        if name in seen:
            raise InputError(
                f"{seen[name]} and {role} are both {name!r}; the series id, time and value columns need "
                f"different names: {FIX_COLUMNS}"
            )
        seen[name] = role


# a wide read that finds the id column among the series: the file is likely long
LONG_HINT = "; or, if the file has one row per series and time step (a long file), layout='long' (CLI: --layout long)"


def check_series_names(series: list, path: Path, id_col: str, value_col: str) -> None:
    """Series columns are stacked into an id and a value column; neither name may be a series too."""
    for role, name, option in [("id", id_col, "id_col=/--id-col"), ("value", value_col, "value_col=/--value-col")]:
        if name in series:
            raise InputError(
                f"{path}: series column {name!r} has the name of the {role} column that a wide file is "
                f"stacked into; pass another {option} (or rename the column){LONG_HINT if role == 'id' else ''}"
            )


def check_finite(
    frame: pd.DataFrame, id_col: str, time_col: str, names: list[str], files: np.ndarray, layout: str = "long"
) -> None:
    """Refuse NaN or infinite values, naming the first one's file, series and time.

    Parameters
    ----------
    frame : pandas.DataFrame
        The flat long rows ``id_col, time_col, *names`` of every file.
    id_col, time_col : str
        The series-id and time columns.
    names : list of str
        The value columns.
    files : numpy.ndarray
        Each row's file.
    layout : {"long", "wide"}, default="long"
        The files' layout: the fix for a wide file's NaN cells is the long layout, as filling or
        dropping its rows would cut or invent values of every series.

    Raises
    ------
    InputError
        A value is NaN or infinite.
    """
    bad = ~np.isfinite(frame[names].to_numpy()).all(axis=1)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    ids = pd.unique(frame[id_col].to_numpy()[bad])
    fix = "fill or drop them before forecasting (e.g. interpolate)"
    if layout == "wide":
        fix = _WIDE_TO_LONG.format(time=time_col, id=id_col, value=names[0])
    raise InputError(
        f"{files[first]}: {int(bad.sum())} row(s) of {len(ids)} series have missing (NaN) or "
        f"infinite values, e.g. series {frame[id_col].iat[first]!r} at {frame[time_col].iat[first]}; {fix}"
    )


def check_duplicates(frame: pd.DataFrame, id_col: str, time_col: str, files: np.ndarray) -> None:
    """Refuse a series' repeated time stamps, naming the first one's files and how many series have them."""
    dup = frame.duplicated([id_col, time_col], keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        key, stamp = frame[id_col].iat[first], frame[time_col].iat[first]
        same = dup & (frame[id_col] == key).to_numpy() & (frame[time_col] == stamp).to_numpy()
        where = sorted({str(files[i]) for i in np.flatnonzero(same)})
        n_series = frame.loc[dup, id_col].nunique()
        raise InputError(
            f"{', '.join(where)}: series {key!r} has duplicate time stamps (e.g. {stamp}, "
            f"{int(same.sum())} rows); {n_series} series {'has' if n_series == 1 else 'have'} duplicates; drop or "
            "aggregate them first"
        )
