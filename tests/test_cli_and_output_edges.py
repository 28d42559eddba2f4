"""The command line's and the output writer's refusals at their edges (each pinned by a mutant that lived)."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest

import tsrec.batch
import tsrec.demo
from tsrec.batch.io import write_forecasts
from tsrec.cli import main
from tsrec.errors import InputError


def _forecast_args(tmp_path: Path) -> list[str]:
    return ["forecast", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.csv"),
            "--output", str(tmp_path / "out.csv")]


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# (kills io21: an OSError of the Parquet writer (a full disk) turned
# into an InputError "cannot write ... as Parquet", which tells the user to change the column types)
def test_parquet_os_error_stays_an_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyarrow")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full_disk)
    with pytest.raises(OSError, match="No space left on device") as info:
        write_forecasts(pd.DataFrame({"y": [1.0]}), tmp_path / "out.parquet")
    assert not isinstance(info.value, InputError)
    assert not (tmp_path / "out.parquet").exists()


# (kills cl08: the OSError's "[Errno 28] " prefix kept in the one line)
def test_forecast_os_error_is_one_line_without_errno(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tsrec.batch, "forecast_files", _full_disk)
    assert main(_forecast_args(tmp_path)) == 2
    assert capsys.readouterr().err == "tsrec forecast: error: No space left on device\n"


# (kills cl11: a TypeError (non-numeric values) gave a traceback)
def test_forecast_type_error_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def text_values(*args, **kwargs):
        raise TypeError("in.csv: column 'y' has non-numeric values (e.g. 'x' at data row 1)")

    monkeypatch.setattr(tsrec.batch, "forecast_files", text_values)
    assert main(_forecast_args(tmp_path)) == 2
    assert capsys.readouterr().err == ("tsrec forecast: error: in.csv: column 'y' has non-numeric values "
                                       "(e.g. 'x' at data row 1)\n")


# (kills cl12: an OSError of `tsrec demo` (a full disk) gave a traceback)
def test_demo_os_error_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tsrec.demo, "run_demo", _full_disk)
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    assert capsys.readouterr().err == "tsrec demo: error: No space left on device\n"
