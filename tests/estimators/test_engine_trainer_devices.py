"""Devices a fit asks for: refused before training where Lightning would fork or rerun the program, or a CPU cannot."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from tsrec.estimators import ARNetForecaster, CycleNetForecaster

SMALL = dict(lookback=24, horizon=6, cycle_length=10, max_epochs=2, val_size=0.2, random_state=0)


def _series(n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.sin(np.arange(n) / 5.0) + 0.1 * rng.standard_normal(n)


def test_several_devices_where_lightning_would_fork_are_refused_before_training(monkeypatch):
    # in a notebook or REPL Lightning picks ddp_fork by itself; the fork handed back no best score
    # (a TypeError after training) and, without validation, an empty history
    # Lightning reads "interactive" (sys.ps1 set) once, on import
    monkeypatch.setattr("lightning.pytorch.trainer.connectors.accelerator_connector._IS_INTERACTIVE", True)
    for val_size in (0.2, 0):
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu", devices=2, val_size=val_size)
        with pytest.raises(ValueError, match=r"with devices=2 here \(a notebook or an interactive session\), "
                                             r"Lightning trains in forked child processes"):
            est.fit(_series())
        assert not hasattr(est, "network_")


def test_auto_devices_where_lightning_would_fork_train_on_one_with_a_warning(monkeypatch):
    from lightning.pytorch.accelerators import CPUAccelerator

    monkeypatch.setattr("lightning.pytorch.trainer.connectors.accelerator_connector._IS_INTERACTIVE", True)
    monkeypatch.setattr(CPUAccelerator, "auto_device_count", staticmethod(lambda: 2))  # as on a 2-GPU machine
    with pytest.warns(UserWarning, match=r"devices='auto' found 2 devices, but here \(a notebook or an interactive "
                                         r"session\) Lightning trains in forked child processes"):
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=2, accelerator="cpu", val_size=0.2,
                              random_state=0).fit(_series())
    assert est.history_["epochs"] == 2 and est.history_["best_val_loss"] is not None


@pytest.mark.parametrize("spec, argv, where", [
    (None, ["-c"], r"code run by python -c, from stdin or by a worker process \(its command line is \['-c'\]\)"),
    ("joblib.externals.loky.backend.popen_loky_posix", ["x", "--pipe", "9"],
     r"a worker process \(joblib\.externals\.loky\.backend\.popen_loky_posix\), e\.g\. of GridSearchCV or "
     r"cross_val_score with n_jobs > 1"),
])
def test_several_devices_where_ddp_cannot_run_this_program_again_are_refused(monkeypatch, spec, argv, where):
    # Lightning's 'ddp' reruns the command line for each other device; a loky worker's or python -c's
    # failed in the child, and Lightning then SIGKILLed this process (a joblib TerminatedWorkerError)
    import importlib.machinery
    import sys

    monkeypatch.setattr(sys.modules["__main__"], "__spec__", spec and importlib.machinery.ModuleSpec(spec, None))
    monkeypatch.setattr(sys, "argv", argv)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu", devices=2)
    with pytest.raises(ValueError, match=rf"with devices=2 here \({where}\), Lightning would start a process per "
                                         r"device by running this program's command line again.*devices=1"):
        est.fit(_series())
    assert not hasattr(est, "network_")
    from lightning.pytorch.accelerators import CPUAccelerator

    monkeypatch.setattr(CPUAccelerator, "auto_device_count", staticmethod(lambda: 2))  # as on a 2-GPU machine
    with pytest.warns(UserWarning, match=r"devices='auto' found 2 devices, but here .* training on one device"):
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu").fit(_series())
    assert est.history_["epochs"] == 1


def test_a_script_that_changed_folder_is_told_to_start_by_its_absolute_path(monkeypatch, tmp_path):
    # Lightning reruns os.path.abspath(sys.argv[0]), which from the new folder names no file
    import sys

    (tmp_path / "train.py").write_text("")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "train.py").write_text("")  # another program of that name: it ran as rank 1
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(tmp_path / "train.py"), raising=False)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu", devices=2)
    with pytest.raises(ValueError, match=r"here \(a script started as 'train.py' from another working folder than "
                                         r"this one, .*elsewhere\), Lightning would start .*; start the script by its "
                                         r"absolute path, or change folder \(os.chdir\) after the fit$"):
        est.fit(_series())


def test_one_device_ddp_trains_anywhere_and_restores_the_callers_thread_count(monkeypatch):
    # one process starts no other: python -c's command line is never rerun (it was refused); Lightning
    # set the thread count to the cores per process and left it so
    import sys

    for name in ("OMP_NUM_THREADS", "MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)  # and restored after, with Lightning's left here
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)
    monkeypatch.setattr(sys, "argv", ["-c"])
    before = torch.get_num_threads()
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # Lightning's count would differ from the caller's 1
    torch.set_num_threads(1)
    try:
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu", devices=1,
                              trainer_kwargs={"strategy": "ddp"}).fit(_series())
        assert est.history_["epochs"] == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


@pytest.mark.parametrize("devices", [-1, [0]])
def test_devices_a_cpu_cannot_take_are_value_errors(devices):
    with pytest.raises(ValueError, match=rf"cannot train with accelerator='cpu', devices={re.escape(repr(devices))}"):
        ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, accelerator="cpu", devices=devices).fit(_series())


def test_numpy_integer_devices_are_taken():
    est = CycleNetForecaster(**SMALL, accelerator="cpu", devices=np.int64(1)).fit(_series())
    np.testing.assert_array_equal(est.predict(fh=[1]), CycleNetForecaster(**SMALL).fit(_series()).predict(fh=[1]))
