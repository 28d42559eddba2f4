"""Outputs that cannot be written: found before the slow part, reported as one line naming the output.

A read-only folder is simulated (tests may run as root, where chmod does not stop writes); a full
disk is an OSError(ENOSPC) from the writer.
"""

from __future__ import annotations

import errno
from pathlib import Path

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import tsrec.batch._models as models_module
import tsrec.batch.forecast as forecast_module
import tsrec.demo
from tsrec import _files
from tsrec._files import check_writable
from tsrec.batch import forecast_files
from tsrec.cli import main
from tsrec.estimators import ARNetForecaster


def refuse_files_in(folder: Path, monkeypatch) -> None:
    """Make creating a file in ``folder`` fail as it does in a read-only folder."""
    mkstemp = _files.tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / ".tsrec-probe-x.tmp"))
        return mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(_files.tempfile, "mkstemp", read_only)


def one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(f"tsrec {command}: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert ".tmp" not in err  # the hidden temporary name means nothing to the user
    assert "[Errno" not in err  # str() of an OSError starts so; the message is for people
    return err


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A saved AR-Net and a long CSV of two hourly series."""
    folder = tmp_path_factory.mktemp("unwritable")
    t = pd.date_range("2024-01-01", periods=30, freq="h")
    pd.concat([pd.DataFrame({"unique_id": k, "ds": t, "y": np.sin(np.arange(30.0) / (i + 2))})
               for i, k in enumerate("ab")]).to_csv(folder / "in.csv", index=False)
    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(np.sin(np.arange(30.0))).save(
        folder / "model"
    )
    return folder


def test_check_writable_probes_the_nearest_existing_folder_and_leaves_nothing(tmp_path, monkeypatch):
    check_writable(tmp_path / "new" / "deeper", tmp_path / "new" / "deeper" / "f.csv", "choose another")
    assert list(tmp_path.iterdir()) == []
    refuse_files_in(tmp_path, monkeypatch)
    output = tmp_path / "new" / "f.csv"
    with pytest.raises(PermissionError) as caught:
        check_writable(output.parent, output, "give another --output")
    assert str(caught.value) == (
        f"[Errno 13] cannot write {output} (creating a file in {tmp_path} failed): Permission denied; "
        "give another --output"
    )


@pytest.mark.parametrize("name", ["new.csv", "sub/new.parquet"])
def test_an_unwritable_output_fails_before_the_input_is_read(saved, tmp_path, monkeypatch, name):
    read = []
    monkeypatch.setattr(forecast_module, "read_series", lambda *a, **k: read.append(1))
    refuse_files_in(tmp_path, monkeypatch)
    with pytest.raises(PermissionError, match=rf"cannot write {tmp_path / name} .*; give an output file in a folder"):
        forecast_files(saved / "model", saved / "in.csv", tmp_path / name)
    assert read == [] and list(tmp_path.iterdir()) == []


def test_the_forecast_command_says_which_output_cannot_be_written(saved, tmp_path, monkeypatch, capsys):
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "in.csv"), "--output"]
    refuse_files_in(tmp_path, monkeypatch)
    assert main([*argv, str(tmp_path / "o.csv")]) == 2
    assert (f"cannot write {tmp_path / 'o.csv'} (creating a file in {tmp_path} failed)"
            in one_error_line(capsys, "forecast"))
    monkeypatch.undo()

    def full_disk(self, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    assert main([*argv, str(tmp_path / "o.csv")]) == 2
    err = one_error_line(capsys, "forecast")
    assert f"cannot write {tmp_path / 'o.csv'}: No space left on device; free space on that disk" in err
    assert list(tmp_path.iterdir()) == []


def test_an_os_error_from_below_is_one_line_without_its_errno(saved, tmp_path, monkeypatch, capsys):
    def gone(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "a.csv", None)

    monkeypatch.setattr(forecast_module, "read_series", gone)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "in.csv"), "--output"]
    assert main([*argv, str(tmp_path / "o.csv")]) == 2
    assert one_error_line(capsys, "forecast") == "tsrec forecast: error: No such file or directory: 'a.csv'\n"


# ---- tsrec demo ------------------------------------------------------------------------------


@pytest.fixture
def small_demo(monkeypatch):
    """The demo on the first 1050 hours of ETTh1, so that a test fits in seconds."""
    monkeypatch.setattr(tsrec.demo, "ltsf_split", lambda df, name, lookback: (
        df[:600], df[600 - lookback : 800], df[800 - lookback : 1050]
    ))


def test_a_demo_out_that_cannot_be_written_is_one_line_before_the_fit(tmp_path, monkeypatch, capsys, small_demo):
    loaded = []
    monkeypatch.setattr(tsrec.demo, "load_ett", lambda name: loaded.append(name))
    refuse_files_in(tmp_path, monkeypatch)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--max-epochs", "1"]) == 2
    assert f"cannot write {tmp_path / 'demo'}" in one_error_line(capsys, "demo")
    assert loaded == [] and list(tmp_path.iterdir()) == []


def test_a_failed_demo_write_keeps_the_previous_runs_pair(tmp_path, monkeypatch, capsys, small_demo):
    for name in ("forecasts.csv", "forecast.png"):
        (tmp_path / name).write_text("previous run")

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    assert main(["demo", "--out", str(tmp_path), "--max-epochs", "1"]) == 2
    assert "No space left on device" in one_error_line(capsys, "demo")
    assert [(p.name, p.read_text()) for p in sorted(tmp_path.iterdir())] == [
        ("forecast.png", "previous run"), ("forecasts.csv", "previous run")
    ]
    assert plt.get_fignums() == []  # the figure is closed on failure too


def test_a_demo_output_name_that_is_a_folder_is_refused_before_the_fit(tmp_path, monkeypatch, capsys, small_demo):
    loaded = []
    monkeypatch.setattr(tsrec.demo, "load_ett", lambda name: loaded.append(name))
    (tmp_path / "forecasts.csv").write_text("previous run")
    (tmp_path / "forecast.png").mkdir()
    assert main(["demo", "--out", str(tmp_path), "--max-epochs", "1"]) == 2
    assert "forecast.png: it is a folder" in one_error_line(capsys, "demo")
    assert loaded == [] and (tmp_path / "forecasts.csv").read_text() == "previous run"


def test_atomic_write_all_replaces_nothing_when_a_target_is_a_folder(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    (tmp_path / "b.txt").mkdir()
    with pytest.raises(IsADirectoryError, match=r"b.txt: it is a folder"):
        _files.atomic_write_all({tmp_path / "a.txt": lambda p: p.write_text("new"),
                                 tmp_path / "b.txt": lambda p: p.write_text("new")})
    assert ((tmp_path / "a.txt").read_text() == "old"
            and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"])


# ---- files that cannot be read (simulated: tests may run as root) ----------------------------


def _denied(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize("where", ["input", "model files", "model folder"])
def test_an_unreadable_input_or_model_is_named_with_the_fix(saved, tmp_path, monkeypatch, capsys, where):
    import tsrec.batch._tables
    import tsrec.estimators._folder

    models_module._CACHE.clear()
    if where == "input":
        monkeypatch.setattr(tsrec.batch._tables, "read_csv", _denied)
    elif where == "model files":
        monkeypatch.setattr(tsrec.estimators._folder, "_read_config", _denied)
    else:
        monkeypatch.setattr(Path, "iterdir", _denied)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "in.csv"), "--output",
            str(tmp_path / "o.csv")]
    assert main(argv) == 2
    err = one_error_line(capsys, "forecast")
    named = saved / "in.csv" if where == "input" else saved / "model"
    assert f"cannot read {'' if where == 'input' else 'the saved '}" in err and str(named) in err
    assert "make it readable for this user" in err and "valid csv" not in err


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])  # `timeout` or a batch scheduler; a closed terminal or ssh
def test_a_signal_while_writing_keeps_the_old_output_and_removes_the_temporary_file(saved, tmp_path, monkeypatch,
                                                                                   capsys, name):
    # SIGHUP ended the run at once by default, leaving .o.csv.<hex>.tmp beside the output
    import os
    import signal

    sent = getattr(signal, name)
    (tmp_path / "o.csv").write_text("old")

    def killed_midway(tmp, write):
        tmp.write_text("partial")
        os.kill(os.getpid(), sent)

    before = signal.getsignal(sent)
    monkeypatch.setattr(_files, "_write_temp", killed_midway)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "in.csv"), "--output",
            str(tmp_path / "o.csv")]
    assert main(argv) == 130
    assert capsys.readouterr().err.startswith("tsrec forecast: interrupted")
    assert [(p.name, p.read_text()) for p in tmp_path.iterdir()] == [("o.csv", "old")]
    assert signal.getsignal(sent) is before


def test_the_demo_leaves_the_callers_matplotlib_backend_alone(tmp_path, small_demo):
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        assert main(["demo", "--out", str(tmp_path), "--max-epochs", "1"]) == 0
        assert matplotlib.get_backend() == "svg"  # the demo switched it to Agg for good
        assert (tmp_path / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        matplotlib.use(before)
