"""Series ids as text: the one spelling that batch files and fitted series keys are matched by."""

from __future__ import annotations

import numpy as np
import pandas as pd


def id_text(ids: pd.Series) -> pd.Series:
    """Series ids as text, one spelling per id whatever the file type.

    CSV ids are text already; Parquet keeps the column's type. Floats that are whole numbers are
    written as integers: pandas stores an integer column that once held a gap as float64, and
    its ``1.0`` must be the ``1`` of a CSV file (or of an integer column), not another series.
    """
    if pd.api.types.is_float_dtype(ids.dtype):
        values = ids.to_numpy(dtype="float64")
        if np.all(np.isfinite(values) & (values == np.round(values))) and np.all(np.abs(values) < 2**53):
            return pd.Series(values.astype(np.int64), index=ids.index, name=ids.name).astype(str)
    return ids.astype(str)
