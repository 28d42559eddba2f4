"""tune(): a Ctrl+C stops the search even where Python swallows the KeyboardInterrupt, a search
whose every trial was pruned names the pruner it used, and the default space warns of the settings
it searches.

Optuna runs ``gc.collect()`` after every trial (``gc_after_trial=True``); a SIGINT that lands
while a ``__del__`` or weakref callback runs there (Lightning's ``Profiler.__del__``,
SQLAlchemy's ``_collection_gced``) is printed as "Exception ignored in ..." and dropped, and the
search ran on to ``n_trials``: on the 2-core machine 1 of 6 timed Ctrl+C's with the default
study, 3 of 7 with an SQLite one.
"""

from __future__ import annotations

import signal
import sys
import warnings

import optuna
import pytest

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster
from tsrec.tuning import tune


@pytest.fixture(scope="module")
def series():
    return make_ar((0.5, -0.3), n_samples=240, random_state=0)


def arnet(**params) -> ARNetForecaster:
    return ARNetForecaster(**{"n_lags": 4, "max_epochs": 2, "val_size": 0.25, "random_state": 0, **params})


class _InterruptOnDelete:
    """Sends SIGINT from its ``__del__``, where Python swallows the KeyboardInterrupt it raises."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)


@pytest.fixture
def default_sigint_handler():
    """Python's own SIGINT handler, as a script or notebook has it (a test runner may install another)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_ctrl_c_swallowed_in_a_destructor_still_stops_the_search(series, monkeypatch, default_sigint_handler):
    # a Ctrl+C the user sees printed as "Exception ignored" must not leave the search running
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)  # the swallowed one, unprinted
    study = optuna.create_study()

    def space(trial):
        if trial.number == 0:
            _InterruptOnDelete()  # deleted at once: a Ctrl+C during the first trial, dropped by Python
        return {"lr": 0.01}

    with pytest.raises(KeyboardInterrupt):
        tune(arnet(), series, n_trials=5, space=space, study=study)
    # stopped before the next trial, not run to n_trials; no empty FAIL trial left in the study
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is back


def test_a_ctrl_c_stops_the_trial_it_lands_in(series, default_sigint_handler):
    # the handler notes the interrupt and raises it there too: a handler that only noted it would let
    # the trial (minutes of training) run to its end before the search stopped
    study = optuna.create_study()
    after_the_signal = []

    def space(trial):
        signal.raise_signal(signal.SIGINT)
        after_the_signal.append(trial.number)  # not reached: the KeyboardInterrupt comes at once
        return {"lr": 0.01}

    with pytest.raises(KeyboardInterrupt):
        tune(arnet(), series, n_trials=3, space=space, study=study)
    assert after_the_signal == []
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_swallowed_in_the_last_trial_still_reaches_the_caller(series, monkeypatch, default_sigint_handler):
    # no next trial to stop: the end of the search raises it, instead of returning as if none came
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    study = optuna.create_study()

    def space(trial):
        _InterruptOnDelete()  # swallowed by Python
        return {"lr": 0.01}

    with pytest.raises(KeyboardInterrupt):
        tune(arnet(), series, n_trials=1, space=space, study=study)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]  # the trial itself ran
    tune(arnet(), series, n_trials=1, space=lambda trial: {"lr": 0.01})  # and the next search starts afresh


def test_a_ctrl_c_swallowed_in_a_search_inside_another_stops_both(series, monkeypatch, default_sigint_handler):
    # the inner tune found the outer one's handler installed, left it alone, and ran all its trials
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    inner, outer = optuna.create_study(), optuna.create_study()

    def inner_space(trial):
        if trial.number == 0:
            _InterruptOnDelete()
        return {"lr": 0.01}

    def outer_space(trial):
        tune(arnet(), series, n_trials=5, space=inner_space, study=inner)
        return {"lr": 0.01}

    with pytest.raises(KeyboardInterrupt):
        tune(arnet(), series, n_trials=3, space=outer_space, study=outer)
    assert [t.state for t in inner.trials] == [optuna.trial.TrialState.COMPLETE]
    assert [t.state for t in outer.trials] == [optuna.trial.TrialState.FAIL]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_caller_s_own_sigint_handler_is_left_in_place(series):
    def mine(signum, frame):
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, mine)
    try:
        tune(arnet(), series, n_trials=1, space=lambda trial: {"lr": 0.01})
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("pruner, hint", [
    (optuna.pruners.ThresholdPruner(upper=1e-12), r"a more patient pruner than ThresholdPruner$"),
    (optuna.pruners.MedianPruner(n_startup_trials=0, n_warmup_steps=0),
     r"a more patient pruner than MedianPruner \(more n_warmup_steps\)$"),
])
def test_every_trial_pruned_names_the_pruner_used(series, pruner, hint):
    # the hint named MedianPruner whatever pruner was passed
    study = optuna.create_study(pruner=pruner)
    if isinstance(pruner, optuna.pruners.MedianPruner):  # a finished trial to compare with, then every one pruned
        study.enqueue_trial({"lr": 0.01})
        tune(arnet(), series, n_trials=1, space=lambda trial: {"lr": trial.suggest_float("lr", 1e-3, 1e-1)},
             study=study)
    with pytest.raises(RuntimeError, match=rf"no trial completed \(\{{'PRUNED': \d\}}\); raise n_trials or timeout, "
                                           rf"or use {hint}"):
        tune(arnet(), series, n_trials=2, space=lambda trial: {"lr": trial.suggest_float("lr", 10.0, 20.0)},
             study=study)


def test_the_default_space_warns_of_the_settings_it_searches(series):
    # PGNClassifier(hidden=8) was tuned at hidden=32 without a word
    est = arnet(sparsity=0.5)
    with pytest.warns(UserWarning, match=r"tune's default space for ARNetForecaster searches sparsity=0\.5, set on the "
                                         r"estimator: each trial replaces it; to keep sparsity=0\.5, pass a space"):
        result = tune(est, series, n_trials=2, random_state=0)
    assert result.best_params["sparsity"] != 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # defaults only (max_epochs is not searched): no warning
        tune(arnet(), series, n_trials=1, random_state=0)


def test_the_default_space_warns_once_not_at_every_trial(series):
    # with warnings shown every time (as "always" or a logging capture does), three trials gave three copies
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(arnet(sparsity=0.5), series, n_trials=3, random_state=0)
    searched = [w for w in caught if "tune's default space for ARNetForecaster searches" in str(w.message)]
    assert len(searched) == 1


def test_the_default_space_names_two_settings_it_searches_as_them(series):
    with pytest.warns(UserWarning, match=r"searches (lr=0\.05, sparsity=0\.5|sparsity=0\.5, lr=0\.05), set on the "
                                         r"estimator: each trial replaces them; to keep"):
        tune(arnet(sparsity=0.5, lr=0.05), series, n_trials=1, random_state=0)
