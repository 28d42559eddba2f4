"""A forecaster's refusal of series too short for its lookback (and horizon), with the fix: a
longer series or a smaller model, the transpose of a container read the other way round, or how
to leave the short series of a panel out."""

from __future__ import annotations

from tsrec.estimators import _newdata
from tsrec.estimators.errors import InputError

_PANDAS_PANELS = ("pd-multiindex", "pd_multiindex_hier")


def check_lengths(est, parts: list, needed: int, with_horizon: bool = True, mtype: str | None = None) -> None:
    """Refuse ``parts`` (key, frame) with fewer than ``needed`` rows. ``mtype``: the sktime mtype of
    the data, which says how to turn a container read the other way round (by default the fitted
    data's)."""
    what = f"{est._lookback_name} + horizon" if with_horizon else est._lookback_name
    name = est._lookback_name
    fix = (f"give a longer series or lower {name}/horizon" if with_horizon else
           f"give {needed} rows or more (a shorter context needs a model fitted with a lower {name})")
    short = [(key, len(df)) for key, df in parts if len(df) < needed]
    mtype = mtype or getattr(est, "_y_metadata", {}).get("mtype")
    # a (variates, time) array has as many "variates" as steps; a darts-style (series, time, variates) one too
    wide = len(short) == len(parts) and parts[0][1].shape[1] >= needed
    turned = transpose_advice(mtype, len(parts)) if wide else ""
    if len(short) == 1:
        raise InputError(f"{_newdata.series_name(short[0][0])} has {short[0][1]} rows but needs at least "
                         f"{what} = {needed}; {fix}{turned}")
    if short:  # a panel fixed one failed fit at a time had as many fits as short series
        shown = ", ".join(f"{key!r} ({rows} rows)" for key, rows in short[:3])
        raise InputError(f"{len(short)} of the {len(parts)} series are shorter than {what} = {needed} rows, e.g. "
                         f"{shown}; {fix}{turned or _leave_out_advice(short, len(parts), needed, mtype)}")


def transpose_advice(mtype: str | None, n_series: int) -> str:
    """The transpose that turns a container of y read the other way round (rows as variates) into
    the (time, variates) one tsrec reads, by its sktime ``mtype``."""
    if mtype == "numpy3D":
        return ("; if it is (series, time, variates), as darts and neuralforecast lay it out, pass "
                "np.transpose(y, (0, 2, 1))")
    if mtype == "df-list":
        return "; if the rows of its frames are variates, pass [frame.T for frame in y]"
    if n_series == 1 and mtype not in _PANDAS_PANELS:
        return "; if its rows are variates, pass y.T"
    return ""


def _leave_out_advice(short: list, n_series: int, needed: int, mtype: str | None) -> str:
    """How to leave the short series out of a pandas panel (of a list or an array, the user knows
    how); nothing where every series is short."""
    if len(short) == n_series or mtype not in _PANDAS_PANELS:
        return ""
    level = "0" if not isinstance(short[0][0], tuple) else str(list(range(len(short[0][0]))))
    return f", or leave them out: y = y.groupby(level={level}).filter(lambda s: len(s) >= {needed})"
