"""SMambaForecaster learns across variates: a series that lags another is forecast from it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.estimators import SMambaForecaster


def test_a_lagging_variate_is_forecast_from_the_leading_one():
    # "leader" is noise: its own past says nothing of its future; "follower" repeats it 3 steps later,
    # so the follower's next 3 steps are in the leader's lookback, and only a model that mixes
    # variates can see them (as the paper's variate tokens are for)
    rng = np.random.default_rng(0)
    leader = rng.normal(size=4_003)
    y = pd.DataFrame({"leader": leader[3:], "follower": leader[:-3]})
    est = SMambaForecaster(lookback=16, horizon=3, d_model=32, d_ff=32, lr=1e-2, max_epochs=8,
                           random_state=0).fit(y.iloc[:3_800])
    errors = []
    for end in range(3_820, 4_000, 3):
        forecast = est.predict(fh=[1, 2, 3], y=y.iloc[:end])
        errors.append(np.mean((forecast["follower"].to_numpy() - y["follower"].iloc[end:end + 3].to_numpy()) ** 2))
    assert np.mean(errors) < 0.1  # measured 0.027; 1.0 for any forecast that ignores the leader
