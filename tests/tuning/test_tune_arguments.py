"""tune(): seeding by default, sampler and pruner checked before training, pipelines refused plainly."""

from __future__ import annotations

import importlib
import numpy as np
import optuna
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sktime.forecasting.compose import TransformedTargetForecaster
from sktime.transformations.series.exponent import ExponentTransformer

from tsrec.datasets import make_ar
from tsrec.errors import InputError, TuningSetupError
from tsrec.estimators import ARNetForecaster, PGNClassifier
from tsrec.tuning import tune


@pytest.fixture(scope="module")
def series():
    return make_ar((0.5, -0.3), n_samples=200, random_state=0)


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 4, "max_epochs": 1, "val_size": 0.25, **params})


# ---- random_state ------------------------------------------------------------------------------


def test_random_state_none_is_seed_zero_as_in_the_estimators(series):
    default = [t.params for t in tune(arnet(), series, n_trials=2).study.trials]
    assert [t.params for t in tune(arnet(), series, n_trials=2).study.trials] == default
    assert [t.params for t in tune(arnet(), series, n_trials=2, random_state=0).study.trials] == default


def test_random_state_with_a_sampler_is_refused(series):
    with pytest.raises(ValueError, match=r"seed the sampler.*RandomSampler\(seed=0\)"):
        tune(arnet(), series, n_trials=1, sampler=optuna.samplers.RandomSampler(), random_state=0)
    # a seeded sampler alone is the way to choose one: same searches
    runs = [tune(arnet(), series, n_trials=2, sampler=optuna.samplers.RandomSampler(seed=3)) for _ in range(2)]
    assert [t.params for t in runs[0].study.trials] == [t.params for t in runs[1].study.trials]


@pytest.mark.parametrize("random_state", [-1, 2**32, 1.5, "0", True])
def test_bad_random_state(series, random_state):
    with pytest.raises(ValueError, match="random_state must be None or an int") as raised:
        tune(arnet(), series, n_trials=1, random_state=random_state)
    # tune's seed goes to the sampler, not to torch (each trial's estimator keeps its own)
    assert "tsrec seeds torch" not in str(raised.value)
    if isinstance(random_state, str):
        assert "tsrec seeds Optuna's TPESampler, which needs an integer seed" in str(raised.value)


# ---- sampler, pruner, study --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"pruner": "median"}, r"pruner must be an optuna pruner.*got str.*MedianPruner\(\)"),
        (
            {"pruner": optuna.pruners.MedianPruner},
            r"pruner must be an optuna pruner.*the class MedianPruner.*MedianPruner\(\)",
        ),
        ({"sampler": "tpe"}, r"sampler must be an optuna sampler.*got str.*TPESampler\(seed=0\)"),
        ({"sampler": optuna.samplers.TPESampler}, r"sampler must be an optuna sampler.*the class TPESampler"),
    ],
)
def test_sampler_and_pruner_are_checked_before_any_trial(series, kwargs, message):
    with pytest.raises(TypeError, match=message):
        tune(arnet(max_epochs=50), series, n_trials=1, **kwargs)


def test_study_with_random_state_says_how_to_seed_the_study(series):
    with pytest.raises(ValueError, match=r"create_study\(sampler=optuna\.samplers\.TPESampler\(seed=0\)\)"):
        tune(arnet(), series, n_trials=1, study=optuna.create_study(), random_state=0)


# ---- what tune takes ---------------------------------------------------------------------------


def test_sktime_pipeline_is_refused_with_the_way_to_tune_it(series):
    pipe = TransformedTargetForecaster([("root", ExponentTransformer(power=0.5)), ("arnet", arnet())])
    with pytest.raises(TypeError, match=r"tsrec estimator.*TransformedTargetForecaster.*ForecastingOptunaSearchCV"):
        tune(pipe, series + 10, n_trials=1)


def test_sklearn_pipeline_and_other_estimators_are_refused_plainly():
    pipe = make_pipeline(StandardScaler(), PGNClassifier(val_size=0.3))
    with pytest.raises(TypeError, match=r"tsrec estimator.*Pipeline.*best_params.*GridSearchCV"):
        tune(pipe, [[0.0, 1.0]] * 4, [0, 1, 0, 1], n_trials=1)
    with pytest.raises(TypeError, match=r"tsrec estimator.*LogisticRegression"):
        tune(LogisticRegression(), [[0.0, 1.0]] * 4, [0, 1, 0, 1], n_trials=1)


def test_an_estimator_class_is_refused_with_the_instance_to_pass(series):
    with pytest.raises(TypeError, match=r"tune takes an estimator, not its class: pass ARNetForecaster\(\.\.\.\)"):
        tune(ARNetForecaster, series, n_trials=1)


@pytest.mark.parametrize("limit", [2, 0.5, 1])  # the int 1 is one batch; 1.0 would be all
def test_a_validation_limit_in_batches_is_refused(series, limit):
    # trials of different batch_size would be scored on different windows
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=rf"limit_val_batches={limit}: trials would be scored on different"):
        tune(arnet(trainer_kwargs={"limit_val_batches": limit}), series, n_trials=2, study=study)
    with pytest.raises(TuningSetupError, match="limit_val_batches"):
        tune(arnet(), series, n_trials=2, study=study,
             space=lambda trial: {"trainer_kwargs": {"limit_val_batches": limit}})
    assert len(study.trials) == 1  # the second search stopped at its first trial


@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_data_that_every_trial_would_refuse_is_refused_before_the_search(series, kind):
    study = optuna.create_study()
    if kind == "forecaster":
        bad = series.copy()
        bad.iloc[50] = float("nan")
        with pytest.raises(InputError, match="y contains NaN"):
            tune(arnet(), bad, n_trials=None, timeout=60, study=study)
    else:
        with pytest.raises(InputError, match="y has only one class"):
            tune(PGNClassifier(val_size=0.3, max_epochs=1), [[0.0, 1.0, 2.0]] * 6, [1] * 6, n_trials=None, timeout=60,
                 study=study)
    assert study.trials == []


@pytest.mark.parametrize("data", [(None,), (None, [0, 1])], ids=["forecaster", "classifier"])
def test_no_data_is_tsrecs_input_error_as_in_fit(series, data):
    est = arnet() if len(data) == 1 else PGNClassifier(val_size=0.3)
    with pytest.raises(InputError, match="is None; pass the training data"):
        tune(est, *data)


def test_a_classifier_given_the_labels_first_is_told_fits_order():
    # the series' own refusal advised X.reshape(1, -1): the labels made one series
    X, y = np.random.default_rng(0).normal(size=(8, 1, 6)), np.arange(8) % 2
    with pytest.raises(InputError, match=r"1-D and the second 3-D: the labels seem to come first; .*X, y"):
        tune(PGNClassifier(val_size=0.25, max_epochs=1), y, X, n_trials=1)


def test_a_classifier_without_labels_is_told_to_pass_them():
    X = np.random.default_rng(0).normal(size=(12, 1, 16))
    with pytest.raises(InputError, match=r"^y is None; a classifier needs the class labels: tune\(classifier, X, y\)"):
        tune(PGNClassifier(val_size=0.25), X, None)


class Ordered(Exception):
    """Stops tune right after it has put the data in fit's order."""


def ordered_data(monkeypatch) -> list:
    """The data tuples tune hands to its data check, which raises :class:`Ordered` instead of checking."""
    seen = []

    def record(kind, data):
        seen.append(data)
        raise Ordered

    monkeypatch.setattr(importlib.import_module("tsrec.tuning.tune"), "check_data", record)
    return seen


def test_the_data_may_be_given_by_name_as_fit_names_it(series, monkeypatch):
    seen = ordered_data(monkeypatch)
    X, labels, exog = np.zeros((6, 1, 4)), np.arange(6) % 2, np.ones(200)
    classifier = PGNClassifier(val_size=0.3)
    for est, args, kwargs in [(arnet(), (), {"y": series}), (arnet(), (series,), {"X": exog}),
                              (arnet(), (), {"X": exog, "y": series}), (classifier, (), {"y": labels, "X": X}),
                              (classifier, (X,), {"y": labels}), (arnet(), (series, exog), {})]:
        with pytest.raises(Ordered):  # stopped right after the data is ordered
            tune(est, *args, **kwargs)
    expected = [(series,), (series, exog), (series, exog), (X, labels), (X, labels), (series, exog)]
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected):
        assert len(got) == len(want) and all(g is w for g, w in zip(got, want))


def test_a_forecaster_tuned_with_y_by_name_runs_as_by_position(series):
    by_name = tune(arnet(), y=series, n_trials=2, random_state=0)
    by_position = tune(arnet(), series, n_trials=2, random_state=0)
    assert by_name.best_params == by_position.best_params and by_name.best_value == by_position.best_value


@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_data_given_both_by_position_and_by_name_is_refused(series, kind):
    est, data = (arnet(), (series,)) if kind == "forecaster" else (PGNClassifier(val_size=0.3), (np.zeros((6, 1, 4)),))
    name = "y" if kind == "forecaster" else "X"
    with pytest.raises(ValueError, match=rf"tune got {name} twice, by position and as {name}=; pass it once"):
        tune(est, *data, **{name: data[0]})


def test_a_none_by_position_leaves_the_place_to_the_name(series, monkeypatch):
    # tune(est, None, y=y): the None holds y's place, as fit(None, y) would not refuse a name given later
    seen = ordered_data(monkeypatch)
    X, labels = np.zeros((6, 1, 4)), np.arange(6) % 2
    classifier = PGNClassifier(val_size=0.3)
    for est, args, kwargs in [(arnet(), (None,), {"y": series}), (classifier, (None,), {"X": X, "y": labels}),
                              (classifier, (X, None), {"y": labels})]:
        with pytest.raises(Ordered):
            tune(est, *args, **kwargs)
    expected = [(series,), (X, labels), (X, labels)]
    assert [tuple(map(id, got)) for got in seen] == [tuple(map(id, want)) for want in expected]


def test_the_twice_message_shows_both_ways_of_passing_the_data():
    X, labels = np.zeros((6, 1, 4)), np.arange(6) % 2
    with pytest.raises(ValueError, match=r"in fit's order \(tune\(est, X, y\)\) or by name \(tune\(est, X=X, y=y\)\)"):
        tune(PGNClassifier(val_size=0.3), labels, X=X)
    with pytest.raises(ValueError, match=r"in fit's order \(tune\(est, y, X\)\) or by name \(tune\(est, y=y, X=X\)\)"):
        tune(arnet(), np.ones(50), y=np.ones(50))


def test_a_forecaster_given_only_x_by_name_is_told_y_is_missing():
    with pytest.raises(InputError, match=r"^y is None; pass the training data"):
        tune(arnet(), X=np.ones(20))


def test_a_dict_of_optuna_distributions_is_a_space(series):
    # OptunaSearchCV's param_distributions: each distribution sampled under its name
    space = {"lr": optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True),
             "batch_size": optuna.distributions.IntDistribution(8, 32, step=8),
             "weight_decay": optuna.distributions.CategoricalDistribution([0.0, 1e-4])}
    result = tune(arnet(), series, n_trials=3, space=space, random_state=0)
    for trial in result.study.trials:
        assert trial.distributions == space
        assert 1e-3 <= trial.params["lr"] <= 1e-2 and trial.params["batch_size"] in (8, 16, 24, 32)
    assert set(result.best_params) == set(space)


def test_a_space_that_samples_nothing_is_refused(series):
    # every trial would fit the same estimator: n_trials identical fits
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=r"returned no parameters \(\{\}\): every trial would fit the same"):
        tune(arnet(), series, n_trials=None, timeout=30, space=lambda trial: {}, study=study)
    assert len(study.trials) == 1


@pytest.mark.parametrize("suggest, message", [
    (lambda t: t.suggest_float("lr", 1e-2, 1e-4), r"`low <= high` must hold"),
    (lambda t: t.suggest_float("lr", 0.0, 1e-2, log=True), r"`low > 0` must hold"),
    (lambda t: t.suggest_categorical("batch_size", []), r"one or more elements"),
])
def test_optunas_refusal_of_a_range_names_the_parameter(series, suggest, message):
    name = "batch_size" if "elements" in message else "lr"
    expected = rf"the search space's '{name}': .*{message}.*valid range or choices"
    with pytest.raises(TuningSetupError, match=expected) as e:
        tune(arnet(), series, n_trials=1, space=lambda t: {name: suggest(t)})
    assert ".;" not in str(e.value)  # Optuna's sentence ends in a full stop


def test_a_parameter_the_grid_sampler_lacks_is_named_with_the_grid_fix(series):
    # the advice was "give it a valid range or choices"; the default space searches more than lr too
    grid = optuna.samplers.GridSampler({"lr": [0.01, 0.02]})
    with pytest.raises(TuningSetupError, match=r"samples 'sparsity', which the GridSampler's grid lacks; add it to the "
                                               r"grid \(optuna.samplers.GridSampler\(\{\.\.\., 'sparsity': \[\.\.\.\]\}\)\)"):
        tune(arnet(), series, n_trials=2, sampler=grid)
    result = tune(arnet(), series, n_trials=2, sampler=grid, space=lambda t: {"lr": t.suggest_float("lr", 1e-3, 0.1)})
    assert sorted(t.params["lr"] for t in result.study.trials) == [0.01, 0.02]


@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_data_given_in_full_by_position_and_again_by_name_is_refused(kind):
    if kind == "forecaster":
        est, data, name = ARNetForecaster(n_lags=8, val_size=0.2), (np.sin(np.arange(120) / 4.0), np.ones(120)), "X"
    else:
        est, data, name = PGNClassifier(val_size=0.3), (np.zeros((6, 1, 4)), np.arange(6) % 2), "y"
    with pytest.raises(ValueError, match=rf"tune got {name} twice, by position and as {name}=; pass it once"):
        tune(est, *data, n_trials=1, **{name: data[1]})


def test_fit_params_that_are_not_a_dict_are_refused_before_the_search():
    """fit_params is unpacked into every trial's fit: a list (or a string) is refused once, naming what to pass,
    not left to fail each trial or to a check further on with another message."""
    study = optuna.create_study()
    with pytest.raises(TypeError, match=r"^fit_params must be a dict or None, got list$"):
        tune(ARNetForecaster(n_lags=4, max_epochs=1, val_size=0.25), make_ar((0.5,), n_samples=120, random_state=0),
             n_trials=1, fit_params=[("fh", [1])], study=study)
    assert study.trials == []
