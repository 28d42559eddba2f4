"""tune(): a trial whose fit fails or diverges is a FAIL trial; the search goes on without it."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import optuna
import pytest

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.estimators import _engine
from tsrec.errors import TuningSetupError
from tsrec.tuning import tune
from tsrec.tuning._objective import best_val_loss

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.fixture(scope="module")
def series():
    return make_ar((0.5, -0.3), n_samples=240, random_state=0)


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 4, "max_epochs": 2, "val_size": 0.25, "random_state": 0, **params})


def lr_of(bad: set[int], bad_lr: float):
    """A space whose trials numbered in ``bad`` get ``bad_lr``, the others lr=0.01."""

    def space(trial):
        return {"lr": bad_lr if trial.number in bad else 0.01}

    return space


def test_a_max_time_limit_that_ends_a_fit_unvalidated_fails_the_trial_not_the_search(series):
    # the time a fit gets differs from trial to trial: the next one may validate, so the search goes on
    est = arnet(max_epochs=1, trainer_kwargs={"check_val_every_n_epoch": 2, "max_time": {"hours": 1}})
    with pytest.warns(RuntimeWarning, match="trial 0 failed"), pytest.raises(RuntimeError, match="no trial completed"):
        tune(est, series, n_trials=1, space=lr_of(set(), 0.0), random_state=0)  # every trial lr=0.01


def test_a_failing_fit_marks_its_trial_failed_and_the_search_goes_on(series):
    # lr=-1 is refused by ARNet's fit: a training error of one trial only
    with pytest.warns(RuntimeWarning, match=r"trial 1 failed.*lr"):
        result = tune(arnet(), series, n_trials=3, space=lr_of({1}, -1.0), random_state=0)
    trials = result.study.trials
    assert [t.state for t in trials] == [COMPLETE, FAIL, COMPLETE]
    assert "lr" in trials[1].user_attrs["error"] and "error" not in trials[0].user_attrs
    assert result.best_value == min(trials[0].value, trials[2].value)
    assert result.best_estimator.history_["best_val_loss"] == result.best_value
    assert _engine._CONTEXT_CALLBACKS.get() == ()


def test_no_completed_trial_raises_the_runtime_error_chained_to_the_first_failure(series):
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match=r"no trial completed.*FAIL.*trial 0") as info:
        tune(arnet(), series, n_trials=2, space=lr_of({0, 1}, -1.0))
    assert isinstance(info.value.__cause__, ValueError) and "lr" in str(info.value.__cause__)
    assert "pass your own study= to keep the trials" in str(info.value)
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match="no trial completed") as info:
        tune(arnet(), series, n_trials=1, space=lr_of({0}, -1.0), study=optuna.create_study())
    assert "pass your own study" not in str(info.value)  # it was passed, and keeps them


def test_unknown_parameters_still_stop_the_search_at_once(series):
    study = optuna.create_study()
    with pytest.raises(ValueError, match="does not take"):
        tune(arnet(), series, n_trials=3, space=lambda trial: {"depth": 2}, study=study)
    assert len(study.trials) == 1  # the first trial stopped the search


@pytest.mark.parametrize("param, choices", [("scaling", ["global", "series"]), ("scaling", ["series"]),
                                            ("scaler", ["standard", "robust"]), ("loss", ["mse", "mae"]),
                                            ("huber_delta", [0.1, 1.0])])
def test_a_space_over_scaling_stops_the_search_at_once(series, param, choices):
    # trials of different scalings would be compared by losses in different units
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=rf"returned '{param}', which sets the units of the validation loss"):
        tune(arnet(), series, n_trials=3, study=study,
             space=lambda trial: {param: trial.suggest_categorical(param, choices), "lr": 0.01})
    assert len(study.trials) == 1


def test_a_space_over_horizon_stops_the_search_at_once(series):
    # a loss over 1 step is lower than one over 8 whatever the parameters: the search drifted to the shortest horizon
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=r"returned 'horizon', which sets the forecast steps each validation "
                                               r"window's loss averages over.*ForecastingGridSearchCV"):
        tune(arnet(), series, n_trials=3, study=study,
             space=lambda trial: {"horizon": trial.suggest_int("horizon", 1, 8), "lr": 0.01})
    assert len(study.trials) == 1


def test_a_pruned_trial_is_not_a_failure(series):
    class PruneSecond(optuna.pruners.BasePruner):
        def prune(self, study, trial) -> bool:
            return trial.number == 1

    result = tune(arnet(), series, n_trials=2, space=lr_of(set(), 0.0), pruner=PruneSecond())
    assert [t.state.name for t in result.study.trials] == ["COMPLETE", "PRUNED"]
    assert "error" not in result.study.trials[1].user_attrs


def diverging() -> CycleNetForecaster:
    return CycleNetForecaster(
        lookback=24, horizon=6, cycle_length=12, backbone="mlp", max_epochs=2, val_size=0.25, random_state=0
    )


def test_a_diverged_trial_is_failed_and_never_the_best(series):
    # lr=1e20 drives the weights to NaN; Lightning's checkpoint turns the NaN loss into inf
    with pytest.warns(RuntimeWarning, match=r"trial 1 failed.*not finite"):
        result = tune(diverging(), series, n_trials=2, space=lr_of({1}, 1e20), random_state=0)
    first, second = result.study.trials
    assert (first.state, second.state) == (COMPLETE, FAIL)
    assert "not finite" in second.user_attrs["error"]
    assert result.best_value == first.value and result.best_params == {"lr": 0.01}


def test_every_trial_diverged_is_the_runtime_error(series):
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match=r"no trial completed.*FAIL.*not finite"):
        tune(diverging(), series, n_trials=2, space=lr_of({0, 1}, 1e20), random_state=0)


def test_a_trial_that_validated_nothing_fails_alone_and_says_why(series):
    # a sampled lookback of 200 leaves no validation window in 240 rows; the search goes on
    space = lambda trial: {"n_lags": 200 if trial.number == 1 else 8}  # noqa: E731
    with pytest.warns(RuntimeWarning, match=r"trial 1 failed: val_size=0.25 leaves no validation data \(.*n_lags "
                                            r"\+ horizon = 201 for training\); the search goes on"):
        result = tune(arnet(), series, n_trials=3, space=space, random_state=0)
    assert [t.state for t in result.study.trials] == [COMPLETE, FAIL, COMPLETE]
    assert result.best_params == {"n_lags": 8}
    assert "epochs" not in result.study.trials[1].user_attrs  # failed before it trained


def test_an_empty_validation_split_every_trial_would_repeat_stops_the_search_before_training(series):
    # once every trial trained all max_epochs, then failed for want of a validation loss
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=r"trial 0: val_size=0.25 leaves no validation data .*every trial "
                                               r"would repeat it, as the search space samples no window length "
                                               r"\(lookback, n_lags\): give more data or a val_size that does both$"):
        tune(arnet(n_lags=200, max_epochs=50), series, n_trials=5, study=study, space=lr_of(set(), 0))
    assert len(study.trials) == 1


@pytest.mark.parametrize("params, message", [  # each failed every trial alike, until the timeout with n_trials=None
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1, got 0"),
    ({"val_size": 1.5}, "val_size"),
    ({"sparsity": -1.0}, "sparsity"),
    ({"trainer_kwargs": {"accumulate_grad_batches": 0}}, "accumulate_grad_batches"),
    ({"scaling": "none"}, r"scaling must be one of \('global', 'series'\), got 'none'"),
])
def test_the_estimators_own_mistakes_stop_the_search_before_its_first_trial(series, params, message):
    study = optuna.create_study()
    with pytest.raises(ValueError, match=message):
        tune(arnet(**params), series, n_trials=None, timeout=30, study=study)
    assert study.trials == []


def test_a_forecaster_that_keeps_no_data_stops_the_search_before_its_first_trial(series):
    study = optuna.create_study()
    with pytest.raises(ValueError, match=r"remember_data=False.*set_config\(remember_data=True\)"):
        tune(arnet().set_config(remember_data=False), series, n_trials=None, timeout=30, study=study)
    assert study.trials == []


def test_fit_params_fit_does_not_take_stop_the_search_before_its_first_trial(series):
    with pytest.raises(TypeError, match=r"fit_params \['foo'\] do not fit ARNetForecaster.fit: .*'foo'"):
        tune(arnet(), series, n_trials=None, timeout=30, fit_params={"foo": 1})


@pytest.mark.parametrize("space_param", ["val_size", "random_state"])
def test_a_space_that_changes_the_validation_data_is_refused(series, space_param):
    # trials scored on different validation data: their losses compared nothing
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(20, 16)), np.array([0, 1] * 10)
    values = {"val_size": 0.5, "random_state": 3}
    with pytest.raises(TuningSetupError, match=rf"returned '{space_param}', which changes the validation data"):
        tune(PGNClassifier(max_epochs=1, hidden=4, val_size=0.25), X, y, n_trials=2,
             space=lambda t: {space_param: values[space_param]})
    if space_param == "val_size":
        with pytest.raises(TuningSetupError, match="which changes the validation data"):
            tune(arnet(), series, n_trials=2, space=lambda t: {"val_size": 0.5})


def test_an_empty_validation_split_of_a_classifier_names_no_window_length():
    # the message named lookback, n_lags and horizon, which classifiers do not have
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(20, 8)), np.array(["p", "q"] * 10)
    with pytest.raises(TuningSetupError, match=r"trial 0: val_size=0.05 leaves no validation data .*every trial would "
                                               r"repeat it, as a classifier's split depends on none of the sampled "
                                               r"parameters: give more data or a larger val_size \(at least one "
                                               r"sample of each of the 2 classes: val_size=2\)$") as err:
        tune(PGNClassifier(hidden=4, max_epochs=1, val_size=0.05), X, y, n_trials=2, random_state=0)
    assert "lookback" not in str(err.value)


@pytest.mark.parametrize("val_size", [0.95, 28, 0.93])  # 0.93 * 30 = 27.9 holds out 28, as the classifier rounds
def test_a_classifier_val_size_too_large_is_told_to_be_smaller(val_size):
    # the message said "a larger val_size" whatever side of the split was short
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(30, 8)), np.arange(30) % 3
    with pytest.raises(TuningSetupError, match=r"give more data or a smaller val_size \(it leaves 2 of the 30 samples "
                                               r"for training, fewer than the 3 classes: e.g. val_size=3\)$"):
        tune(PGNClassifier(hidden=4, max_epochs=1, val_size=val_size), X, y, n_trials=2, random_state=0)


@pytest.mark.parametrize(("val_size", "left"), [(30, "0 of the 30 samples for training"),
                                                (45, "0 of the 30 samples for training as it holds out 45")])
def test_a_classifier_val_size_of_all_samples_or_more_leaves_none_not_fewer(val_size, left):
    # a count above the samples left "it leaves -15 of the 30 samples for training"
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(30, 8)), np.arange(30) % 3
    with pytest.raises(TuningSetupError, match=rf"give more data or a smaller val_size \(it leaves {left}, fewer than "
                                               r"the 3 classes: e.g. val_size=3\)$"):
        tune(PGNClassifier(hidden=4, max_epochs=1, val_size=val_size), X, y, n_trials=2, random_state=0)


def test_a_class_of_one_sample_is_told_more_data_not_a_larger_val_size():
    # "a larger val_size" cannot help: a stratified split needs a sample of the class on each side
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(20, 8)), np.array(["p"] * 10 + ["q"] * 9 + ["r"])
    with pytest.raises(TuningSetupError, match=r"give each class at least two samples \(class 'r' has one\), one for "
                                               r"each side of the split; no val_size can split a class of one$"):
        tune(PGNClassifier(hidden=4, max_epochs=1, val_size=0.5), X, y, n_trials=2, random_state=0)


def test_a_step_limit_that_stops_before_validation_is_named(series):
    est = arnet(trainer_kwargs={"check_val_every_n_epoch": 3})  # two epochs: no validation runs

    def epochs(trial):  # a space over max_epochs: a later trial may validate, so this one fails alone
        return {"max_epochs": trial.suggest_int("max_epochs", 1, 2)}

    with pytest.warns(RuntimeWarning) as record, pytest.raises(RuntimeError, match="no trial completed") as info:
        tune(est, series, n_trials=1, space=epochs)
    assert "trainer_kwargs ['check_val_every_n_epoch'] ended it before any validation" in str(info.value)
    # the failed trial names the limit; the fit's own warning of it would say it twice
    assert not [w for w in record if "the fit ended after" in str(w.message)]


def test_a_step_limit_every_trial_would_hit_stops_the_search_at_its_first_trial(series):
    # a space over lr only: each trial would train the same two epochs without validating, until the timeout
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=(
            r"trial 0: .*trainer_kwargs \['check_val_every_n_epoch'\] ended it before any validation.*every trial "
            r"would repeat it, as the search space samples none of \['batch_size', 'max_epochs', 'n_lags', "
            r"'trainer_kwargs'\]$")):  # not horizon, which a space may not sample, nor lookback, which AR-Net lacks
        tune(arnet(trainer_kwargs={"check_val_every_n_epoch": 3}), series, n_trials=None, timeout=30,
             space=lr_of(set(), 0.01), study=study)
    assert len(study.trials) == 1


def test_a_step_limit_every_classifier_trial_would_hit_names_no_window_length():
    # the message offered lookback and n_lags to sample, which classifiers do not have
    import numpy as np

    from tsrec.estimators import PGNClassifier

    X, y = np.random.default_rng(0).normal(size=(20, 8)), np.array(["p", "q"] * 10)
    est = PGNClassifier(hidden=4, max_epochs=2, batch_size=4, val_size=0.25, trainer_kwargs={"max_steps": 1})
    with pytest.raises(TuningSetupError, match=r"trial 0: .*trainer_kwargs \['max_steps'\] ended it before any "
                                               r"validation.*samples none of \['batch_size', 'max_epochs', "
                                               r"'trainer_kwargs'\]$"):
        tune(est, X, y, n_trials=2, space=lr_of(set(), 0.01))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_optuna_logs_nothing_of_the_nan_that_fails_a_trial_the_warning_says_why(series):
    # Optuna logged "because of the following error: The value nan is not acceptable" and
    # "failed with value nan" for a trial tsrec failed: two lines that named no cause
    records = Records()
    optuna_logger = logging.getLogger("optuna")
    optuna_logger.addHandler(records)
    try:
        with pytest.warns(RuntimeWarning, match=r"trial 1 failed.*lr"):
            tune(arnet(), series, n_trials=3, space=lr_of({1}, -1.0), random_state=0)

        # a trial whose objective raises stops the search with that error: Optuna's log of it, with
        # its traceback, printed it twice
        def raising(trial):
            raise ValueError("a broken space")

        with pytest.raises(ValueError, match="a broken space"):
            tune(arnet(), series, n_trials=1, space=raising, random_state=0)

        def interrupted(trial):  # Ctrl+C: no Exception, and Optuna logged it and its traceback too
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            tune(arnet(), series, n_trials=1, space=interrupted, random_state=0)
    finally:
        optuna_logger.removeHandler(records)
    assert not any("nan" in message for message in records.messages), records.messages
    assert not any("a broken space" in message for message in records.messages), records.messages
    assert not any("KeyboardInterrupt" in message for message in records.messages), records.messages
    assert not logging.getLogger("optuna.study._optimize").filters  # the filter is gone after tune


def test_the_log_filter_drops_only_this_threads_failures():
    # trial numbers start at 0 in every study: another thread's study keeps its lines
    import threading

    from tsrec.tuning._objective import Objective

    objective = Objective(arnet(), (None,), lambda trial: {}, {})
    objective.failed.add(0)
    records, logger = Records(), logging.getLogger("optuna.study._optimize")
    logger.addHandler(records)
    try:
        with objective.own_failures_unlogged():
            logger.warning("Trial 0 failed with value nan.")
            other = threading.Thread(target=logger.warning, args=("Trial 0 failed with value None.",))
            other.start()
            other.join()
            logger.warning("Trial 1 failed with value nan.")
    finally:
        logger.removeHandler(records)
    assert records.messages == ["Trial 0 failed with value None.", "Trial 1 failed with value nan."]


def test_a_space_over_ls4s_instance_norm_stops_the_search_at_once(series):
    # LS4's ELBO of windows standardised by their own lookback is in other units than without
    from tsrec.estimators import LS4Forecaster

    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=r"returned 'instance_norm', which sets the units of the validation"):
        tune(LS4Forecaster(lookback=8, horizon=2, d_model=4, d_state=4, n_layers=1, max_epochs=1, val_size=0.25),
             series, n_trials=3, study=study,
             space=lambda trial: {"instance_norm": trial.suggest_categorical("instance_norm", [False, True])})
    assert len(study.trials) == 1


def test_each_trials_fit_is_collected_after_the_trial(series, monkeypatch):
    import gc
    import weakref

    modules = []
    original = _engine.TrainingModule.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        modules.append(weakref.ref(self))

    monkeypatch.setattr(_engine.TrainingModule, "__init__", remember)

    class PruneAll(optuna.pruners.BasePruner):
        def prune(self, study, trial) -> bool:
            return trial.number > 0

    gc.disable()  # only tune's own collection may free the trials' Trainer <-> module cycles
    try:
        result = tune(arnet(), series, n_trials=3, pruner=PruneAll(), random_state=0)
        alive = [ref() for ref in modules if ref() is not None]
    finally:
        gc.enable()
    assert [t.state.name for t in result.study.trials] == ["COMPLETE", "PRUNED", "PRUNED"]
    # the best estimator's network stays (its estimator does); the pruned trials' modules are gone
    assert len(alive) <= 1


def test_a_perfect_validation_loss_of_zero_is_a_score_not_a_fit_that_validated_nothing():
    """A fit that validates a loss of exactly 0.0 (a perfect fit) scores 0.0: only a missing loss fails the trial."""
    assert best_val_loss(SimpleNamespace(history_={"best_val_loss": 0.0})) == 0.0
    assert best_val_loss(SimpleNamespace(history_={"best_val_loss": None})) is None
