"""tsrec.tuning: search spaces for every registered estimator, tune() with real pruning."""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pytest
from lightning.pytorch.callbacks import Callback

import tsrec
from tsrec.datasets import make_ar, make_seasonal
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier
from tsrec.estimators import _engine
from tsrec.tuning import TuneResult, search_space, tune
from tsrec.tuning.spaces import shared_space, space_for

ESTIMATORS = tsrec.all_estimators()
IDS = [name for name, _ in ESTIMATORS]


@pytest.fixture(scope="module")
def series():
    y, _ = make_seasonal(n_samples=360, period=24, random_state=0)
    return y


def small_cyclenet(**params) -> CycleNetForecaster:
    return CycleNetForecaster(**{"lookback": 48, "horizon": 12, "max_epochs": 4, "random_state": 0, **params})


@pytest.fixture(scope="module")
def forecaster_run(series):
    return tune(small_cyclenet(), series, n_trials=4, random_state=0, fit_params={"fh": [1, 2, 3]})


def toy_panel(n=32, length=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, length))
    y = np.array(["up", "down"] * (n // 2))
    X[y == "up"] += np.linspace(0, 2, length)
    return X, y


class PruneFrom(optuna.pruners.BasePruner):
    """Prune every trial numbered ``first`` or later at its first report; count the questions."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.asked: list[tuple[int, int]] = []

    def prune(self, study, trial) -> bool:
        self.asked.append((trial.number, trial.last_step))
        return trial.number >= self.first


def completed(study):
    return [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


# ---- tune on a forecaster -------------------------------------------------------------------


def test_forecaster_best_is_the_min_over_completed_trials(forecaster_run, series):
    result = forecaster_run
    assert isinstance(result, TuneResult)
    done = completed(result.study)
    assert len(result.study.trials) == 4 and len(done) == 4  # the default pruner waits 5 trials
    best_trial = min(done, key=lambda t: t.value)
    assert result.best_value == min(t.value for t in done) == best_trial.value
    # the study minimises too: its sampler and pruner chase low losses, and its best is tsrec's
    assert result.study.direction == optuna.study.StudyDirection.MINIMIZE
    assert result.study.best_value == result.best_value and result.study.best_params == result.best_params
    assert result.best_params == best_trial.params
    assert set(result.best_params) == {"backbone", "lr", "batch_size"}
    # every completed trial reported one validation loss per epoch through the pruning callback
    for trial in done:
        assert sorted(trial.intermediate_values) == list(range(trial.user_attrs["epochs"]))
        assert trial.value == pytest.approx(min(trial.intermediate_values.values()))
    # the kept estimator is the best trial's own fit, not a refit
    best = result.best_estimator
    assert best.is_fitted and best.history_["best_val_loss"] == result.best_value
    assert {k: best.get_params()[k] for k in result.best_params} == result.best_params
    forecast = best.predict()  # fh came through fit_params
    assert forecast.shape == (3, 1) and np.isfinite(forecast.to_numpy()).all()


def test_tune_leaves_the_given_estimator_and_context_untouched(series):
    est = small_cyclenet()
    before = est.get_params()
    tune(est, series, n_trials=1, random_state=0)
    assert est.get_params() == before and not est.is_fitted
    assert _engine._CONTEXT_CALLBACKS.get() == ()


def test_same_random_state_same_search_and_forecasts(forecaster_run, series):
    again = tune(small_cyclenet(), series, n_trials=4, random_state=0, fit_params={"fh": [1, 2, 3]})
    assert again.best_params == forecaster_run.best_params
    assert again.best_value == forecaster_run.best_value
    assert [t.params for t in again.study.trials] == [t.params for t in forecaster_run.study.trials]
    np.testing.assert_array_equal(
        again.best_estimator.predict().to_numpy(), forecaster_run.best_estimator.predict().to_numpy()
    )
    other = tune(small_cyclenet(max_epochs=1), series, n_trials=1, random_state=1)
    assert other.study.trials[0].params != forecaster_run.study.trials[0].params


def test_a_tie_keeps_the_earlier_trial(series):
    # a batch larger than all the training windows trains as any other such batch: the same losses
    def space(trial):
        return {"batch_size": 256 if trial.number == 0 else 512}

    result = tune(small_cyclenet(max_epochs=1), series[:120], n_trials=2, space=space, random_state=0)
    first, second = result.study.trials
    assert first.value == second.value
    assert result.best_params == {"batch_size": 256} and result.best_estimator.batch_size == 256


# ---- pruning ----------------------------------------------------------------------------------


def test_pruned_trials_stop_at_the_pruners_word(series):
    pruner = PruneFrom(first=1)
    result = tune(small_cyclenet(), series, n_trials=3, random_state=0, pruner=pruner)
    states = [t.state for t in result.study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] + [optuna.trial.TrialState.PRUNED] * 2
    first, *pruned = result.study.trials
    assert len(first.intermediate_values) == 4
    for trial in pruned:
        # reported once (epoch 0) by the callback, which then raised TrialPruned out of the fit
        assert list(trial.intermediate_values) == [0]
        assert trial.user_attrs["epochs"] == 1  # trials_dataframe()'s epochs column, pruned trials too
    assert first.user_attrs["epochs"] == 4
    assert pruner.asked == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (2, 0)]
    assert result.best_value == first.value and result.best_params == first.params
    assert _engine._CONTEXT_CALLBACKS.get() == ()


def test_the_default_pruner_is_the_documented_median_pruner(series):
    study = tune(small_cyclenet(max_epochs=1), series, n_trials=1, random_state=0).study
    assert isinstance(study.pruner, optuna.pruners.MedianPruner)
    assert (study.pruner._n_startup_trials, study.pruner._n_warmup_steps) == (5, 2)  # as tune's docstring says


def test_all_trials_pruned_is_a_clear_error(series):
    with pytest.raises(RuntimeError, match=r"no trial completed.*PRUNED"):
        tune(small_cyclenet(max_epochs=2), series, n_trials=2, pruner=PruneFrom(first=0))
    assert _engine._CONTEXT_CALLBACKS.get() == ()


# ---- tune on a classifier ---------------------------------------------------------------------


def test_classifier_tunes_with_x_then_y():
    X, y = toy_panel()
    clf = PGNClassifier(hidden=8, max_epochs=2, val_size=0.3, random_state=0)
    result = tune(clf, X, y, n_trials=3, random_state=0)
    done = completed(result.study)
    assert result.best_value == min(t.value for t in done)
    assert set(result.best_params) == {"hidden", "n_layers", "dropout", "lr"}
    best = result.best_estimator
    assert list(best.classes_) == ["down", "up"] and best.predict(X[:5]).shape == (5,)
    assert best.history_["best_val_loss"] == result.best_value
    with pytest.raises(TypeError, match=r"tune\(classifier, X, y\)"):
        tune(clf, X, n_trials=1)


# ---- search spaces ----------------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", ESTIMATORS, ids=IDS)
def test_search_space_gives_valid_params_for_every_registered_estimator(name, cls):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    valid = set(cls().get_params())
    for _ in range(5):
        trial = study.ask()
        params = search_space(name, trial)
        assert isinstance(params, dict) and params
        assert set(params) <= valid, f"{name}: {sorted(set(params) - valid)} are not parameters"
        est = cls().set_params(**params)
        assert {k: est.get_params()[k] for k in params} == params
        # the same values replay through a FixedTrial, and class, instance and name agree
        assert search_space(cls, optuna.trial.FixedTrial(params)) == params
        assert search_space(cls(), optuna.trial.FixedTrial(params)) == params
        study.tell(trial, 0.0)


def test_model_specific_spaces_and_the_shared_fallback():
    def keys(name):
        return set(search_space(name, optuna.create_study().ask()))

    assert keys("CycleNetForecaster") == {"backbone", "lr", "batch_size"}
    assert keys("ARNetForecaster") == {"sparsity", "lr"}
    assert keys("PGNForecaster") == {"hidden", "norm", "lr"}
    assert keys("PGNClassifier") == {"hidden", "n_layers", "dropout", "lr"}

    class Subclassed(CycleNetForecaster):
        pass

    class Unregistered:
        def __init__(self, lr=1e-3, weight_decay=0.0, batch_size=32, depth=2):
            self.lr, self.weight_decay, self.batch_size, self.depth = lr, weight_decay, batch_size, depth

    assert space_for(Subclassed) is space_for("CycleNetForecaster")
    assert space_for(Unregistered) is shared_space
    assert set(search_space(Unregistered(), optuna.create_study().ask())) == {"lr", "weight_decay", "batch_size"}
    with pytest.raises(ValueError, match="known estimators"):
        search_space("NoSuchForecaster", optuna.create_study().ask())
    with pytest.raises(ValueError, match="no search space for dict"):
        space_for(dict)


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("n_trials", [0, -2, 1.5, True, None, "3"])
def test_n_trials_must_be_a_positive_integer(series, n_trials):
    with pytest.raises(ValueError, match="n_trials must be a positive integer"):
        tune(small_cyclenet(), series, n_trials=n_trials)


def test_val_size_zero_is_refused_with_the_fix(series):
    with pytest.raises(ValueError, match=r"val_size=0.*set val_size"):
        tune(ARNetForecaster(n_lags=4), series, n_trials=1)  # AR-Net defaults to val_size=0


def test_unknown_params_from_a_custom_space_are_named(series):
    def space(trial):
        return {"lr": trial.suggest_float("lr", 1e-3, 1e-2), "depth": 3, "width": 8}

    with pytest.raises(ValueError, match=r"\['depth', 'width'\].*valid parameters are \[.*'lr'"):
        tune(small_cyclenet(), series, n_trials=1, space=space)
    with pytest.raises(TypeError, match="must return a dict"):
        tune(small_cyclenet(), series, n_trials=1, space=lambda trial: [("lr", 0.1)])


def test_other_bad_arguments(series):
    with pytest.raises(TypeError, match="tune takes a tsrec estimator"):
        tune(object(), series)
    with pytest.raises(TypeError, match=r"tune\(forecaster, y\)"):
        tune(small_cyclenet(), series, None, None)
    with pytest.raises(ValueError, match="random_state must be None or an int"):
        tune(small_cyclenet(), series, random_state="seed")
    with pytest.raises(ValueError, match="timeout"):
        tune(small_cyclenet(), series, timeout=0)
    with pytest.raises(ValueError, match="cannot be passed together with study="):
        tune(small_cyclenet(), series, study=optuna.create_study(), random_state=0)
    with pytest.raises(ValueError, match=r"minimize.*got direction\(s\) \['maximize'\]; create it with "
                                         r"optuna\.create_study\(direction='minimize'\)"):
        tune(small_cyclenet(), series, study=optuna.create_study(direction="maximize"))
    with pytest.raises(TypeError, match=r"maps parameter names to Optuna distributions, got 'lr': 0\.1"):
        tune(small_cyclenet(), series, space={"lr": 0.1})
    with pytest.raises(TypeError, match="space must be a callable space\\(trial\\) -> dict, a dict of Optuna"):
        tune(small_cyclenet(), series, space=[("lr", 0.1)])


# ---- logging and the engine hook --------------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_optuna_info_logging_only_when_verbose(series):
    level = optuna.logging.get_verbosity()
    records = Records()
    logging.getLogger("optuna").addHandler(records)
    try:
        optuna.logging.set_verbosity(logging.INFO)
        tune(small_cyclenet(max_epochs=1), series, n_trials=1)
        assert not any("Trial 0 finished" in m for m in records.messages)
        assert optuna.logging.get_verbosity() == logging.INFO  # restored
        tune(small_cyclenet(max_epochs=1, verbose=True), series, n_trials=1)
        assert any("Trial 0 finished" in m for m in records.messages)
    finally:
        logging.getLogger("optuna").removeHandler(records)
        optuna.logging.set_verbosity(level)


def test_extra_callbacks_reach_every_fit_in_the_block_and_only_there(series):
    class Epochs(Callback):
        def __init__(self) -> None:
            self.count = 0

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            self.count += 1

    outer, inner = Epochs(), Epochs()
    with _engine.extra_callbacks([outer]):
        ARNetForecaster(n_lags=4, max_epochs=2).fit(series)
        with _engine.extra_callbacks([inner]):
            ARNetForecaster(n_lags=4, max_epochs=1).fit(series)
        assert _engine._CONTEXT_CALLBACKS.get() == (outer,)
    ARNetForecaster(n_lags=4, max_epochs=1).fit(series)
    assert (outer.count, inner.count) == (3, 1)
    assert _engine._CONTEXT_CALLBACKS.get() == ()


def test_trials_keep_the_estimators_sktime_config(series):
    est = small_cyclenet(max_epochs=1).set_config(warnings="off")
    result = tune(est, series, n_trials=1)
    assert result.best_estimator.get_config()["warnings"] == "off"


def test_tune_never_makes_optuna_louder_and_shares_the_level_between_threads(series):
    from tsrec.tuning.tune import _optuna_quiet

    level = optuna.logging.get_verbosity()
    try:
        optuna.logging.set_verbosity(logging.ERROR)
        seen = []
        tune(small_cyclenet(max_epochs=1), series, n_trials=1,
             space=lambda trial: seen.append(optuna.logging.get_verbosity()) or {"lr": 0.01})
        assert seen == [logging.ERROR] and optuna.logging.get_verbosity() == logging.ERROR
        optuna.logging.set_verbosity(logging.INFO)
        first, second = _optuna_quiet(), _optuna_quiet()  # two overlapping calls, as from two threads
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert optuna.logging.get_verbosity() == logging.WARNING  # the other call still runs
        second.__exit__(None, None, None)
        assert optuna.logging.get_verbosity() == logging.INFO
    finally:
        optuna.logging.set_verbosity(level)


def test_a_pruned_trial_stops_at_the_pruners_word_even_under_min_epochs():
    """On one process the pruner's word stops the fit at once: a ``min_epochs`` in trainer_kwargs (which makes
    Lightning ignore a should_stop) does not train the pruned trial on, nor report epochs after it."""
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))  # any loss > 0: pruned at once
    est = ARNetForecaster(n_lags=4, max_epochs=3, val_size=0.25, trainer_kwargs={"min_epochs": 3})
    with pytest.raises(RuntimeError, match=r"no trial completed \(\{'PRUNED': 1\}\)"):
        tune(est, make_ar((0.5,), n_samples=120, random_state=0), n_trials=1, space=lambda trial: {"lr": 0.01},
             study=study)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert sorted(trial.intermediate_values) == [0] and trial.user_attrs["epochs"] == 1
