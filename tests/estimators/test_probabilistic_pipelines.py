"""sktime's pipelines around a probabilistic tsrec forecaster make every probabilistic forecast
without skpro, which tsrec does not depend on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.compose import TransformedTargetForecaster
from sktime.transformations.series.boxcox import LogTransformer
from sktime.transformations.series.exponent import ExponentTransformer

from tsrec.estimators import LS4Forecaster


def pipeline(transformer: object) -> TransformedTargetForecaster:
    """LS4 at its cheapest behind ``transformer``, fitted on a positive daily series."""
    y = pd.Series(np.sin(np.arange(50) / 3) + 5, index=pd.date_range("2024-01-01", periods=50, freq="D"))
    inner = LS4Forecaster(**LS4Forecaster.get_test_params()[0], random_state=0)
    return TransformedTargetForecaster([("t", transformer), ("f", inner)]).fit(y, fh=[1, 2])


@pytest.mark.parametrize("transformer", [LogTransformer(), ExponentTransformer(power=1)], ids=["log", "exponent"])
def test_a_transformed_target_pipeline_gives_variances_and_distributions_without_skpro(transformer):
    # an override of sktime's private _predict_proba made the pipeline take its skpro-only path
    # (RuntimeError "The skpro package is required ...") instead of its Normal fallback
    ttf = pipeline(transformer)
    point, interval = ttf.predict(), ttf.predict_interval(coverage=0.9)
    variance = ttf.predict_var()
    assert variance.shape == (2, 1) and variance.index.equals(point.index) and (variance.to_numpy() > 0).all()
    proba = ttf.predict_proba()
    assert proba.index.equals(point.index)
    np.testing.assert_allclose(proba.mean().to_numpy().ravel(), point.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(proba.var().to_numpy(), variance.to_numpy(), rtol=1e-9)
    lower, upper = proba.quantile([0.05]).to_numpy().ravel(), proba.quantile([0.95]).to_numpy().ravel()
    assert (lower < point.to_numpy()).all() and (point.to_numpy() < upper).all()
    # the interval brackets the same point forecast
    assert (interval.iloc[:, 0] < point).all() and (point < interval.iloc[:, 1]).all()
