"""Search spaces and tune's argument checks in detail: each default space samples the ranges its
docstring lists, the shared space's fallback (keyword-only constructors too), and refusals whose
message or bound a mutation round found unpinned."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from tsrec.datasets import make_ar
from tsrec.errors import InputError, ParameterError
from tsrec.estimators import ARNetForecaster, PGNClassifier, SpaceTimeForecaster
from tsrec.tuning import search_space, tune
from tsrec.tuning.spaces import distributions_space, shared_space, space_for

F, I, C = optuna.distributions.FloatDistribution, optuna.distributions.IntDistribution, \
    optuna.distributions.CategoricalDistribution
LR = F(1e-4, 1e-2, log=True)

# search_space's docstring, model by model: what each default space samples
DOCUMENTED_SPACES = {
    "CycleNetForecaster": {"backbone": C(["linear", "mlp"]), "lr": F(1e-4, 5e-2, log=True),
                           "batch_size": C([32, 64, 128, 256])},
    "ARNetForecaster": {"sparsity": F(0.05, 1.0), "lr": F(1e-4, 5e-2, log=True)},
    "PGNForecaster": {"hidden": C([2, 4, 8, 16, 32, 64, 128, 256]), "norm": C([True, False]), "lr": LR},
    "PGNClassifier": {"hidden": C([16, 32, 64, 128]), "n_layers": I(1, 3), "dropout": F(0.0, 0.5), "lr": LR},
    "LTCForecaster": {"units": C([8, 16, 32, 64]), "cell": C(["ltc", "cfc"]), "lr": F(1e-3, 2e-2, log=True)},
    "LTCClassifier": {"units": C([8, 16, 32, 64]), "cell": C(["ltc", "cfc"]), "lr": F(1e-3, 2e-2, log=True),
                      "pool": C(["mean", "last"])},
    "SpaceTimeForecaster": {"width": C([64, 128]), "kernel_dim": C([16, 32, 64]), "dropout": F(0.0, 0.5), "lr": LR},
    "SpaceTimeClassifier": {"width": C([64, 128]), "kernel_dim": C([16, 32, 64]), "dropout": F(0.0, 0.5), "lr": LR},
    "SMambaForecaster": {"lr": F(1e-5, 2e-3, log=True), "d_model": C([128, 256, 512]), "d_state": C([2, 16, 32]),
                         "e_layers": I(2, 4), "batch_size": C([16, 32])},
    "SMambaClassifier": {"lr": F(1e-5, 2e-3, log=True), "d_model": C([128, 256, 512]), "d_state": C([2, 16, 32]),
                         "e_layers": I(2, 4), "batch_size": C([16, 32])},
    "ChimeraForecaster": {"d_model": C([8, 16, 32]), "d_state": C([4, 8, 16]), "e_layers": I(1, 2), "lr": LR,
                          "decoder": C(["linear", "closed_loop"])},
    "ChimeraClassifier": {"d_model": C([8, 16, 32]), "d_state": C([4, 8, 16]), "e_layers": I(1, 2), "lr": LR},
    "LS4Forecaster": {"z_dim": I(2, 16, log=True), "d_model": C([16, 32, 64]), "n_layers": I(1, 4),
                      "sigma": F(0.05, 0.5, log=True), "lr": LR},
    "LS4Classifier": {"d_model": C([16, 32, 64]), "n_layers": I(1, 4), "dropout": F(0.0, 0.3), "lr": LR},
}
SHARED = {"lr": LR, "weight_decay": F(1e-8, 1e-3, log=True), "batch_size": C([16, 32, 64, 128])}


def sampled_distributions(estimator_or_name) -> dict:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    search_space(estimator_or_name, trial)
    return trial.distributions


@pytest.mark.parametrize("name", sorted(DOCUMENTED_SPACES))
def test_each_models_space_samples_the_ranges_its_docstring_lists(name):
    assert sampled_distributions(name) == DOCUMENTED_SPACES[name]


@pytest.mark.parametrize("name", ["SMambaForecaster", "SMambaClassifier"])
@pytest.mark.parametrize("d_model", [128, 256, 512])
def test_smamba_space_sets_d_ff_to_each_sampled_d_model(name, d_model):
    # a fresh study's ask() drew d_model at random, so an unseeded check passed a fixed d_ff one time in three
    trial = optuna.trial.FixedTrial({"lr": 1e-4, "d_model": d_model, "d_state": 16, "e_layers": 2, "batch_size": 32})
    assert search_space(name, trial)["d_ff"] == d_model


def test_the_shared_space_samples_the_ranges_its_docstring_lists():
    # the fallback of every registered estimator without a space of its own (the docstring's last paragraph)
    class Unregistered:
        def __init__(self, lr=1e-3, weight_decay=0.0, batch_size=32):
            self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size

    assert sampled_distributions(Unregistered) == SHARED


def test_keyword_only_training_parameters_get_the_shared_space():
    # scikit-learn's style (`def __init__(self, *, ...)`): the class takes lr, weight_decay and batch_size all the same
    class KeywordOnly:
        def __init__(self, *, lr=1e-3, weight_decay=0.0, batch_size=32):
            self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size

    assert space_for(KeywordOnly) is shared_space


def test_a_bad_n_kernels_leaves_the_refusal_to_fit_and_searches_the_default_widths():
    # the space is built before any fit: fit's own message says what is wrong with n_kernels=0
    assert sampled_distributions(SpaceTimeForecaster(n_kernels=0))["width"].choices == (64, 128)


def test_an_object_with_only_some_of_the_suggest_methods_is_no_trial():
    class OnlyFloats:  # enough for AR-Net's space, but not a trial of any kind
        def suggest_float(self, name, low, high, **kwargs):
            return low

    with pytest.raises(TypeError, match=r"^trial must be an Optuna trial, got OnlyFloats"):
        search_space("ARNetForecaster", OnlyFloats())


def test_a_float_distribution_for_an_optional_whole_number_is_refused():
    # patience is annotated `int | None`: every trial's fit refused 2.7 epochs
    with pytest.raises(TypeError, match=r"'patience' is a FloatDistribution, but ARNetForecaster's patience takes "
                                        r"whole numbers; use optuna.distributions.IntDistribution\(2, 5\)"):
        distributions_space({"patience": F(2, 5)}, ARNetForecaster())


@pytest.mark.parametrize("name", ["lr", "sparsity"])  # annotated float, and float | None
def test_whole_numbers_for_a_float_parameter_are_refused(name):
    # Optuna reads IntDistribution(1e-4, 1e-2) as 0..0: every trial trained with lr=0
    with pytest.raises(TypeError, match=rf"'{name}' is an IntDistribution\(0, 0\), which samples whole numbers only "
                                        rf".*ARNetForecaster's {name} takes any float; use "
                                        r"optuna\.distributions\.FloatDistribution\(low, high\)"):
        distributions_space({name: optuna.distributions.IntDistribution(1e-4, 1e-2)}, ARNetForecaster())
    space = distributions_space({name: F(0.0, 1.0, step=1.0)}, ARNetForecaster())  # whole numbers as floats
    assert space(optuna.trial.FixedTrial({name: 1.0})) == {name: 1.0}


def test_a_distribution_for_a_name_the_estimator_lacks_is_left_to_the_first_trials_check():
    # the first trial's check lists the valid names; building the space does not fail on it
    space = distributions_space({"no_such_param": F(0.0, 1.0)}, ARNetForecaster())
    assert set(space(optuna.trial.FixedTrial({"no_such_param": 0.5}))) == {"no_such_param"}


# ---- tune's argument checks (tsrec/tuning/_checks.py) --------------------------------------------

@pytest.fixture(scope="module")
def series():
    return make_ar((0.5, -0.3), n_samples=200, random_state=0)


def arnet(**params):
    return ARNetForecaster(**{"n_lags": 4, "max_epochs": 1, "val_size": 0.25, **params})


def test_a_timeout_of_true_is_refused_as_no_number_of_seconds(series):
    with pytest.raises(ValueError, match=r"^timeout must be None or a number of seconds > 0, got True"):
        tune(arnet(), series, n_trials=1, timeout=True)


def test_labels_passed_before_a_2d_panel_are_named_as_swapped():
    X = np.random.default_rng(0).normal(size=(12, 16))  # 12 series of 16 steps, as a 2-D array
    with pytest.raises(InputError, match=r"1-D and the second 2-D: the labels seem to come first"):
        tune(PGNClassifier(val_size=0.25, max_epochs=1), np.arange(12) % 2, X, n_trials=1)


def test_a_val_size_of_false_is_refused_as_no_fraction_not_as_an_empty_split(series):
    # False is no size (as True is no count): the estimator's own rule is the message, not "set val_size"
    with pytest.raises(ValueError, match=r"^val_size must be a fraction in \[0, 1\) or a row count >= 0, got False"):
        tune(arnet(val_size=False), series, n_trials=1)


def test_limit_val_batches_none_is_lightnings_default_of_every_batch_and_is_searched(series):
    # Lightning reads limit_val_batches=None as 1.0 (all of the validation data); it was refused as "counts batches"
    est = arnet(trainer_kwargs={"limit_val_batches": None})
    assert tune(est, series, n_trials=1, random_state=0).study.trials[0].state.name == "COMPLETE"


def test_whole_numbers_for_a_float_parameter_name_the_distributions_bounds():
    # the test beside it passes IntDistribution(1e-4, 1e-2), read as 0..0, whose bounds are alike
    # and the example fix used bounds of its own: "(Optuna rounds 1e-4..1e-2 down to 0..0)", FloatDistribution(low, high)
    with pytest.raises(TypeError, match=r"'lr' is an IntDistribution\(1, 10\), which samples whole numbers only, but "
                                        r"ARNetForecaster's lr takes any float; use "
                                        r"optuna\.distributions\.FloatDistribution\(1, 10\) \(log=True for a rate\)"):
        distributions_space({"lr": optuna.distributions.IntDistribution(1, 10)}, ARNetForecaster())


@pytest.mark.parametrize("name, choices, match", [
    # bool is an int to isinstance: True is not a batch size, nor patience epochs (each trial's fit refuses it)
    ("batch_size", [True, 16], r"'batch_size' offers \[True\], but ARNetForecaster's batch_size takes whole "
                               r"numbers: .*; offer ints only$"),
    ("patience", [None, 3, False], r"'patience' offers \[False\], but ARNetForecaster's patience takes whole numbers "
                                   r"or None: .*; offer ints or None only$"),
    # None is no name: scaler is annotated str, not str | None
    ("scaler", [None, "standard"], r"'scaler' offers \[None\], but ARNetForecaster's scaler takes a name: .*; offer "
                                   r"names \(str\) only$"),
    # ints advised only where every wrong choice is a whole float: 2.5 has no int to give
    ("batch_size", [16.0, 2.5], r"'batch_size' offers \[16\.0, 2\.5\], .*; offer ints only$"),
    # whole floats for an optional whole number: None kept in the advice
    ("patience", [None, 2.0], r"'patience' offers \[2\.0\], .*; give them as ints, e\.g\. \[None, 2\]$"),
    # the advice lists every choice, the right ones kept as they are
    ("batch_size", [16, 32.0], r"'batch_size' offers \[32\.0\], .*; give them as ints, e\.g\. \[16, 32\]$"),
])
def test_categorical_choices_of_another_kind_are_refused_with_the_fix(name, choices, match):
    from tsrec.errors import ParameterError

    with pytest.raises(ParameterError, match=match):
        distributions_space({name: C(choices)}, ARNetForecaster())


def test_numpy_choices_the_parameter_takes_are_searched():
    # the estimators take NumPy's ints and bools (ARNetForecaster(batch_size=np.int64(16)) fits): the
    # categorical check first refused CategoricalDistribution(np.arange(16, 65, 16)) as "not whole numbers"
    space = distributions_space({"batch_size": C(np.arange(16, 65, 16)), "verbose": C(np.array([False, True]))},
                                ARNetForecaster())
    assert space(optuna.trial.FixedTrial({"batch_size": np.int64(32), "verbose": np.False_})) == {
        "batch_size": 32, "verbose": False}


def test_whole_number_choices_of_zero_or_below_are_not_refused_as_another_kind():
    """The kind check asks only whether a choice is a whole number; its range is the estimator's to check:
    random_state=0 (the estimators' own default seed) is a valid choice and must stay searchable."""
    C = optuna.distributions.CategoricalDistribution
    space = distributions_space({"random_state": C([0, 1, 2])}, ARNetForecaster())
    assert space(optuna.trial.FixedTrial({"random_state": 0})) == {"random_state": 0}


def test_a_number_distribution_for_a_name_is_named_with_its_article():
    """The refusal names the distribution given, in a sentence a user reads: "an IntDistribution"."""
    with pytest.raises(ParameterError, match=r"^the search space's 'scaler' is an IntDistribution, but "
                                             r"ARNetForecaster's scaler takes a name, no number"):
        distributions_space({"scaler": optuna.distributions.IntDistribution(0, 2)}, ARNetForecaster())
