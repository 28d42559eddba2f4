"""sktime's ``pretrain``: train on a panel, then fine-tune on the series given to ``fit``. sktime's
default did nothing, so ``evaluate(cv_global=...)`` scored models fitted on each test series alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import KFold
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

import tsrec
from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError

DAYS = pd.date_range("2020-01-01", periods=40, freq="D")
PANEL = pd.concat({f"s{i}": pd.DataFrame({"v": np.sin(np.arange(40) / 3 + i) + 0.1 * i}, index=DAYS)
                   for i in range(6)}, names=["id", "t"])
ONE = PANEL.loc["s0"]
OTHERS = PANEL.drop(index="s0", level="id")


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 6, "horizon": 2, "max_epochs": 2, "random_state": 0, **params})


def weights(network) -> dict:
    return {name: value.detach().clone() for name, value in network.state_dict().items()}


def assert_close(got: dict, want: dict, close: bool = True) -> None:
    agree = [torch.allclose(got[name], want[name], atol=1e-6) for name in want]
    assert all(agree) if close else not all(agree)


def test_fit_after_pretrain_starts_from_the_pretrained_weights():
    est = arnet().pretrain(OTHERS)
    assert est.state == "pretrained" and list(est.get_pretrained_params()) == ["pretrained_"]
    pretrained = dict(est.pretrained_.weights)
    assert_close(weights(arnet().fit(ONE).network_), pretrained, close=False)
    # with a learning rate too small to move them, the fitted weights are the pretrained ones (set_params
    # would reset the estimator, pretraining included, as sktime's set_params does)
    est.lr = 1e-12
    est.fit(ONE, fh=[1, 2])
    assert est.state == "fitted"
    assert_close(weights(est.network_), pretrained)
    fresh = arnet(lr=1e-12).fit(ONE).network_  # a plain fit starts from the seeded initial weights
    assert_close(weights(fresh), weights(arnet(max_epochs=1, lr=1e-12).fit(OTHERS).network_))


def test_fine_tuning_keeps_the_pretrained_weights_for_the_next_refit():
    est = arnet().pretrain(OTHERS)
    pretrained = dict(est.pretrained_.weights)
    first = est.fit(ONE, fh=[1, 2]).predict()
    assert_close(est.pretrained_.weights, pretrained)  # the fit trained a copy
    assert not np.allclose(first, arnet().fit(ONE, fh=[1, 2]).predict())
    pd.testing.assert_frame_equal(est.fit(ONE, fh=[1, 2]).predict(), first)  # a refit starts from them again
    again = arnet().pretrain(OTHERS).fit(ONE, fh=[1, 2]).predict()  # same seed, same result
    pd.testing.assert_frame_equal(again, first)


def test_a_second_pretrain_goes_on_training_the_pretrained_weights():
    est = arnet().pretrain(OTHERS.loc[["s1", "s2"]])
    first = dict(est.pretrained_.weights)
    est.lr = 1e-12  # not set_params, which would reset the estimator
    est.pretrain(OTHERS.loc[["s3", "s4"]])
    assert est.state == "pretrained"
    assert_close(est.pretrained_.weights, first)


@pytest.mark.parametrize("y, message", [
    (pd.DataFrame({"a": ONE["v"], "b": ONE["v"]}), "y has 2 variates but the forecaster was pretrained on 1; fit it"),
])
def test_a_fit_the_pretrained_network_cannot_start_is_refused_and_changes_nothing(y, message):
    est = arnet().pretrain(OTHERS)
    with pytest.raises(InputError, match=message):
        est.fit(y)
    assert est.state == "pretrained"
    est.fit(ONE)
    before = est.predict(fh=[1, 2])
    with pytest.raises(InputError, match=message):
        est.fit(y)
    pd.testing.assert_frame_equal(est.predict(fh=[1, 2]), before)


def test_a_network_the_pretrained_weights_do_not_fit_is_refused():
    est = arnet().pretrain(OTHERS)
    est.n_lags = 8  # assigned, not set_params (which resets pretraining): a wider input layer
    with pytest.raises(InputError, match=r"the pretrained weights do not fit the network the current parameters build "
                                         r"\(.*size mismatch.*\); pretrain again after changing parameters$"):
        est.fit(ONE)
    assert est.state == "pretrained"


def test_a_saved_fine_tuned_model_forecasts_alike(tmp_path):
    est = arnet().pretrain(OTHERS).fit(ONE, fh=[1, 2])
    loaded = tsrec.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_global_evaluation_pretrains_on_the_other_series():
    cv = ExpandingWindowSplitter(fh=[1, 2], initial_window=30, step_length=5)
    scores = evaluate(arnet(), cv, PANEL, cv_global=KFold(2), error_score="raise", return_data=True)
    assert len(scores) == 4 and np.isfinite(scores.iloc[:, 0]).all()
    # the first fold by hand: KFold's first test half is s0 to s2; pretrain on the others, fit on the test
    # series' first 30 days
    test_ids = [f"s{i}" for i in range(3)]
    by_hand = arnet().pretrain(PANEL.drop(index=test_ids, level="id"))
    train = PANEL.loc[test_ids][PANEL.loc[test_ids].index.get_level_values("t") < DAYS[30]]
    forecast = by_hand.fit(train, fh=[1, 2]).predict()
    assert scores["y_pred"].iloc[0].index.equals(forecast.index)
    np.testing.assert_allclose(scores["y_pred"].iloc[0].to_numpy(), forecast.to_numpy())


def test_a_refused_pretrain_of_a_fitted_forecaster_changes_nothing():
    # sktime stored the panel's type before the refusal: predict then failed with "No valid mtype"
    est = arnet().fit(ONE, fh=[1, 2])
    before = est.predict()
    short = pd.concat({key: PANEL.loc[key].iloc[:3] for key in ("s1", "s2")}, names=["id", "t"])
    with pytest.raises(InputError, match="shorter than"):
        est.pretrain(short)
    assert est.state == "fitted"
    pd.testing.assert_frame_equal(est.predict(), before)
    with pytest.raises(InputError, match=r"y contains NaN"):  # tsrec's message, as fit gives it
        est.pretrain(OTHERS.assign(v=np.where(np.arange(len(OTHERS)) == 5, np.nan, OTHERS["v"])))
    pd.testing.assert_frame_equal(est.predict(), before)


def test_a_second_pretrain_on_other_variates_is_told_to_pretrain_on_as_many():
    est = arnet().pretrain(OTHERS)
    with pytest.raises(InputError, match=r"y has 2 variates but the forecaster was pretrained on 1; pretrain it on "
                                         r"series of as many"):
        est.pretrain(OTHERS.assign(w=1.0))
    assert est.state == "pretrained" and est.pretrained_.n_channels == 1


def test_variates_in_another_order_are_told_the_pretrained_order():
    # the same names in another order were fitted silently, each variate on another's weights
    both = OTHERS.assign(w=OTHERS["v"] * 2)
    est = arnet().pretrain(both)
    assert est.pretrained_.columns == ("v", "w")
    with pytest.raises(InputError, match=r"y has the variates the forecaster was pretrained on in another order "
                                         r"\(\['w', 'v'\] for \['v', 'w'\]\); fit it on y\[\['v', 'w'\]\]"):
        est.fit(both.loc["s1"][["w", "v"]], fh=[1])
    assert est.fit(both.loc["s1"][["v", "w"]], fh=[1]).predict().shape == (1, 2)
    assert est.fit(both.loc["s1"].set_axis(["a", "b"], axis=1), fh=[1]).predict().shape == (1, 2)  # other names


def test_a_model_that_reads_no_stamps_fine_tunes_on_series_of_another_step():
    # as predict(y=...) reads a context: only a model that reads the stamps learned its step
    hourly = ONE.set_axis(pd.date_range("2020-01-01", periods=40, freq="h"))
    fitted = arnet().pretrain(OTHERS).fit(hourly, fh=[1, 2])
    assert fitted.predict().index[0] == hourly.index[-1] + pd.Timedelta("1h")
    from tsrec.estimators import CycleNetForecaster

    cycle = CycleNetForecaster(lookback=6, horizon=2, cycle_length=7, max_epochs=1, random_state=0).pretrain(OTHERS)
    with pytest.raises(InputError, match=r"y steps by h but the forecaster was pretrained on series that step by D, "
                                         r"and reads the stamps"):
        cycle.fit(hourly)
    # the same spacing spelt otherwise is the same step (pandas 3: to_offset("D") != to_offset("24h"))
    daily_as_hours = ONE.set_axis(pd.date_range("2020-01-01", periods=40, freq="24h"))
    assert cycle.fit(daily_as_hours, fh=[1, 2]).predict().index[0] == daily_as_hours.index[-1] + pd.Timedelta("24h")


def test_a_pretrained_forecaster_saves_once_fitted_and_pickles_before(tmp_path):
    import pickle

    from sktime.exceptions import NotFittedError

    est = arnet().pretrain(OTHERS)
    with pytest.raises(NotFittedError, match=r"pretrained but not fitted.*pickle it to keep the pretrained weights"):
        est.save(tmp_path / "m")
    copy = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(copy.fit(ONE, fh=[1, 2]).predict(), est.fit(ONE, fh=[1, 2]).predict())


def test_tune_says_the_pretraining_of_the_estimator_is_not_used():
    # each trial's set_params reset it without a word
    from tsrec.tuning import tune

    est = arnet(val_size=0.3).pretrain(OTHERS)
    with pytest.warns(UserWarning, match=r"ARNetForecaster is pretrained, but each trial sets its parameters, which "
                                         r"resets the pretraining: the trials train from fresh weights"):
        result = tune(est, ONE, n_trials=1, random_state=0, space=lambda t: {"lr": t.suggest_float("lr", 1e-3, 1e-2)})
    assert not hasattr(result.best_estimator, "pretrained_") and hasattr(est, "pretrained_")
