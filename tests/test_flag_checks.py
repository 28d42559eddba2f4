"""One flag check for the estimators' parameters and the networks' arguments (tsrec._checks.check_flag)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tsrec._checks import check_flag
from tsrec.errors import FlagError, TsrecError
from tsrec.estimators import LTCForecaster
from tsrec.nn import SMambaTokens


@pytest.mark.parametrize("value", [True, False, np.True_, np.bool_(False)])
def test_bools_and_numpy_bools_pass_as_bool(value) -> None:
    out = check_flag("norm", value)
    assert type(out) is bool and out == bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", "mean", None, np.int64(1), [True]])
def test_anything_else_is_refused_as_both_type_and_value_error(value) -> None:
    with pytest.raises(FlagError, match=re.escape(f"norm must be True or False, got {value!r}")) as info:
        check_flag("norm", value)
    # the estimators raised TypeError and the networks ValueError before they shared this check
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, TsrecError)


def test_estimators_and_networks_refuse_a_string_flag_alike() -> None:
    y = np.sin(np.arange(120) / 4.0)
    with pytest.raises(FlagError, match="norm must be True or False, got 'yes'"):
        LTCForecaster(lookback=8, horizon=2, norm="yes", max_epochs=1).fit(y)
    with pytest.raises(FlagError, match="pool must be True or False, got 'mean'"):
        SMambaTokens(6, d_model=8, d_ff=8, pool="mean")
    # NumPy 2's bool (a grid of flags gives them) builds a network and fits an estimator
    assert SMambaTokens(6, d_model=8, d_ff=8, pool=np.True_).pool is True
    assert LTCForecaster(lookback=8, horizon=2, units=4, norm=np.False_, max_epochs=1, random_state=0).fit(y).is_fitted
