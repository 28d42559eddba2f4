"""benchmarks/probabilistic.py: a tiny real run, its recorded command, its argument checks, --out, the merge
key and atomic writes."""

from __future__ import annotations

import errno
import json
import shlex

import numpy as np
import pandas as pd
import pytest

TINY = '{"d_model": 8, "d_state": 8, "n_layers": 1, "max_epochs": 1, "n_samples": 4, "batch_size": 256}'


@pytest.fixture(scope="module")
def probabilistic(benchmark_script):
    return benchmark_script("probabilistic")


@pytest.fixture
def fake_run(probabilistic, monkeypatch):
    """``run`` without fitting: a committed row with the arguments' key; the calls are recorded."""
    committed = pd.read_csv(probabilistic.RESULTS / "probabilistic.csv", dtype={"params": str}).iloc[0].to_dict()
    calls = []

    def run(args):
        calls.append(args)
        key = {"params": args.params, "seed": args.seed, "lookback": args.lookback, "horizon": args.horizon,
               "stride": args.stride}
        return {k: v for k, v in committed.items() if k != "command"} | key | {"mse": 0.5 + args.seed / 1000}

    monkeypatch.setattr(probabilistic, "run", run)
    return calls


def _committed(probabilistic):
    return {name: (probabilistic.RESULTS / name).read_bytes() for name in ("probabilistic.csv", "probabilistic.md")}


def test_a_tiny_run_scores_its_test_windows(probabilistic, tmp_path):
    argv = ["--params", TINY, "--lookback", "24", "--horizon", "12", "--stride", "480", "--seed", "0",
            "--out", str(tmp_path / "trial run")]
    assert probabilistic.main(argv) == 0
    row = pd.read_csv(tmp_path / "trial run" / "probabilistic.csv").iloc[0]
    assert (row["windows"] == 6 and row["n_samples"] == 4
            and np.isfinite(row[["mse", "crps", "coverage80"]].astype(float)).all())
    assert shlex.split(row["command"]) == ["python", "benchmarks/probabilistic.py", *argv]


@pytest.mark.parametrize("extra, message", [
    (["--column", "Bogus"], "--column"),
    (["--stride", "-24"], "--stride"),
    (["--model", "CycleNetForecaster"], "--model"),
    (["--threads", "0"], "--threads"),
    (["--dataset", "Foo"], "--dataset"),
    (["--horizon", "0"], "--horizon"),
    (["--horizon", "5000"], "--horizon"),
    (["--seed", "-1"], "--seed"),
    (["--params", "{bad"], "--params"),
    (["--params", '{"no_such_option": 1}'], "--params"),
    (["--params", '{"max_epochs": 0}'], "max_epochs must be an integer >= 1"),
])
def test_bad_arguments_exit_2_with_a_message_before_any_fit(probabilistic, fake_run, tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_:
        probabilistic.main(["--params", TINY, "--out", str(tmp_path / "out"), *extra])
    error = capsys.readouterr().err.strip().splitlines()[-1]  # not the usage lines, which name every option
    assert exit_.value.code == 2 and "error: " in error and message in error
    assert fake_run == [] and not (tmp_path / "out").exists()


def test_out_writes_there_and_leaves_the_committed_results_alone(probabilistic, fake_run, tmp_path):
    before = _committed(probabilistic)
    assert probabilistic.main(["--params", TINY, "--seed", "3", "--out", str(tmp_path)]) == 0
    assert _committed(probabilistic) == before
    table = pd.read_csv(tmp_path / "probabilistic.csv", dtype={"params": str})
    assert list(zip(table["params"], table["seed"])) == [(TINY, 3)]


def test_other_seeds_add_a_row_and_a_rerun_replaces_its_own(probabilistic, fake_run, tmp_path):
    for seed in ("3", "4", "3"):
        probabilistic.main(["--params", TINY, "--seed", seed, "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "probabilistic.csv")
    assert list(table["seed"]) == [4, 3] and len(fake_run) == 3


def test_another_stride_adds_a_row_where_a_rerun_replaces_its_own(probabilistic, fake_run, tmp_path):
    # the stride was not in the key: a run at stride 1 replaced the committed stride-24 row
    for stride in ("24", "1", "24"):
        probabilistic.main(["--params", TINY, "--seed", "3", "--stride", stride, "--out", str(tmp_path)])
    table = probabilistic.read_results(tmp_path / "probabilistic.csv")
    assert sorted(table["stride"]) == [1, 24]


def test_rows_saved_without_a_stride_read_as_the_default_the_horizon(probabilistic, tmp_path):
    table = probabilistic.read_results(probabilistic.RESULTS / "probabilistic.csv")
    table.drop(columns="stride").to_csv(tmp_path / "old.csv", index=False)
    pd.testing.assert_frame_equal(probabilistic.read_results(tmp_path / "old.csv"), table)
    assert (table["stride"] == table["horizon"]).all()  # every committed command ran without --stride
    assert not table["command"].str.contains("--stride").any()


def test_a_failed_write_leaves_the_old_files(probabilistic, fake_run, tmp_path, monkeypatch):
    before = _committed(probabilistic)
    for name, text in before.items():
        (tmp_path / name).write_bytes(text)
    to_csv = pd.DataFrame.to_csv

    def full_disk(self, path, **kwargs):  # half the rows reach the disk, as when it fills up
        to_csv(self.iloc[: len(self) // 2], path, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    monkeypatch.setattr(probabilistic, "RESULTS", tmp_path)  # the default --out: in place, the rows were cut off
    with pytest.raises(OSError):
        probabilistic.main(["--params", TINY, "--seed", "3"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # and no temporary file is left


def test_the_committed_markdown_is_rendered_from_the_csv(probabilistic):
    table = probabilistic.read_results(probabilistic.RESULTS / "probabilistic.csv")
    text, rendered = (probabilistic.RESULTS / "probabilistic.md").read_text(), probabilistic.render_markdown(table)
    rest = text.removeprefix(rendered)  # then the provenance of the run that wrote it, which the CSV does not hold
    assert text.startswith(rendered)
    assert rest == "" or (rest.startswith("\nMeasured at commit ") and rest.count("\n") == 2)
    assert all(json.loads(shlex.split(c)[shlex.split(c).index("--params") + 1]) == json.loads(p)
               for c, p in zip(table["command"], table["params"]))
