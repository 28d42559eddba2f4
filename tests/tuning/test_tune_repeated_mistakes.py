"""tune(): trials scored on fewer series of a panel fail, and mistakes every trial would repeat stop the search."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pandas as pd
import pytest

from tsrec.datasets import make_ar
from tsrec.errors import InputError, InSampleError, PartialValidationWarning, TuningSetupError
from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.tuning import tune

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.fixture(scope="module")
def series():
    return make_ar((0.5, -0.3), n_samples=120, random_state=0)


@pytest.fixture(scope="module")
def panel():
    """A long series and a short one: n_lags=2 validates both, n_lags=48 only the long one."""
    def frame(name, values):
        stamps = pd.date_range("2020", periods=len(values), freq="D")
        return pd.DataFrame({"y": values}, index=pd.MultiIndex.from_product([[name], stamps]))

    rng = np.random.default_rng(0)
    long = make_ar((0.5,), n_samples=200, random_state=0).to_numpy()
    return pd.concat([frame("long", long), frame("short", rng.normal(size=60))])


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 2, "horizon": 1, "max_epochs": 1, "val_size": 0.25, "random_state": 0,
                              **params})


# ---- trials that validate only some series of a panel -------------------------------------------


def test_a_trial_whose_window_leaves_a_series_unvalidated_fails_and_the_search_goes_on(panel):
    # its loss covered the long series only, and once won against trials that validate both
    space = lambda trial: {"n_lags": 48 if trial.number == 1 else 2}  # noqa: E731
    with pytest.warns(RuntimeWarning, match=r"trial 1 failed: 1 of 2 series \('short'\) have no validation windows"):
        result = tune(arnet(), panel, n_trials=3, space=space, random_state=0)
    trials = result.study.trials
    assert [t.state for t in trials] == [COMPLETE, FAIL, COMPLETE]
    assert "cannot be ranked against trials that validate every series" in trials[1].user_attrs["error"]
    assert result.best_params == {"n_lags": 2}


def test_no_trial_that_validates_every_series_names_the_cause_and_the_fix(panel):
    with pytest.warns(RuntimeWarning), pytest.raises(RuntimeError, match=(
        r"no trial completed.*trial 0: 1 of 2 series \('short'\) have no validation windows.*give longer series, "
        r"sample smaller window lengths \(lookback, n_lags\), or tune each series separately"
    )) as info:
        tune(arnet(), panel, n_trials=2, space=lambda trial: {"n_lags": trial.suggest_categorical("n_lags", [48, 50])})
    assert isinstance(info.value.__cause__, PartialValidationWarning)


def test_a_space_without_window_lengths_only_warns_as_a_plain_fit_does(panel):
    # every trial validates the same series then, so their losses still compare
    with pytest.warns(PartialValidationWarning, match=r"1 of 2 series \('short'\) have no validation windows"):
        result = tune(arnet(n_lags=48), panel, n_trials=2, space=lambda trial: {"lr": 0.01 * (trial.number + 1)})
    assert [t.state for t in result.study.trials] == [COMPLETE, COMPLETE]
    with pytest.warns(PartialValidationWarning):
        arnet(n_lags=48).fit(panel)


def test_a_warning_every_trial_gives_is_issued_once_per_search(panel):
    # each trial's fit starts with fresh filters (catch_warnings), so "default" showed it once a trial
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        tune(arnet(n_lags=48), panel, n_trials=3, space=lambda trial: {"lr": 0.01 * (trial.number + 1)})
    partial = [w for w in caught if issubclass(w.category, PartialValidationWarning)]
    assert len(partial) == 1 and "1 of 2 series ('short') have no validation windows" in str(partial[0].message)


# ---- mistakes every trial would repeat ----------------------------------------------------------


@pytest.mark.parametrize("fh, error, message", [
    ([0], InSampleError, r"fit_params\['fh'\]: fh must name future steps 1, 2, \.\.\. .*got \[0\]"),
    ([-1, 1], InSampleError, r"fit_params\['fh'\]: .*in-sample forecasts are not supported"),
    ("x", TypeError, r"fit_params\['fh'\] is not a forecasting horizon: .*fit_params=\{'fh': \[1, 2, 3\]\}"),
])
def test_a_fit_fh_every_trial_would_refuse_is_refused_before_the_search(series, fh, error, message):
    study = optuna.create_study()
    with pytest.raises(error, match=message):
        tune(arnet(), series, n_trials=2, study=study, fit_params={"fh": fh})
    assert study.trials == []
    if fh == [0]:  # a good one still tunes
        assert tune(arnet(), series, n_trials=1, fit_params={"fh": [1, 2]}).best_estimator.predict().shape == (2,)


def test_series_shorter_than_the_default_spaces_fixed_window_are_refused_before_the_search(series):
    study = optuna.create_study()
    with pytest.raises(InputError, match=r"y has 5 rows but needs at least n_lags \+ horizon = 6; give a longer"):
        tune(arnet(n_lags=5), series[:5], n_trials=2, study=study)
    assert study.trials == []


def test_series_shorter_than_a_fixed_window_stop_the_search_at_its_first_trial(series):
    study = optuna.create_study()
    with pytest.raises(TuningSetupError, match=r"trial 0: y has 5 rows but needs at least n_lags \+ horizon = 6.*"
                                               r"every trial would repeat it, as the search space samples no window"):
        tune(arnet(n_lags=5), series[:5], n_trials=3, study=study, space=lambda trial: {"lr": 0.01})
    assert len(study.trials) == 1
    # a space that samples the window is left to fail or pass trial by trial
    space = lambda trial: {"n_lags": 2 if trial.number else 5}  # noqa: E731
    with pytest.warns(RuntimeWarning, match=r"trial 0 failed: .*y has 5 rows"):
        result = tune(arnet(val_size=0.4), series[:5], n_trials=2, space=space)
    assert [t.state for t in result.study.trials] == [FAIL, COMPLETE]


# ---- a study continued with other choices -------------------------------------------------------


def test_a_study_continued_with_other_categorical_choices_says_which_and_what_to_do(series):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    tune(arnet(), series, n_trials=1, study=study,
         space=lambda trial: {"batch_size": trial.suggest_categorical("batch_size", [16, 32])})
    with pytest.raises(TuningSetupError, match=(
        r"samples 'batch_size' as choices \[32, 64\], but earlier trials of this study sampled it as choices "
        r"\[16, 32\].*pass a new study \(or a new study_name\).*or give 'batch_size' the same ones"
    )) as info:
        tune(arnet(), series, n_trials=2, study=study,
             space=lambda trial: {"batch_size": trial.suggest_categorical("batch_size", [32, 64])})
    assert "dynamic value space" in str(info.value.__cause__)
    assert len(study.trials) == 2

    def space(trial):  # the space's other errors reach the caller unchanged
        raise ValueError("no such choice")

    with pytest.raises(ValueError, match="^no such choice$"):
        tune(arnet(), series, n_trials=1, study=study, space=space)


@pytest.mark.filterwarnings("ignore:Choices for a categorical")  # Optuna's note on storing tuples
def test_a_stored_study_of_tuple_choices_is_told_its_storage_made_them_lists(series, tmp_path):
    # the space had not changed: the message told the user to give "the same ones as before"
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    space = lambda trial: {"hidden_layers": trial.suggest_categorical("hidden_layers", [(), (4,)])}  # noqa: E731
    tune(arnet(), series, n_trials=1, space=space, study=optuna.create_study(study_name="s", storage=storage))
    again = optuna.create_study(study_name="s", storage=storage, load_if_exists=True)
    with pytest.raises(TuningSetupError, match=(
        r"samples 'hidden_layers' from the choices \[\(\), \(4,\)\] as before, but this study's storage kept them as "
        r"\[\[\], \[4\]\] \(JSON has no tuples\).*sample strings \(e\.g\. '8,4'\) and turn them into tuples"
    )):
        tune(arnet(), series, n_trials=1, space=space, study=again)


def test_a_cycle_the_default_space_cannot_read_from_the_stamps_is_refused_before_the_search():
    from tsrec.estimators import CycleNetForecaster

    study = optuna.create_study()
    y = make_ar((0.5,), n_samples=200, random_state=0)  # integer stamps: no step to read a cycle from
    est = CycleNetForecaster(lookback=24, horizon=4, max_epochs=1, val_size=0.2)
    with pytest.raises(InputError, match=r"cannot infer cycle_length from an integer time index; pass cycle_length"):
        tune(est, y, n_trials=None, timeout=30, study=study, random_state=0)
    assert study.trials == []
    assert tune(est.set_params(cycle_length=12), y, n_trials=1, random_state=0).study.trials[0].state == COMPLETE


def test_a_period_no_trial_of_a_users_space_can_read_stops_the_search_at_its_first_trial():
    # the space samples lr only: no trial's period, cycle or window differs, so each would fail the same way
    from tsrec.estimators import PGNForecaster

    study = optuna.create_study()
    y = make_ar((0.5,), n_samples=200, random_state=0)
    est = PGNForecaster(lookback=48, horizon=2, max_epochs=1, val_size=0.25)
    message = r"trial 0: cannot infer period from an integer .*every trial would repeat it, as the search space samples"
    with pytest.raises(TuningSetupError, match=message + " no window length, period"):
        tune(est, y, n_trials=None, timeout=30, study=study, space=lambda trial: {"lr": 0.01})
    assert len(study.trials) == 1


def test_an_accelerator_the_machine_lacks_is_refused_before_the_search(series, tmp_path, monkeypatch):
    from lightning.pytorch.accelerators import MPSAccelerator

    monkeypatch.setattr(MPSAccelerator, "is_available", staticmethod(lambda: False))  # as on any non-Apple machine
    monkeypatch.chdir(tmp_path)
    study = optuna.create_study()
    with pytest.raises(ValueError, match=r"lightning\.Trainer cannot train with accelerator='mps'"):
        tune(arnet(accelerator="mps"), series, n_trials=None, timeout=30, study=study)
    assert study.trials == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, distribution, match", [
    ("batch_size", optuna.distributions.FloatDistribution(16, 64),
     r"'batch_size' is a FloatDistribution, but ARNetForecaster's batch_size takes whole numbers; use "
     r"optuna.distributions.IntDistribution\(16, 64\)"),
    ("scaling", optuna.distributions.FloatDistribution(0, 1), r"scaling takes a name, no number; use .*Categorical"),
    ("verbose", optuna.distributions.IntDistribution(0, 1), r"'verbose' is an IntDistribution, but ARNetForecaster's "
     r"verbose takes True or False, no number"),
    # categorical choices of another kind: each trial that drew one failed, and the search ended in a RuntimeError
    ("batch_size", optuna.distributions.CategoricalDistribution([16.0, 32.0]),
     r"'batch_size' offers \[16\.0, 32\.0\], but ARNetForecaster's batch_size takes whole numbers: every trial that "
     r"drew one would fail; give them as ints, e\.g\. \[16, 32\]"),
    ("batch_size", optuna.distributions.CategoricalDistribution([16, None]), r"offers \[None\], .*offer ints only"),
    ("patience", optuna.distributions.CategoricalDistribution([None, 3, 2.5]),
     r"'patience' offers \[2\.5\], but ARNetForecaster's patience takes whole numbers or None: .*offer ints or None"),
    ("scaler", optuna.distributions.CategoricalDistribution([0, 1]), r"offers \[0, 1\], .*takes a name: .*offer "
     r"names \(str\) only"),
    ("verbose", optuna.distributions.CategoricalDistribution([0, 1]), r"offers \[0, 1\], .*offer True and False only"),
])
def test_a_distribution_of_values_the_parameter_never_takes_is_refused_before_any_trial(series, name, distribution,
                                                                                         match):
    # each trial failed on it, one by one, until n_trials or the timeout ran out
    study = optuna.create_study()
    with pytest.raises(ValueError, match=match):
        tune(arnet(), series, n_trials=3, space={name: distribution, "lr": optuna.distributions.FloatDistribution(
            1e-3, 1e-2)}, study=study)
    assert not study.trials
    sizes = {"batch_size": optuna.distributions.IntDistribution(16, 32), "lr": optuna.distributions.FloatDistribution(
        1e-3, 1e-2), "patience": optuna.distributions.CategoricalDistribution([None, 3]),
        "verbose": optuna.distributions.CategoricalDistribution([False])}  # the right kinds: searched
    assert tune(arnet(), series, n_trials=1, space=sizes, random_state=0).best_params.keys() == sizes.keys()


class _WarnsThenFails(ARNetForecaster):
    """Warns as each fit starts; a large lr then fails the trial."""

    def fit(self, y, X=None, fh=None):
        import warnings

        warnings.warn(f"a data warning at lr={self.lr}", UserWarning, stacklevel=2)
        if self.lr > 0.015:
            raise RuntimeError("diverged")
        return super().fit(y, X=X, fh=fh)


def test_the_warnings_of_a_failed_trial_are_issued_too():
    # each trial records its warnings to issue them once per search: a trial that fails must not swallow its own,
    # and a warning of the same category with other text is another warning (kills `finally` -> `else`, and a
    # key of the category alone)
    import warnings

    from tsrec.datasets import make_ar
    from tsrec.tuning import tune

    series = make_ar((0.5, -0.3), n_samples=120, random_state=0)
    est = _WarnsThenFails(n_lags=2, horizon=1, max_epochs=1, val_size=0.25, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(est, series, n_trials=2, space=lambda trial: {"lr": 0.02 if trial.number == 0 else 0.01})
    shown = {str(w.message) for w in caught}
    assert {"a data warning at lr=0.02", "a data warning at lr=0.01"} <= shown


def test_a_sampled_cycle_length_one_trial_cannot_use_fails_that_trial_not_the_search():
    """A space that samples cycle_length varies what the network reads from the data: a value one trial cannot use
    (None on integer stamps) is that trial's failure, not a mistake every trial repeats, so the search goes on."""
    y = make_ar((0.5,), n_samples=200, random_state=0)  # integer stamps: cycle_length=None cannot be inferred
    est = CycleNetForecaster(lookback=24, horizon=4, cycle_length=12, max_epochs=1, val_size=0.2)
    space = lambda trial: {"cycle_length": None if trial.number == 0 else 12}  # noqa: E731
    with pytest.warns(RuntimeWarning, match=r"trial 0 failed: InputError\(.cannot infer cycle_length"):
        result = tune(est, y, n_trials=2, space=space, random_state=0)
    assert [t.state for t in result.study.trials] == [FAIL, COMPLETE]
    assert "cannot infer cycle_length" in result.study.trials[0].user_attrs["error"]
    assert result.best_params == {"cycle_length": 12}
