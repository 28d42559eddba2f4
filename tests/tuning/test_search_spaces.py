"""Default search spaces: valid for the estimator they are asked for, and reaching the papers' settings."""

from __future__ import annotations

import optuna
import pytest

from tsrec.estimators import (
    ARNetForecaster, PGNForecaster, SMambaClassifier, SMambaForecaster, SpaceTimeClassifier, SpaceTimeForecaster,
)
from tsrec.tuning import search_space
from tsrec.tuning.spaces import space_for


def distributions(estimator_or_name, seed: int = 0) -> dict:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)).ask()
    search_space(estimator_or_name, trial)
    return trial.distributions


@pytest.mark.parametrize("cls", [SpaceTimeForecaster, SpaceTimeClassifier])
@pytest.mark.parametrize("n_kernels", [1, 16, 32, 48, 64, 128, 256])
def test_spacetime_width_is_a_multiple_of_the_estimators_n_kernels(cls, n_kernels):
    estimator = cls(n_kernels=n_kernels)
    widths = distributions(estimator)["width"].choices
    assert widths and all(width % n_kernels == 0 and width >= n_kernels for width in widths)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(4):
        params = search_space(estimator, study.ask())
        assert params["width"] % n_kernels == 0


def test_spacetime_space_of_the_class_uses_the_default_n_kernels():
    assert distributions(SpaceTimeForecaster)["width"].choices == (64, 128)
    assert distributions("SpaceTimeClassifier")["width"].choices == (64, 128)
    assert distributions(SpaceTimeForecaster(n_kernels=128))["width"].choices == (128,)
    # the space is bound to the instance's n_kernels, and replays through a FixedTrial
    space = space_for(SpaceTimeForecaster(n_kernels=64))
    assert space(optuna.trial.FixedTrial({"width": 64, "kernel_dim": 16, "dropout": 0.0, "lr": 1e-3}))["width"] == 64


@pytest.mark.parametrize("cls", [SMambaForecaster, SMambaClassifier])
def test_smamba_space_reaches_the_papers_settings(cls):
    dist = distributions(cls)
    lr = dist["lr"]
    assert lr.log and lr.low <= 3e-5 and lr.high >= 2e-3  # scripts: 3e-5 .. 2e-3
    assert lr.low < cls().lr < lr.high and lr.low < 1e-4 < lr.high  # the default is inside, not on the edge
    assert {128, 256, 512} <= set(dist["d_model"].choices)
    assert {2, 16, 32} <= set(dist["d_state"].choices)
    assert (dist["e_layers"].low, dist["e_layers"].high) == (2, 4)
    assert {16, 32} <= set(dist["batch_size"].choices)
    assert "weight_decay" not in dist  # the paper trains Adam without weight decay
    params = search_space(cls, optuna.create_study().ask())
    assert params["d_ff"] == params["d_model"]  # the scripts set d_ff = d_model
    assert set(params) <= set(cls().get_params())


def test_pgn_forecaster_hidden_reaches_table_b():
    assert {2, 4, 8, 32, 128, 256} <= set(distributions(PGNForecaster)["hidden"].choices)


@pytest.mark.parametrize("trial", [None, {"lr": 0.01}, "trial"])
def test_a_trial_that_is_not_an_optuna_trial_is_refused_with_what_to_pass(trial):
    # None failed inside the space: "'NoneType' object has no attribute 'suggest_categorical'"
    with pytest.raises(TypeError, match=rf"^trial must be an Optuna trial, got {type(trial).__name__}; pass the "
                                        r"trial your objective is given \(or study.ask\(\)\), or "
                                        r"optuna.trial.FixedTrial\(\{...\}\) to replay chosen values"):
        search_space("CycleNetForecaster", trial)


def test_an_estimator_and_trial_swapped_are_named_in_the_refusal():
    with pytest.raises(TypeError, match=r"got str; .*takes the estimator first: search_space\(estimator, trial\)$"):
        search_space(optuna.trial.FixedTrial({"lr": 0.01}), "ARNetForecaster")


@pytest.mark.parametrize("what", [3, None, [1]])
def test_what_is_no_estimator_class_or_name_is_a_type_error(what):
    # it was a ValueError: "there is no search space for int: it is not a registered tsrec estimator ..."
    with pytest.raises(TypeError, match=rf"estimator_or_name must be a tsrec estimator, its class or its name .*"
                                        rf"got {type(what).__name__}"):
        search_space(what, optuna.trial.FixedTrial({"lr": 0.01}))


def test_a_trial_like_wrapper_with_the_suggest_methods_is_accepted():
    class Wrapper:  # as optuna-integration's distributed trial: no BaseTrial, the same methods
        def __init__(self, trial):
            self.suggest_categorical, self.suggest_float, self.suggest_int = (
                trial.suggest_categorical, trial.suggest_float, trial.suggest_int)

    fixed = optuna.trial.FixedTrial({"sparsity": 0.3, "lr": 0.01})
    assert search_space("ARNetForecaster", Wrapper(fixed)) == {"sparsity": 0.3, "lr": 0.01}


def _covers(dist, low: float, high: float) -> bool:
    return dist.low <= low and dist.high >= high


# what each model's space must keep reaching (reference notes: the papers' configs and scripts)
REFERENCE_SETTINGS = {
    "CycleNetForecaster": lambda d: {"linear", "mlp"} <= set(d["backbone"].choices)  # both backbones of Table 2
    and _covers(d["lr"], 5e-4, 1e-2) and {64, 256} <= set(d["batch_size"].choices),
    "LTCForecaster": lambda d: _covers(d["lr"], 1e-2, 2e-2) and {"ltc", "cfc"} <= set(d["cell"].choices),
    "LTCClassifier": lambda d: _covers(d["lr"], 1e-2, 2e-2) and {"mean", "last"} <= set(d["pool"].choices),
    "LS4Forecaster": lambda d: _covers(d["sigma"], 0.05, 0.5) and _covers(d["z_dim"], 5, 10),  # the configs' sigma, z
    "PGNForecaster": lambda d: {True, False} <= set(d["norm"].choices),  # the norm / no-norm rows of the paper
    "ChimeraForecaster": lambda d: {"linear", "closed_loop"} <= set(d["decoder"].choices),
    "ARNetForecaster": lambda d: _covers(d["sparsity"], 0.05, 1.0),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_SETTINGS))
def test_each_models_space_keeps_reaching_its_reference_settings(name):
    dist = distributions(name)
    assert dist["lr"].log  # every learning rate is searched on a log scale
    assert REFERENCE_SETTINGS[name](dist), f"{name}'s space: {dist}"


def test_an_estimator_instance_and_trial_swapped_are_named_in_the_refusal():
    """An estimator instance in the trial's place (the arguments swapped) gets the same hint as a name or a class."""
    with pytest.raises(TypeError, match=r"got ARNetForecaster; .*takes the estimator first: "
                                        r"search_space\(estimator, trial\)$"):
        search_space(optuna.trial.FixedTrial({"lr": 0.01}), ARNetForecaster())
