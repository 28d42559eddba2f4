"""patience with val_size=0 has no validation loss to watch: fit says so instead of ignoring it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier

Y = pd.Series(np.sin(np.arange(120) * 2 * np.pi / 24), index=pd.date_range("2024-01-01", periods=120, freq="h"))
UNUSED = "patience=.* is not used: val_size=0 holds out no validation data"


def patience_warnings(fit) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if "patience" in str(w.message)]


def test_patience_with_val_size_0_warns_and_trains_all_epochs():
    with pytest.warns(UserWarning, match=r"patience=2 is not used: .*set val_size > 0 \(e.g. 0.2\).*or patience=None"):
        est = CycleNetForecaster(lookback=24, horizon=6, patience=2, val_size=0, max_epochs=3, random_state=0).fit(Y)
    assert est.history_["epochs"] == 3 and est.history_["val_loss"] == []
    with pytest.warns(UserWarning, match=UNUSED):  # ARNet's default val_size is 0
        ARNetForecaster(n_lags=3, horizon=2, patience=1, max_epochs=1).fit(Y)
    X, y = np.random.default_rng(0).normal(size=(16, 12)), np.arange(16) % 2
    with pytest.warns(UserWarning, match=UNUSED):
        PGNClassifier(hidden=4, patience=1, max_epochs=1).fit(X, y)


def test_no_warning_without_patience_or_with_validation_data():
    assert patience_warnings(lambda: ARNetForecaster(n_lags=3, horizon=2, max_epochs=1).fit(Y)) == []
    assert patience_warnings(lambda: CycleNetForecaster(lookback=24, horizon=6, max_epochs=1).fit(Y)) == []
