"""The Trainer of a fit: Ctrl+C, the user's callbacks and Trainer arguments, and what verbose prints."""

from __future__ import annotations

import datetime
import logging
import re
import signal
import warnings

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.strategies import DDPStrategy

from tsrec.estimators import ARNetForecaster, CycleNetForecaster, InputError, PGNClassifier, SMambaForecaster
from tsrec.estimators._engine import TrainingConfig, make_trainer

SMALL = dict(lookback=24, horizon=6, cycle_length=10, max_epochs=2, val_size=0.2, random_state=0)


def _series(n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.sin(np.arange(n) / 5.0) + 0.1 * rng.standard_normal(n)


class Raise(Callback):
    """Raise ``error`` at the end of the first training epoch, as a Ctrl+C there would."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def on_train_epoch_end(self, trainer, pl_module):
        raise self.error


def test_ctrl_c_during_fit_raises_keyboard_interrupt():
    handler = signal.getsignal(signal.SIGINT)
    est = CycleNetForecaster(**SMALL, trainer_kwargs={"callbacks": [Raise(KeyboardInterrupt())]})
    with pytest.raises(KeyboardInterrupt):
        est.fit(_series())
    assert signal.getsignal(signal.SIGINT) is handler
    assert not est.is_fitted


def test_other_system_exits_pass_through():
    est = CycleNetForecaster(**SMALL, trainer_kwargs={"callbacks": [Raise(SystemExit(3))]})
    with pytest.raises(SystemExit) as exit_info:
        est.fit(_series())
    assert exit_info.value.code == 3


@pytest.mark.parametrize(
    "trainer_kwargs, patience, message",
    [
        ({"callbacks": [EarlyStopping("val_loss", patience=3)]}, 2, "set patience=None to use yours"),
        ({"callbacks": ModelCheckpoint(monitor="val_loss")}, None, "keeps the best val_loss checkpoint itself"),
        ({"check_val_every_n_epoch": 0}, None, r"check_val_every_n_epoch'\] must be an integer >= 1, got 0"),
        ({"max_steps": 0}, None, "max_steps=0: it would train nothing"),
        ({"max_time": "00:00:00:00"}, None, "max_time='00:00:00:00': it would train nothing"),
        ({"max_time": datetime.timedelta(0)}, None, "it would train nothing"),
        ({"max_time": {"seconds": 0}}, None, "it would train nothing"),
        ({"max_time": "one hour"}, None, "must be a 'DD:HH:MM:SS' string"),
        # child processes: Lightning hands back the weights, not the best score or the history
        ({"strategy": "ddp_fork"}, None, "strategy 'ddp_fork' trains in child processes"),
        ({"strategy": "ddp_notebook"}, None, "use strategy='ddp'"),
        ({"strategy": DDPStrategy(start_method="spawn")}, None, "trains in child processes"),
        ({"strategy": DDPStrategy(start_method="forkserver")}, None, "trains in child processes"),
        ({"overfit_batches": 1}, None, "may not set overfit_batches"),
        # Lightning's own message blamed enable_checkpointing=True, which tsrec had set, not the user
        ({"barebones": True}, None, "may not set barebones=True: it turns off the logging and checkpointing"),
        # a val_loss per check, not per epoch, in history_; patience counted checks
        ({"val_check_interval": 0.5}, None, "may not set val_check_interval=0.5: tsrec validates once an epoch"),
        ({"val_check_interval": 1}, None, "val_check_interval=1: tsrec validates once an epoch"),  # every batch
        # Lightning divides the loss by it: -1 made training climb the loss, silently; 0 a ZeroDivisionError
        ({"accumulate_grad_batches": -1}, None, r"accumulate_grad_batches'\] must be an integer >= 1, got -1"),
        ({"accumulate_grad_batches": 0}, None, r"accumulate_grad_batches'\] must be an integer >= 1, got 0"),
        ({"gradient_clip_val": -1}, None, r"gradient_clip_val'\] must be a finite number >= 0"),
        ({"num_nodes": 0}, None, r"trainer_kwargs\['num_nodes'\] must be an integer >= 1, got 0"),
        ({"min_steps": -3}, None, r"min_steps'\] must be an integer >= 0"),
        ({"max_steps": 1.5}, None, r"max_steps'\] must be an integer >= -1 \(-1 for no limit\), got 1.5"),
        # Lightning stops at max_epochs first, without a word
        ({"min_epochs": 50}, None, r"trainer_kwargs min_epochs=50 exceeds the estimator's max_epochs=\d+, which ends "
                                   "the fit first"),
        ({"min_epochs": np.int64(50)}, None, "min_epochs=50 exceeds"),  # as a grid gives it: it was let through
        # each ran without a word: a smoke test of a batch, one batch an epoch, a flag "yes" read as True
        ({"limit_train_batches": True}, None, r"limit_train_batches'\] must be a fraction in \(0, 1\] or a number of "
                                              "batches, got True"),
        ({"limit_val_batches": True}, None, r"limit_val_batches'\] must be a fraction in \(0, 1\] or a number of "
                                            "batches, got True"),
        ({"sync_batchnorm": "yes"}, None, r"trainer_kwargs\['sync_batchnorm'\] must be True or False, got 'yes'"),
        # these failed deep in the fit with Lightning's or torch's error, or waited 30 minutes for other nodes
        ({"logger": "csv"}, None, r"trainer_kwargs\['logger'\] must be True, False, a lightning Logger or a list"),
        ({"detect_anomaly": "yes"}, None, r"trainer_kwargs\['detect_anomaly'\] must be True or False"),
        ({"num_nodes": 2}, None, r"num_nodes=2 needs a cluster launcher \(SLURM, torchrun, LSF or MPI"),
    ],
)
def test_trainer_kwargs_that_cannot_work_are_refused(trainer_kwargs, patience, message):
    est = CycleNetForecaster(**SMALL, patience=patience, trainer_kwargs=trainer_kwargs)
    with pytest.raises(ValueError, match=message):
        est.fit(_series())


def test_trainer_kwargs_that_train_are_accepted(tmp_path):
    kwargs = {"max_time": {"minutes": 5}, "check_val_every_n_epoch": 1, "max_steps": -1, "val_check_interval": 1.0,
              "callbacks": [ModelCheckpoint(dirpath=tmp_path, monitor=None)]}
    est = CycleNetForecaster(**SMALL, trainer_kwargs=kwargs).fit(_series())
    assert est.history_["epochs"] == 2
    assert [path.name for path in tmp_path.iterdir()] == ["epoch=1-step=2.ckpt"]  # the copy saved


def test_min_epochs_equal_to_max_epochs_is_accepted():
    # only a min_epochs above max_epochs can never be met
    est = CycleNetForecaster(**{**SMALL, "patience": 1}, trainer_kwargs={"min_epochs": 2}).fit(_series())
    assert est.history_["epochs"] == 2


def test_fast_dev_run_says_it_is_a_smoke_test():
    # it ended the fit after a batch or two, whatever max_epochs, without a word
    with pytest.warns(UserWarning, match=r"fast_dev_run=2 runs a smoke test, as in Lightning: a batch or a few of "
                                         r"training and validation, whatever max_epochs; .*no best_val_loss") as said:
        est = CycleNetForecaster(**SMALL, trainer_kwargs={"fast_dev_run": 2}).fit(_series())
    assert est.history_["best_val_loss"] is None
    assert sum("smoke test" in str(w.message) for w in said) == 1  # a forecaster's fit said it twice


def test_numpy_flags_are_taken_as_bools():
    # torch's set_anomaly_enabled refused np.True_ with a bare TypeError
    est = CycleNetForecaster(**SMALL, trainer_kwargs={"detect_anomaly": np.True_, "logger": False}).fit(_series())
    assert est.history_["epochs"] == 2


def test_a_users_checkpoint_saves_without_validation_data(tmp_path):
    # tsrec turns Lightning's checkpointing off when it keeps no best checkpoint itself; a user's
    # ModelCheckpoint must turn it back on, or Lightning refuses the callback
    kwargs = {"callbacks": [ModelCheckpoint(dirpath=tmp_path, monitor=None)]}
    CycleNetForecaster(**{**SMALL, "val_size": 0}, trainer_kwargs=kwargs).fit(_series())
    assert [path.name for path in tmp_path.iterdir()] == ["epoch=1-step=2.ckpt"]


def test_a_callback_on_val_loss_is_refused_when_there_is_no_validation():
    # Lightning stopped such fits after their first epoch: "conditioned on metric 'val_loss' which is not available"
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=2, val_size=0, patience=None,
                          trainer_kwargs={"callbacks": [EarlyStopping("val_loss", patience=3)]})
    with pytest.raises(ValueError, match="callback EarlyStopping monitors 'val_loss', but this fit has no validation"):
        est.fit(_series())
    lenient = est.set_params(trainer_kwargs={"callbacks": [EarlyStopping("val_loss", patience=3, strict=False)]})
    assert lenient.fit(_series()).history_["epochs"] == 2


def test_a_classifier_without_validation_data_is_not_told_to_give_longer_series():
    # a class of one sample leaves no stratified split at val_size=0.3; the message had spoken of series and windows
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 1, 12)), np.array(["a"] * 10 + ["b"] * 9 + ["c"])
    est = PGNClassifier(max_epochs=1, val_size=0.3, patience=None, random_state=0,
                        trainer_kwargs={"callbacks": [EarlyStopping("val_loss")]})
    with pytest.warns(UserWarning, match="no validation data"), pytest.raises(ValueError) as caught:
        est.fit(X, y)
    assert "NoValidationWarning above says what is short" in str(caught.value)
    assert "series" not in str(caught.value)


def test_a_users_progress_bar_shows_without_verbose(capfd):
    # verbose=False turned Lightning's bar off, and Lightning then refused the user's bar with a
    # message about accelerators
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=2, trainer_kwargs={"callbacks": [TQDMProgressBar()]}).fit(_series())
    captured = capfd.readouterr()
    assert "Epoch 1" in captured.out + captured.err  # Lightning's bar writes to stdout


def test_a_trainer_option_lightning_refuses_is_not_blamed_on_the_accelerator():
    with pytest.raises(ValueError, match=r"trainer_kwargs keys \['gradient_clip_algorithm'\]: .*bogus is invalid\. "
                                         r"Allowed algorithms: \['value', 'norm'\]; change the setting it names$"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, trainer_kwargs={"gradient_clip_algorithm": "bogus"}).fit(
            _series())


def test_a_callback_that_stops_the_fit_before_its_first_batch_is_named_as_the_cause():
    # the warning blamed "(trainer_kwargs [])" and suggested max_steps; torch warned that the scheduler
    # stepped before the optimizer
    class StopAtStart(Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            trainer.should_stop = True

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CycleNetForecaster(**SMALL, trainer_kwargs={"callbacks": [StopAtStart()]}).fit(_series())
    messages = [str(w.message) for w in caught]
    assert any("before any validation ran (a callback stopped it)" in m and "on_validation_end" in m
               for m in messages), messages
    assert not any("lr_scheduler.step()" in m for m in messages), messages


@pytest.mark.parametrize("precision", ["bf16", 64, "32", 16])
def test_short_precision_names_are_passed_as_lightnings_current_ones(precision):
    # Lightning warned that they are "supported for historical reasons but its usage is discouraged"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, precision=precision, accelerator="cpu").fit(_series())
    assert not any("historical reasons" in str(w.message) for w in caught), [str(w.message) for w in caught]


def test_a_batch_size_torch_cannot_slice_by_is_refused_before_training():
    # 2**63 failed inside torch's sampler: "Stop argument for islice() must be None or an integer"
    with pytest.raises(ValueError, match=r"batch_size must be at most 9,223,372,036,854,775,807, got "):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, batch_size=2**63).fit(_series())
    assert ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, batch_size=10**12).fit(_series()).history_["epochs"] == 1


BANNERS = ("GPU available", "TPU available", "litlogger", "Tip:", "limit_val_batches", "Trainer.fit` stopped")


def test_verbose_fit_shows_progress_and_summary_only(capfd, caplog):
    caplog.set_level(logging.INFO)
    est = CycleNetForecaster(**SMALL, verbose=True).fit(_series())
    out, err = capfd.readouterr()
    assert "trained 2 epochs in" in out
    history = est.history_
    assert f"best val_loss {history['best_val_loss']:.4g}, last train_loss {history['train_loss'][-1]:.4g}" in out
    assert "Epoch 1" in out + err  # the progress bar
    shown = out + err + caplog.text
    assert not [banner for banner in BANNERS if banner in shown]
    # the bar ends on the last epoch's losses (its train_loss once lagged an epoch behind)
    last_bar = [part for part in re.split(r"[\r\n]", out + err) if part.startswith("Epoch 1")][-1]
    assert f"train_loss={history['train_loss'][-1]:.3g}" in last_bar, last_bar
    assert f"val_loss={history['val_loss'][-1]:.3g}" in last_bar, last_bar
    assert "Validation" not in out + err  # its loss is on the training bar: no bar (and lines) of its own


class TrainingForwards(Callback):
    """Count the network's forward passes in training mode (one per minibatch)."""

    def __init__(self) -> None:
        self.count = 0

    def on_fit_start(self, trainer, pl_module) -> None:
        pl_module.network.register_forward_hook(self.record)

    def record(self, module, args, out) -> None:
        self.count += module.training


def test_the_progress_bar_counts_minibatches_not_grouped_steps(capfd):
    # the engine hands Lightning groups of minibatches per step; the bar must still count minibatches
    forwards = TrainingForwards()
    est = CycleNetForecaster(**{**SMALL, "max_epochs": 1, "batch_size": 4, "verbose": True, "val_size": 0.1,
                                "trainer_kwargs": {"callbacks": [forwards]}})
    est.fit(_series(300))
    shown = capfd.readouterr()
    bars = (shown.out + shown.err).replace("\r", "\n")
    assert forwards.count > 8  # more than one group
    assert f"{forwards.count}/{forwards.count} " in bars, bars[-400:]


def test_trainer_leaves_full_validation_to_lightnings_default(caplog):
    caplog.set_level(logging.INFO)
    trainer = make_trainer(TrainingConfig(accelerator="cpu", devices=1), [], has_val=True)
    assert trainer.limit_val_batches == 1.0
    assert "limit_val_batches" not in caplog.text


@pytest.mark.parametrize(
    "make",
    [  # a kernel refuses the NaN activations; the loss of a kernel-free network goes NaN silently
        lambda: SMambaForecaster(lookback=4, horizon=2, d_model=4, d_ff=4, e_layers=1, max_epochs=3, batch_size=4,
                                 lr=1.0),
        lambda: ARNetForecaster(n_lags=4, horizon=2, max_epochs=3, batch_size=4, lr=1e30),
    ],
)
def test_a_diverging_fit_names_the_learning_rate_not_the_input(make):
    with pytest.raises(InputError, match=r"^training diverged: .* lower lr \(it is 1"):
        make().fit(np.sin(np.arange(60) / 3.0))


def test_fit_inside_inference_mode_trains():
    est = CycleNetForecaster(**SMALL)
    with torch.inference_mode():
        est.fit(_series())
    reference = CycleNetForecaster(**SMALL).fit(_series())
    np.testing.assert_array_equal(est.predict(fh=[1, 2]), reference.predict(fh=[1, 2]))


@pytest.mark.parametrize(
    "params, message",
    [  # Lightning's own exceptions, which name neither the parameter nor a fix, come out as ValueError
        ({"accelerator": "gpu"} if not torch.cuda.is_available() else {"accelerator": "mps"}, "accelerator="),
        ({"devices": 0}, "devices=0"),
        # Lightning's ValueErrors too: once bare messages
        ({"trainer_kwargs": {"strategy": "foo"}}, r"trainer_kwargs keys \['strategy'\]: .*foo"),
        ({"accelerator": "foo"}, "accelerator='foo'"),
        ({"trainer_kwargs": {"limit_train_batches": 0.01}}, "lightning refused trainer_kwargs for this data"),
    ],
)
def test_settings_lightning_cannot_use_are_value_errors_naming_them(params, message):
    with pytest.raises(ValueError, match=message):
        CycleNetForecaster(**{**SMALL, **params}).fit(_series())


def test_numpy_numbers_in_trainer_kwargs_are_taken_as_python_numbers():
    # as a parameter grid gives them; Lightning refused np.int64 counts, np.float32 clips and limits (the
    # latter "must be 1.0 or an int" for an IterableDataset, which this is not)
    kwargs = {"check_val_every_n_epoch": np.int64(1), "gradient_clip_val": np.float32(0.5),
              "limit_train_batches": np.float32(0.5)}
    est = CycleNetForecaster(**SMALL, batch_size=8, trainer_kwargs=kwargs).fit(_series())
    plain = {"check_val_every_n_epoch": 1, "gradient_clip_val": 0.5, "limit_train_batches": 0.5}
    plain = CycleNetForecaster(**SMALL, batch_size=8, trainer_kwargs=plain).fit(_series())
    np.testing.assert_array_equal(est.predict(fh=[1]), plain.predict(fh=[1]))
    assert type(est.trainer_kwargs["check_val_every_n_epoch"]) is np.int64  # the parameter is left as given
    timed = CycleNetForecaster(**SMALL, trainer_kwargs={"max_time": {"minutes": np.int64(5)}}).fit(_series())
    assert timed.history_["epochs"] == 2  # timedelta refused the np.int64 in max_time's dict


def test_a_callback_that_needs_a_logger_is_told_how_to_pass_one(tmp_path):
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger

    with pytest.raises(ValueError, match=r"no logger; pass one with the callback, e\.g\. trainer_kwargs=\{'logger'"):
        CycleNetForecaster(**SMALL, trainer_kwargs={"callbacks": [LearningRateMonitor()]}).fit(_series())
    kwargs = {"logger": CSVLogger(tmp_path), "callbacks": [LearningRateMonitor()]}  # the fix the message names
    CycleNetForecaster(**SMALL, trainer_kwargs=kwargs).fit(_series())
    assert list(tmp_path.rglob("metrics.csv"))


@pytest.mark.parametrize("est", [SMambaForecaster(lookback=8, horizon=2, d_model=4, max_epochs=1),
                                 ARNetForecaster(n_lags=4, horizon=2, max_epochs=1)])
def test_a_bad_kernel_backend_variable_is_an_input_error_before_training(monkeypatch, est):
    # it was found by the first kernel call, inside Lightning's loop, as a plain ValueError quoting the
    # cleaned-up value, and never by a network without kernels (AR-Net)
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", " Cuda ")
    with pytest.raises(InputError, match=r"TSREC_KERNEL_BACKEND=' Cuda ' is not a kernel backend; set it to one of "
                                         r"\('auto', 'torch', 'triton', 'naive'\) \(any case\) or unset it"):
        est.fit(_series())
    assert not hasattr(est, "network_")
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", " Torch ")  # read case-blind, spaces stripped
    assert est.fit(_series()).history_["epochs"] == 1
