"""The frame of the bad-input tests (test_bad_input.py, test_bad_parameters.py; not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frame(n=200, cols=("a", "b")):
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.standard_normal((n, len(cols))), index=index, columns=list(cols))
