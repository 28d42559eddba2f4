"""The tsrec command: the demo job end to end (few epochs) and the estimator listing."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from tsrec.cli import main
from tsrec.datasets import load_ett


def test_demo_writes_forecasts_and_plot(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--max-epochs", "2"]) == 0
    out = capsys.readouterr().out
    for label in ("CycleNet/Linear (tsrec)", "seasonal naive", "repeat last", "2785 test windows"):
        assert label in out
    forecasts = pd.read_csv(tmp_path / "forecasts.csv", nrows=200)
    assert list(forecasts.columns[:3]) == ["origin", "step", "date"] and forecasts["step"].max() == 96
    dates = pd.to_datetime(forecasts["date"]) - pd.to_datetime(forecasts["origin"])
    assert (dates == pd.to_timedelta(forecasts["step"], unit="h")).all()
    # in the data's units: near the oil temperatures they forecast (about 9 degrees; 1 standard deviation is 8.6)
    truth = load_ett("ETTh1")["OT"].reindex(pd.to_datetime(forecasts["date"])).to_numpy()
    assert np.abs(forecasts["OT"].to_numpy() - truth).mean() < 2
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*tmp"))


def test_list_uses_the_registry(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "CycleNetForecaster" in out and "ARNetForecaster" in out


def test_the_command_runs_outside_the_main_thread(capsys):
    # a notebook's or a server's worker thread, where Python refuses to set signal handlers
    result = {}
    thread = threading.Thread(target=lambda: result.update(status=main(["list"])))
    thread.start()
    thread.join()
    assert result == {"status": 0} and "CycleNetForecaster" in capsys.readouterr().out


@pytest.mark.parametrize("out", ["taken", "taken/sub"])
def test_demo_out_on_a_file_is_one_line_and_exit_2(tmp_path, capsys, out):
    (tmp_path / "taken").write_text("not a folder\n")
    assert main(["demo", "--out", str(tmp_path / out), "--max-epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tsrec demo: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'taken'} is a file, not a folder" in err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--seed", "-1", "--seed must be from 0 to 4294967295, got -1"),
        ("--seed", str(2**32), "--seed must be from 0 to 4294967295, got 4294967296"),
        ("--max-epochs", "0", "--max-epochs must be >= 1, got 0"),
    ],
)
def test_demo_numbers_out_of_range_are_one_line_and_exit_2(tmp_path, capsys, option, value, message):
    assert main(["demo", "--out", str(tmp_path / "out"), "--max-epochs", "1", option, value]) == 2
    err = capsys.readouterr().err
    assert err == f"tsrec demo: error: {message}\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value", [("--seed", "0"), ("--seed", str(2**32 - 1)), ("--max-epochs", "1")])
def test_numbers_at_the_ends_of_their_range_are_taken(option, value):
    from tsrec.cli import _out_of_range, _parser

    assert _out_of_range(_parser().parse_args(["demo", option, value])) is None


@pytest.mark.parametrize("by_signal", [False, True], ids=["Ctrl-C", "SIGTERM"])
def test_an_interrupted_run_says_so_in_one_line_and_exits_130(monkeypatch, capsys, by_signal):
    import os
    import signal

    import tsrec.cli

    def interrupted(args):
        if not by_signal:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)  # as `timeout` or a batch scheduler sends it
        return 0

    def ours(*_):  # without tsrec's handler the signal ends here, not in ending pytest
        pass

    previous = signal.signal(signal.SIGTERM, ours)
    try:
        monkeypatch.setattr(tsrec.cli, "_run", interrupted)
        assert main(["list"]) == 130
        assert signal.getsignal(signal.SIGTERM) is ours  # tsrec's handler lasts the run only
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    assert err.startswith("tsrec list: interrupted; ") and err.count("\n") == 1


def test_python_dash_m_tsrec_is_the_command():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "tsrec", "list"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "CycleNetForecaster" in run.stdout and "PGNClassifier" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "tsrec", "forecast"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "usage: tsrec forecast" in bad.stderr


def test_a_sigterm_after_the_work_does_not_turn_a_finished_run_into_a_failure():
    # the interpreter's shutdown takes most of a second after the output is written; a SIGTERM in it
    # (sent here from an exit handler, which runs in that shutdown) ended the run with status 143
    import subprocess
    import sys

    code = ("import atexit, os, signal; from tsrec import cli; "
            "atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM)); "
            "cli.main = lambda: print('wrote') or 0; cli.run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "wrote\n"), done.stderr


def test_an_empty_demo_out_is_refused_not_read_as_the_working_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "", "--max-epochs", "1"]) == 2
    assert capsys.readouterr().err == ("tsrec demo: error: --out/out must name a folder, got ''; "
                                       "e.g. --out demo_output\n")
    assert list(tmp_path.iterdir()) == []


def test_version_flag_prints_the_version_and_exits_0(capsys):
    import tsrec

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"tsrec {tsrec.__version__}\n"


@pytest.mark.parametrize("inside", ["", "sub"])
def test_demo_out_inside_a_saved_model_folder_is_refused_before_the_fit(tmp_path, capsys, inside):
    # its files there would make a later save over that folder refuse it as not a tsrec save
    from tsrec.estimators import ARNetForecaster

    ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(pd.Series(range(30), dtype=float)).save(tmp_path / "m")
    assert main(["demo", "--out", str(tmp_path / "m" / inside), "--max-epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"is {'inside ' if inside else ''}the saved model folder {tmp_path / 'm'}; give --out/out a folder" in err
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "weights.safetensors"]


def test_an_interrupt_that_pandas_turns_into_a_parse_error_still_exits_130(monkeypatch, capsys):
    # pandas' C reader raises a ParserError for a KeyboardInterrupt inside its read(): the run said the
    # user's file was no valid CSV and exited 2
    import os
    import signal

    import tsrec.batch

    def reading(*_args, **_kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered to tsrec's handler
        except KeyboardInterrupt:
            raise ValueError("Error tokenizing data. C error: Calling read(nbytes) on source failed") from None
        raise AssertionError("the signal was not delivered")

    monkeypatch.setattr(tsrec.batch, "forecast_files", reading)
    previous = signal.getsignal(signal.SIGINT)
    assert main(["forecast", "--model", "m", "--input", "in.csv", "--output", "out.csv"]) == 130
    assert signal.getsignal(signal.SIGINT) is previous  # tsrec's handler lasts the run only
    err = capsys.readouterr().err
    assert err.startswith("tsrec forecast: interrupted; ") and err.count("\n") == 1
