"""The float32 rounding check of a classifier's X, whatever real dtype or container X came in."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tsrec.estimators._panel_values import warn_rounded_away

# epoch seconds: a level of 1.7e9 varying by tens of seconds, which float32 holds only in steps of 128
SECONDS = 1_700_000_000 + np.random.default_rng(0).integers(-30, 30, size=(8, 2, 24))

WIDE = {
    "int64": SECONDS,
    "int32": SECONDS.astype(np.int32),
    "uint64": SECONDS.astype(np.uint64),
    "float64": SECONDS.astype(np.float64),
    "list of float64 arrays": list(SECONDS.astype(np.float64)),
    "list of int64 arrays": list(SECONDS),
}


@pytest.mark.parametrize("name", list(WIDE))
def test_values_float32_cannot_hold_are_warned_of_in_any_wide_real_dtype(name):
    given = WIDE[name]
    with pytest.warns(UserWarning, match=r"X's channel\(s\) \[0, 1\] vary little for their size"):
        warn_rounded_away(given, np.asarray(given, dtype=np.float32))


@pytest.mark.parametrize("given", [SECONDS - SECONDS.min(), (SECONDS - SECONDS.min()).astype(np.int16),
                                   SECONDS.astype(np.float32)], ids=["int64 near 0", "int16", "float32"])
def test_values_float32_holds_exactly_are_not_warned_of(given):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warn_rounded_away(given, np.asarray(given, dtype=np.float32))
        warn_rounded_away(given, np.asarray(given, dtype=np.float64))  # a float64 network rounds nothing away


@pytest.mark.parametrize(("spread", "warns"), [(5.0, True), (100.0, False)])
def test_the_warning_starts_where_rounding_passes_a_thousandth_of_the_spread(spread, warns):
    # at a level of 1e6, float32 rounds by about 0.018 on average: 0.0037 of a spread of 5, 0.00017 of 100
    given = 1e6 + spread * np.random.default_rng(0).standard_normal((8, 1, 24))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warn_rounded_away(given, given.astype(np.float32))
    assert [("vary little" in str(w.message)) for w in seen] == ([True] if warns else [])


@pytest.mark.parametrize(("channels", "warns"), [(7, True), (6, False)])
def test_the_channels_last_warning_starts_at_one_channel_more_than_timepoints(channels, warns):
    from tsrec.estimators._panel_values import warn_channels_last

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warn_channels_last(np.zeros((4, channels, 6)))
    assert [f"X has {channels} channels of 6 timepoints" in str(w.message) for w in seen] == ([True] if warns else [])
