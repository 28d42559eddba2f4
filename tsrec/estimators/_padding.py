"""Missing values that pad a panel's series at their ends: what an sktime transformer inside a
pipeline (Detrender) makes of a panel whose series span different times, where the user's own
``y`` has none and the usual fix, filling ``y``, changes nothing; and in a flat frame, columns that
are series of other spans side by side (darts' layout), which a fill would invent values for."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators._params import first_keys


def padding_note(frame: pd.DataFrame, values: np.ndarray) -> str:
    """A sentence on series padded at their ends, where every non-finite row of the panel
    ``frame`` (``values``, its numbers) leads or trails its series; else ``""``."""
    bad = ~np.isfinite(values).all(axis=1)
    series = pd.factorize(frame.index.droplevel(-1))[0]
    if series.max(initial=0) < 1 or not bad.any():
        return ""
    padded = [_at_ends(bad[series == code]) for code in np.unique(series[bad])]
    if not all(padded):
        return ""
    return ("; the missing values only pad series at their start or end, as some sktime transformers do inside a "
            "pipeline (Detrender pads each series to every series' time stamps): give every series one time span "
            "(cut them to the common range), use a transformer that keeps each series' own rows (e.g. Differencer, "
            "BoxCoxTransformer), or outside a pipeline drop the padded rows (y.dropna())")


def _at_ends(bad: np.ndarray) -> bool:
    """Whether the bad rows of one series (in time order) are a leading and/or trailing run."""
    good = np.flatnonzero(~bad)
    return good.size > 0 and not bad[good[0]:good[-1] + 1].any()


def wide_padding_note(frame: pd.DataFrame, values: np.ndarray, name: str) -> str:
    """A sentence on the columns of a flat ``frame`` (``values``, its numbers) whose non-finite values all
    lead or trail them: separate series that start or end at other times, as a darts user lays them out
    side by side (filling them would invent their missing spans); else ``""``."""
    bad = ~np.isfinite(values)
    columns = np.flatnonzero(bad.any(axis=0))
    if frame.shape[1] < 2 or not all(_at_ends(bad[:, j]) for j in columns):
        return ""
    return (f"; the missing values only lead or trail columns: if these are series of their own that start or end "
            f"at other times, give them as a panel of one variate, {name} = {name}.stack().dropna().to_frame('y')"
            ".swaplevel().sort_index() (one model for all series)")


def empty_parts_note(frame: pd.DataFrame, values: np.ndarray, name: str) -> str:
    """A sentence on variates (or, in a panel, series) of ``frame`` with no finite value at all, which
    the fill the message advises leaves as they are; else ``""``."""
    bad = ~np.isfinite(values)
    if not isinstance(frame.index, pd.MultiIndex):
        empty = [c for c, column in zip(frame.columns, bad.T) if column.all()]
        if not empty:
            return ""
        if frame.shape[1] == 1:
            return f"; {name} holds no finite value at all, which no fill can mend"
        return (f"; columns {empty} hold no finite value at all, which no fill can mend: drop them, "
                f"{name} = {name}.drop(columns={empty})")
    keys = frame.index.droplevel(-1)
    flags = pd.DataFrame(bad, index=keys).groupby(level=list(range(keys.nlevels)), sort=False).all().any(axis=1)
    empty = flags.index[flags.to_numpy()].tolist()
    if not empty:
        return ""
    # a nested panel's keys are tuples, which drop(index=[...]) matches on the leading levels too
    drop = f": drop them, {name} = {name}.drop(index={empty})"
    verb = "has" if len(empty) == 1 else "have"
    return f"; series {first_keys(empty)} {verb} a variate with no finite value at all, which no fill can mend{drop}"
