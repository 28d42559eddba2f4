"""Bad estimator parameters, and sizes too large for memory, fail in fit with a message naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import (
    ARNetForecaster,
    CycleNetForecaster,
    LS4Forecaster,
    LTCForecaster,
    PGNClassifier,
    PGNForecaster,
    SMambaForecaster,
    SpaceTimeForecaster,
)
from tsrec.estimators._params import sizes_named_when_out_of_memory
from tsrec.estimators.errors import InputError
from tsrec.registry import get_estimator

from bad_input_frames import frame  # tests/estimators/bad_input_frames.py


@pytest.mark.parametrize("params,match", [
    ({"lookback": 0}, "lookback must be an integer >= 1"),
    ({"max_epochs": 0}, "max_epochs"),
    ({"max_epochs": None}, r"max_epochs must be an integer >= 1, got None"),  # not Lightning's 1000 epochs
    ({"devices": True}, "devices must be 'auto', an int or a list"),
    ({"lr": -1.0}, "lr must be a finite number > 0"),
    ({"lr": 0}, r"lr must be a finite number > 0.0, got 0"),  # the boundary: zero trains nothing
    ({"val_size": 1.5}, "val_size"),
    ({"val_size": False}, "val_size must be a fraction"),  # once taken as 0 rows, while True was refused
    ({"random_state": "x"}, r"random_state must be None or an int, got str; .*pass one, e.g. random_state=0$"),
    # scikit-learn takes these; the fix draws the int from the user's generator
    ({"random_state": np.random.default_rng(0)}, r"got Generator; .*random_state=int\(rng.integers\(2\*\*32\)\)\)$"),
    ({"random_state": np.random.RandomState(0)}, r"got RandomState; .*random_state=int\(rng.randint\(2\*\*32\)\)\)$"),
    ({"trainer_kwargs": [1]}, "trainer_kwargs must be a dict"),
    ({"backbone": "rnn"}, "backbone must be 'linear' or 'mlp'"),
    ({"lr": float("inf")}, "lr must be a finite number > 0"),
    ({"weight_decay": float("nan")}, "weight_decay must be a finite number >= 0"),
    ({"patience": 0}, "patience must be an integer >= 1"),
    ({"random_state": 2**40}, r"random_state must be None or an int in \[0, 2\*\*32 - 1\]"),
    ({"random_state": -1}, "random_state must be None or an int in"),
    ({"trainer_kwargs": {"max_epochs": 3}}, "trainer_kwargs may not set 'max_epochs': use the estimator's max_epochs="),
    ({"trainer_kwargs": {"deterministic": False}}, "may not set 'deterministic': tsrec sets it itself"),
    ({"trainer_kwargs": {"foo": 1}}, "'foo', which is not a lightning.Trainer argument"),
    ({"trainer_kwargs": {"callbacks": "x"}}, "must be a lightning Callback or a list of them, got str 'x'"),
    ({"trainer_kwargs": {"limit_val_batches": 0}}, "use the estimator's val_size=0"),
    ({"trainer_kwargs": {"limit_train_batches": 0}}, "it would train nothing"),
    ({"accelerator": ["cpu"]}, "accelerator must be a string"),
    ({"precision": "16-true"}, "use '16-mixed' or 'bf16-mixed'"),
    ({"precision": None}, r"precision must be one of '64-true', .*got None"),
    ({"precision": 64.0}, r"precision must be one of .*\(or the ints 64, 32, 16\), got 64.0"),
])
def test_bad_parameters_fail_in_fit(params, match):
    est = CycleNetForecaster(**{"lookback": 24, "horizon": 12, "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(frame(), fh=[1])


def test_the_largest_seed_is_taken_and_a_choice_given_as_an_array_is_named():
    # 2**32 - 1 tops the range the message names (and `tsrec demo --seed` takes)
    assert CycleNetForecaster(lookback=24, horizon=12, max_epochs=1, random_state=2**32 - 1).fit(frame(), fh=[1])
    # an array was compared elementwise: numpy's "truth value of an array is ambiguous", naming nothing
    with pytest.raises(ValueError, match=r"^scaling must be one of \('global', 'series'\), got array"):
        CycleNetForecaster(lookback=24, horizon=12, max_epochs=1, scaling=np.array(["series"])).fit(frame(), fh=[1])


@pytest.mark.parametrize("cls,params", [
    (CycleNetForecaster, {"verbose": "False"}),
    (CycleNetForecaster, {"use_revin": "False"}),
    (PGNForecaster, {"norm": None}),
    (LTCForecaster, {"norm": 1}),
])
def test_flags_must_be_booleans(cls, params):
    name = next(iter(params))
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        cls(lookback=48, horizon=24, max_epochs=1, **params).fit(frame(), fh=[1])


def test_model_parameters_name_themselves():
    for sparsity in ("0.5", 0, 2, float("nan")):  # one message for every end of the range, with what it means
        with pytest.raises(ValueError, match=r"sparsity must be None or a number in \(0, 1\], got .*: the expected "
                                             r"share of non-zero AR weights"):
            ARNetForecaster(sparsity=sparsity, max_epochs=1).fit(frame())
    with pytest.raises(ValueError, match="reg_lambda must be a finite number"):
        ARNetForecaster(reg_lambda=float("inf"), max_epochs=1).fit(frame())
    with pytest.raises(InputError, match="needs at least n_lags \\+ horizon = 1001; .* lower n_lags/horizon"):
        ARNetForecaster(n_lags=1000, max_epochs=1).fit(frame())
    with pytest.raises(InputError, match="cannot infer period from an integer time index; pass period=") as raised:
        PGNForecaster(lookback=8, horizon=4, max_epochs=1).fit(frame().reset_index(drop=True))
    assert "or give y its time stamps: y.index = pd.date_range(" in str(raised.value)  # dates lost in a file
    with pytest.raises(InputError, match=r"cannot infer cycle_length .* \(a NumPy array has no index: y = "
                                         r"pd\.DataFrame\(y, index=pd\.date_range\(\.\.\.\)\)\)$"):
        CycleNetForecaster(lookback=8, horizon=4, max_epochs=1).fit(frame().to_numpy())
    stamped = pd.DataFrame(frame().to_numpy(), index=pd.date_range("2024-01-01", periods=len(frame()), freq="h"))
    assert CycleNetForecaster(lookback=8, horizon=4, max_epochs=1).fit(stamped).network_meta_["cycle_length"] == 24
    # yearly periods in words: pandas names a PeriodIndex's "Y-DEC" periods "YE-DEC"
    yearly = frame().iloc[:40].set_axis(pd.period_range("1950", periods=40, freq="Y"))
    with pytest.raises(InputError, match=r"cannot infer cycle_length for yearly steps, which have no usual seasonal "
                                         r"cycle; pass cycle_length="):
        CycleNetForecaster(lookback=6, horizon=2, max_epochs=1).fit(yearly)
    # so are steps of several months or quarters, periods or dates ("2ME" named no period)
    for freq, words in (("2M", "2 months"), ("2ME", "2 months"), ("2Q", "2 quarters"), ("3QS", "3 quarters"),
                        ("2Y", "2 years")):
        index = (pd.date_range if freq.endswith(("E", "S")) else pd.period_range)("2000", periods=40, freq=freq)
        with pytest.raises(InputError, match=rf"cannot infer cycle_length for steps of {words}, which have no usual"):
            CycleNetForecaster(lookback=6, horizon=2, max_epochs=1).fit(yearly.set_axis(index))
    # a period read off the first of series that step differently: the steps are the likelier fault
    days = frame().iloc[:60].set_axis(pd.date_range("2020", periods=60, freq="D"))
    mixed = pd.concat({"s0": days, "s1": days.set_axis(pd.date_range("2020", periods=60, freq="h"))}, names=["id", "t"])
    with pytest.raises(InputError, match=r"lookback=10 is not a multiple of period=7; .*; but the series of y step "
                                         r"differently \(D for the first, h for series 's1' of y\), and that setting "
                                         r"was read off the first one's step: give series of one step$"):
        PGNForecaster(lookback=10, horizon=7, max_epochs=1).fit(mixed)
    with pytest.raises(InputError, match=r"not a multiple of period=7; use lookback=14$"):  # one step: as before
        PGNForecaster(lookback=10, horizon=7, max_epochs=1).fit(days)
    with pytest.raises(InputError, match=r"cannot infer period for steps of '2D', which"):
        PGNForecaster(lookback=8, horizon=4, max_epochs=1).fit(yearly.set_axis(pd.date_range("2020", periods=40,
                                                                                            freq="2D")))
    with pytest.raises(ValueError, match="criterion_weights must be a tuple or list of three finite numbers"):
        SpaceTimeForecaster(criterion_weights=(float("inf"), 1, 1), max_epochs=1).fit(frame())
    with pytest.raises(ValueError, match=r"n_samples must be an integer >= 2, got 1"):  # one path has no spread
        LS4Forecaster(n_samples=1, max_epochs=1).fit(frame())
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1.0"):  # every unit dropped
        SMambaForecaster(dropout=1.0, max_epochs=1).fit(frame())


def test_a_run_cut_short_before_validation_still_fits():
    est = CycleNetForecaster(lookback=24, horizon=12, val_size=0.2, trainer_kwargs={"max_steps": 2})
    assert np.isfinite(est.fit(frame(), fh=[1]).predict().to_numpy()).all()


def test_numpy_scalars_from_parameter_grids_are_accepted(tmp_path):
    est = CycleNetForecaster(lookback=np.int64(24), horizon=12, max_epochs=1, use_revin=np.True_, verbose=np.False_)
    est.fit(frame(), fh=[1])
    est.save(tmp_path / "model")  # saved as the Python numbers they equal
    pd.testing.assert_frame_equal(tsrec.load(tmp_path / "model").predict(), est.predict())
    params = {"lookback": np.int64(6), "horizon": np.int64(2), "d_model": 4, "n_samples": 4, "dropout": np.float32(0.1)}
    forecast = LS4Forecaster(max_epochs=1, **params).fit(frame().iloc[:100], fh=[1, 2]).predict()
    assert np.isfinite(forecast.to_numpy()).all()


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown estimator 'NoSuchForecaster'; known estimators"):
        get_estimator("NoSuchForecaster")
    # a model's short name or a typo: the one meant is named
    for name, meant in (("ARNet", "ARNetForecaster"), ("CycleNetForcaster", "CycleNetForecaster")):
        with pytest.raises(ValueError, match=rf"unknown estimator '{name}' \(did you mean '{meant}'\?\); known"):
            get_estimator(name)


@pytest.mark.parametrize("name,cls", tsrec.all_estimators(), ids=[n for n, _ in tsrec.all_estimators()])
def test_every_estimator_takes_numpy_integers_for_its_integer_parameters(name, cls):
    # a parameter grid built with np.arange hands NumPy integers (PGN's networks once refused them)
    tiny = dict(cls.get_test_params()[0]) if hasattr(cls, "get_test_params") else {}
    tiny.update(getattr(cls, "_test_params", {}))  # the classifiers' small settings
    tiny.update(max_epochs=1, batch_size=8, random_state=0)
    params = {key: np.int64(value) if isinstance(value, int) and not isinstance(value, bool) else value
              for key, value in tiny.items()}
    est = cls(**params)
    if name.endswith("Classifier"):
        X, y = np.random.default_rng(0).normal(size=(12, 2, 16)), np.arange(12) % 2
        assert est.fit(X, y).predict(X).shape == (12,)
    else:
        forecast = est.fit(frame().iloc[:120], fh=[1, 2]).predict()
        assert np.isfinite(forecast.to_numpy()).all()


@pytest.mark.parametrize("make, fit, named", [  # torch's allocator message named no parameter
    (lambda: SMambaForecaster(lookback=24, horizon=6, d_model=10**7, max_epochs=1), lambda est: est.fit(frame()),
     r"SMambaForecaster ran out of memory building or training its network \(.*allocate.*\); lower its sizes "
     r"\(d_model=10000000, .*\) or batch_size=32"),
    (lambda: PGNClassifier(hidden=10**10, max_epochs=1),
     lambda est: est.fit(np.random.default_rng(0).normal(size=(10, 1, 20)), np.arange(10) % 2),
     r"PGNClassifier ran out of memory .*lower its sizes \(hidden=10000000000"),
    # a tuple of sizes was left out: the message named n_lags and horizon only
    (lambda: ARNetForecaster(n_lags=3, hidden_layers=(10**12,), max_epochs=1), lambda est: est.fit(np.ones(30)),
     r"ARNetForecaster ran out of memory .*lower its sizes \(hidden_layers=\(1000000000000,\), n_lags=3, horizon=1\)"),
])
def test_a_network_too_large_for_memory_names_its_sizes(make, fit, named):
    with pytest.raises(ValueError, match=named):
        fit(make())


def test_pythons_own_memory_error_is_named_too():
    # it has no message: reading its first line raised an IndexError in place of the sizes
    with pytest.raises(ValueError, match=r"\(MemoryError\); lower its sizes \(hidden_layers=\(4, 10\), n_lags=3"):
        with sizes_named_when_out_of_memory(ARNetForecaster(n_lags=3, hidden_layers=(4, 10))):
            raise MemoryError()
