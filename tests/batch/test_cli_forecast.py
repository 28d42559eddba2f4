"""`tsrec forecast`: writes the forecasts and exits 0; a user error is one line on stderr and exit 2."""

from __future__ import annotations

import io
import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.batch import forecast_files
from tsrec.cli import main
from tsrec.estimators import ARNetForecaster


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved AR-Net and a wide CSV of three hourly series."""
    folder = tmp_path_factory.mktemp("cli")
    t = pd.date_range("2024-01-01", periods=72, freq="h")
    wide = pd.DataFrame({"ds": t, **{f"m{i}": np.sin(np.arange(72.0) / (i + 2)) + i for i in range(3)}})
    wide.to_csv(folder / "wide.csv", index=False)
    model = ARNetForecaster(n_lags=8, horizon=4, max_epochs=3, random_state=0).fit(wide.set_index("ds")[["m0"]])
    model.save(folder / "model")
    return folder


def test_forecast_command_writes_the_file(saved, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"),
            "--layout", "wide", "--id-col", "meter", "--value-col", "load", "--fh", "6"]
    assert main([*argv, "--output", str(out)]) == 0
    assert "wrote 18 forecasts of 3 series" in capsys.readouterr().out
    got = pd.read_parquet(out)
    assert list(got.columns) == ["meter", "ds", "load_hat"] and len(got) == 18
    expected = forecast_files(
        saved / "model", saved / "wide.csv", tmp_path / "e.csv", layout="wide", id_col="meter", value_col="load", fh=6
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert main([*argv, "--engine", "dask", "--output", str(tmp_path / "d.parquet")]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "d.parquet"), expected, check_exact=True)


def test_dayfirst_and_monthfirst_read_dates_that_read_both_ways(saved, tmp_path, capsys):
    wide = pd.read_csv(saved / "wide.csv", parse_dates=["ds"])  # hours of 1 to 3 January: day and month <= 12
    expected = forecast_files(saved / "model", saved / "wide.csv", tmp_path / "e.csv", layout="wide")
    argv = ["forecast", "--model", str(saved / "model"), "--layout", "wide", "--output", str(tmp_path / "o.csv")]
    for layout, flag in (("%d/%m/%Y %H:%M", "--dayfirst"), ("%m/%d/%Y %H:%M", "--monthfirst")):
        wide.assign(ds=wide["ds"].dt.strftime(layout)).to_csv(tmp_path / "in.csv", index=False)
        assert main([*argv, "--input", str(tmp_path / "in.csv")]) == 2
        assert "or say which: dayfirst=True or False (CLI: --dayfirst or --monthfirst)" in capsys.readouterr().err
        assert main([*argv, "--input", str(tmp_path / "in.csv"), flag]) == 0
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o.csv", parse_dates=["ds"]), expected)
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--input", str(tmp_path / "in.csv"), "--dayfirst", "--monthfirst"])
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_repeated_input_or_columns_option_adds_to_the_earlier_ones(saved, tmp_path, capsys):
    wide = pd.read_csv(saved / "wide.csv")  # 72 hours, split into two files of 36
    wide.iloc[:36].to_csv(tmp_path / "first.csv", index=False)
    wide.iloc[36:].to_csv(tmp_path / "second.csv", index=False)
    argv = ["forecast", "--model", str(saved / "model"), "--layout", "wide", "--output", str(tmp_path / "o.csv"),
            "--input", str(tmp_path / "first.csv"), "--input", str(tmp_path / "second.csv"),
            "--columns", "m0", "--columns", "m2"]
    assert main(argv) == 0
    assert "wrote 8 forecasts of 2 series" in capsys.readouterr().out
    expected = forecast_files(saved / "model", saved / "wide.csv", tmp_path / "e.csv", layout="wide",
                              columns=["m0", "m2"])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "o.csv"), pd.read_csv(tmp_path / "e.csv"))
    assert sorted(expected["unique_id"].unique()) == ["m0", "m2"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--layout": "long"}, r"wide\.csv: missing column\(s\) \['unique_id', 'y'\]; available columns.*; or, "
                               r"if each column but 'ds' is a series \(a wide file\), layout='wide' \(CLI: "
                               r"--layout wide\)"),
        ({"--model": "nowhere"}, "nowhere is not a saved tsrec estimator"),
        ({"--model": "no\nmodel"}, "no model is not a saved tsrec estimator"),  # a newline in it: still one line
        ({"--input": "absent.csv"}, r"absent\.csv: file not found; check the path\n"),
        # quoted in the shell, a pattern reaches tsrec as one name
        ({"--input": "in/part_*.csv"}, r"in/part_\*\.csv: file not found; check the path \(it is read as one file "
                                       r"name, not as a pattern: let the shell expand it, unquoted, or pass "
                                       r"sorted\(Path\('in'\)\.glob\('part_\*\.csv'\)\) in Python\)"),
        ({"--output": "out.xlsx"}, r"out\.xlsx: unknown file extension"),
        ({"--fh": "0"}, "fh must be >= 1"),
        ({"--fh": "-2"}, r"--fh must be >= 1, got -2"),
        ({"--fh": "10000000000000"}, r"fh reaches step 10,000,000,000,000: .* GiB of memory this process may use"),
        ({"--npartitions": "0"}, r"--npartitions must be >= 1, got 0"),
        ({"--scheduler-address": "tcp://1.2.3.4:1", "--engine": "local"}, "--scheduler-address needs --engine dask"),
        ({"--npartitions": "3"}, "--npartitions needs --engine dask or --scheduler-address$"),
        # with --engine local given, --scheduler-address would be refused too
        ({"--npartitions": "3", "--engine": "local"}, "--npartitions needs --engine dask in place of --engine local$"),
        # the files are checked before connecting, which would take its 30 s timeout to fail here
        ({"--scheduler-address": "tcp://127.0.0.1:1", "--model": "nowhere"}, "nowhere is not a saved tsrec estimator"),
    ],
)
def test_user_errors_exit_2_with_one_line(saved, tmp_path, capsys, change, message):
    options = {"--model": str(saved / "model"), "--input": str(saved / "wide.csv"), "--output": str(tmp_path / "o.csv"),
               "--layout": "wide", **change}
    assert main(["forecast", *[part for option in options.items() for part in option]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tsrec forecast: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err)
    assert not (tmp_path / "o.csv").exists()


def test_a_missing_dask_extra_is_one_line_and_exit_2(saved, tmp_path, capsys, monkeypatch):
    for name in ("dask", "dask.dataframe", "distributed"):  # as if tsrec[dask] were not installed
        monkeypatch.setitem(sys.modules, name, None)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"), "--layout", "wide",
            "--output", str(tmp_path / "o.csv"), "--engine", "dask"]
    assert main(argv) == 2
    assert capsys.readouterr().err == ("tsrec forecast: error: engine='dask' needs dask and distributed: "
                                       "pip install dask distributed (or, in the tsrec checkout, pip install -e "
                                       "'.[dask]')\n")
    assert not (tmp_path / "o.csv").exists()


def test_a_long_file_read_as_wide_is_told_the_layout(saved, tmp_path, capsys):
    # the message offered only another --id-col, which led on to a "duplicate time stamps" error
    wide = pd.read_csv(saved / "wide.csv")
    wide.melt(id_vars="ds", var_name="unique_id", value_name="y").to_csv(tmp_path / "long.csv", index=False)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(tmp_path / "long.csv"), "--layout", "wide",
            "--output", str(tmp_path / "o.csv")]
    assert main(argv) == 2
    assert ("series column 'unique_id' has the name of the id column that a wide file is stacked into; pass another "
            "id_col=/--id-col (or rename the column); or, if the file has one row per series and time step (a long "
            "file), layout='long' (CLI: --layout long)") in capsys.readouterr().err
    assert main([*argv[:-4], "--output", str(tmp_path / "o.csv")]) == 0


def test_a_model_path_that_is_a_file_is_named_as_such(saved, tmp_path, capsys):
    argv = ["forecast", "--model", str(saved / "wide.csv"), "--input", str(saved / "wide.csv"), "--layout", "wide",
            "--output", str(tmp_path / "o.csv")]
    assert main(argv) == 2
    assert "wide.csv is not a saved tsrec estimator: a file, not a folder" in capsys.readouterr().err
    zipped = tsrec.load(saved / "model").save(tmp_path / "model.zip", serialization_format="pickle")
    zipped.close()
    argv[2] = str(tmp_path / "model.zip")
    assert main(argv) == 2
    assert ("model.zip is not a saved tsrec estimator: a file, not a folder; pass a folder written by est.save "
            "(CLI: --model); "
            f"{tmp_path / 'model.zip'} is an sktime zip (est.save(path, serialization_format=...)), which "
            f"sktime.base.load(pathlib.Path('{tmp_path / 'model.zip'}')) reads") in capsys.readouterr().err


def test_warnings_are_one_line_each(saved, tmp_path, capsys):
    # an hourly model on daily series: forecast, with a warning in the errors' one-line form
    daily = pd.read_csv(saved / "wide.csv").assign(ds=pd.date_range("2024-01-01", periods=72, freq="D"))
    daily.to_csv(tmp_path / "daily.csv", index=False)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(tmp_path / "daily.csv"), "--layout", "wide",
            "--output", str(tmp_path / "f.csv")]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"tsrec forecast: warning: series '{name}' of y has a step of D, which no series the model was "
                   "fitted on has (h); the model does not read the stamps, so it forecasts it at that step: check "
                   "that this is the model meant for this data (shown once: the same may hold for other series)"
                   for name in ["m0"]]


def test_a_multivariate_model_on_wide_files_is_told_the_long_options(saved, tmp_path, capsys):
    wide = pd.read_csv(saved / "wide.csv", parse_dates=["ds"]).set_index("ds")
    ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, random_state=0).fit(wide[["m0", "m1"]]).save(tmp_path / "mv")
    argv = ["forecast", "--model", str(tmp_path / "mv"), "--input", str(saved / "wide.csv"), "--layout", "wide",
            "--output", str(tmp_path / "f.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "use layout='long' with columns=['m0', 'm1'] (CLI: --layout long --columns m0 m1)" in err
    assert not (tmp_path / "f.csv").exists()


def test_an_output_path_undecodable_in_the_locale_is_written_and_reported(saved, tmp_path, monkeypatch):
    # a Latin-1 byte in a UTF-8 locale: the file was written, then printing its name raised UnicodeEncodeError
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    out = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.csv")  # the byte as a surrogate, as argv holds it
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"), "--layout", "wide"]
    assert main([*argv, "--output", out]) == 0
    stdout.seek(0)
    assert stdout.buffer.read().decode().endswith("caf\\udce9.csv\n") and os.path.exists(out)


def test_a_scheduler_address_runs_the_forecasts_there(saved, tmp_path, capsys):
    import distributed  # the [dask] extra, which make test installs
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"), "--layout", "wide"]
    assert main([*argv, "--output", str(tmp_path / "local.csv")]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        assert main([*argv, "--output", str(tmp_path / "dask.csv"),
                     "--scheduler-address", cluster.scheduler_address]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "local.csv"))


@pytest.mark.parametrize("address, message", [
    ("", r"the scheduler address \(client=, CLI: --scheduler-address\) is empty; give the scheduler's address as "
         r"tcp://HOST:PORT"),
    ("tcp://host:notaport", r"'tcp://host:notaport' \(client=, CLI: --scheduler-address\) cannot be read: invalid "
                            r"literal .*'notaport'; give"),
    ("127.0.0.1", r"cannot be read: missing port number .*; give the scheduler's address as tcp://HOST:PORT"),
    ("foo://10.0.0.5:8786", r"cannot be read: unknown address scheme 'foo'"),
    ("tcp://host:99999", r"has port 99999, outside 1\.\.65535"),
    ("tcp://host:0", r"has port 0, outside 1\.\.65535"),  # distributed reads 0 as "any free port"
])
def test_a_bad_scheduler_address_is_refused_before_any_file_is_read(saved, tmp_path, capsys, address, message):
    # distributed parsed it only when connecting, after every file was read, in its own words; an empty
    # one was told to add --engine dask, and then got distributed's words
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(tmp_path / "unread.csv"),
            "--output", str(tmp_path / "o.csv"), "--scheduler-address", address]
    assert main(argv) == 2
    assert re.search(message, capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_a_value_column_that_would_not_be_read_is_refused(saved, tmp_path, capsys):
    long = pd.read_csv(saved / "wide.csv").melt(id_vars="ds", var_name="unique_id", value_name="y")
    long.to_csv(tmp_path / "long.csv", index=False)
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(tmp_path / "long.csv"),
            "--output", str(tmp_path / "o.csv")]
    # --columns replaces it: it was dropped without a word
    assert main([*argv, "--columns", "y", "--value-col", "load"]) == 2
    assert re.search(r"value_col='load' \(CLI: --value-col\) would not be read: a long file's values are read from "
                     r"columns=\['y'\]; drop value_col", capsys.readouterr().err)
    assert main([*argv, "--value-col", "y", "--columns", "y"]) == 0  # the default, said: no conflict
    t = pd.date_range("2024-01-01", periods=72, freq="h")
    two = pd.DataFrame({"a": np.sin(np.arange(72.0) / 3), "b": np.cos(np.arange(72.0) / 5)}, index=t)
    multivariate = ARNetForecaster(n_lags=8, horizon=4, max_epochs=1).fit(two)
    with pytest.raises(ValueError, match=r"value_col='a' .* read from the model's variates \['a', 'b'\]"):
        forecast_files(multivariate, tmp_path / "long.csv", tmp_path / "m.csv", value_col="a")


def test_forecasts_are_not_written_into_the_model_folder(saved, tmp_path, capsys):
    # a save over that folder then refused it: "exists and is not a saved tsrec estimator"
    for output in (saved / "model" / "f.csv", saved / "model" / ".." / "model" / "sub" / "f.csv"):
        argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"), "--layout", "wide",
                "--output", str(output)]
        assert main(argv) == 2
        assert "is inside the model folder" in capsys.readouterr().err
    assert sorted(p.name for p in (saved / "model").iterdir()) == ["config.json", "weights.safetensors"]


def test_forecasts_of_a_model_object_are_not_written_into_a_saved_model_folder(saved):
    model = tsrec.load(saved / "model")
    with pytest.raises(ValueError, match=r"f.csv is inside the model folder .*model; write the forecasts elsewhere"):
        forecast_files(model, saved / "wide.csv", saved / "model" / "f.csv", layout="wide")
    assert sorted(p.name for p in (saved / "model").iterdir()) == ["config.json", "weights.safetensors"]


def test_several_fh_steps_are_answered_with_what_fh_takes(saved, tmp_path, capsys):
    # sktime users write steps; "unrecognized arguments: 2 3" came from the top parser, naming no fix
    argv = ["forecast", "--model", str(saved / "model"), "--input", str(saved / "wide.csv"), "--layout", "wide",
            "--output", str(tmp_path / "o.csv"), "--fh"]
    assert main([*argv, "1", "2", "3"]) == 2
    assert capsys.readouterr().err == ("tsrec forecast: error: --fh takes one integer N, the steps 1..N; for other "
                                       "steps, call tsrec.batch.forecast_files(..., fh=[1, 3]); got 1 2 3\n")
    with pytest.raises(SystemExit) as exit_info:  # a malformed option: argparse's usage, then the line
        main([*argv, "1,2,3"])
    assert exit_info.value.code == 2
    assert "argument --fh: takes one integer N, the steps 1..N; for other steps" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
