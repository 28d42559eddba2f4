"""benchmarks/classification.py: its recorded command, its argument checks, --out and the merge key (no fitting:
``run`` is replaced by one that says which seed it was given)."""

from __future__ import annotations

import json
import shlex

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def classification(benchmark_script):
    return benchmark_script("classification")


@pytest.fixture
def fake_run(classification, monkeypatch):
    """``run`` without fitting: accuracy 0.5 + seed / 100; the seeds run are recorded."""
    ran = []

    def run(factory, name, seed, data_dir):
        ran.append(seed)
        return 0.5 + seed / 100, 0.1

    monkeypatch.setattr(classification, "run", run)
    return ran


def _committed(classification):
    return {name: (classification.RESULTS / name).read_bytes() for name in ("classification.csv", "classification.md")}


def _pgn(out, *extra):
    return ["--models", "PGNClassifier", "--datasets", "ItalyPowerDemand", "--out", str(out), *extra]


def test_the_recorded_command_pastes_into_a_shell_as_run(classification, fake_run, tmp_path):
    argv = _pgn(tmp_path / "trial run", "--seeds", "0", "1")
    assert classification.main(argv) == 0
    command = pd.read_csv(tmp_path / "trial run" / "classification.csv")["command"].item()
    assert shlex.split(command) == ["python", "benchmarks/classification.py", *argv]


def test_every_committed_command_parses_to_its_row(classification):
    parser = classification.build_parser(classification.classifiers())
    table = classification.read_results(classification.RESULTS / "classification.csv")
    assert classification.ROCKET_MODEL in set(table["model"])  # the name with a space and brackets
    for row in table.itertuples():
        words = shlex.split(row.command)
        assert words[:2] == ["python", "benchmarks/classification.py"]
        args = parser.parse_args(words[2:])
        labels = {classification.model_label(model, json.loads(args.params)) for model in args.models}
        assert row.model in labels and row.dataset in args.datasets, row.command
        assert " ".join(map(str, args.seeds)) == row.seed_list and len(args.seeds) == row.seeds, row.command


@pytest.mark.parametrize("extra, message", [
    (["--threads", "0"], "--threads"),
    (["--seeds", "-1"], "--seeds"),
    (["--models", "Bogus"], "--models"),
    (["--datasets", "ItalyPowerDemand", "Foo"], "Foo"),
    (["--data-dir", "/no/such/folder"], "--data-dir: data_dir '/no/such/folder' does not exist"),
    (["--params", '{"pool": "first"}'], "--params does not suit PGNClassifier"),
    (["--params", '{"random_state": 3}'], "--params: ['random_state'] are set by --seeds"),
    (["--params", '{"max_epochs": 3}', "--models", "ROCKET (sktime)"], "is a fixed reference (--models names it)"),
])
def test_bad_arguments_exit_2_with_a_message_before_any_fit(classification, fake_run, tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_:
        classification.main(_pgn(tmp_path / "out", "--seeds", "0") + extra)
    error = capsys.readouterr().err.strip().splitlines()[-1]  # not the usage lines, which name every option
    assert exit_.value.code == 2 and "error: " in error and message in error
    assert fake_run == [] and not (tmp_path / "out").exists()


def test_out_writes_there_and_leaves_the_committed_results_alone(classification, fake_run, tmp_path):
    before = _committed(classification)
    assert classification.main(_pgn(tmp_path, "--seeds", "0")) == 0
    assert _committed(classification) == before
    table = pd.read_csv(tmp_path / "classification.csv")
    assert list(table["model"]) == ["PGNClassifier"] and table["accuracy"].item() == 0.5
    assert "| PGNClassifier | ItalyPowerDemand | 1 (0) | 0.5000 |" in (tmp_path / "classification.md").read_text()


def test_other_seeds_add_a_row_and_a_rerun_replaces_its_own(classification, fake_run, tmp_path, monkeypatch):
    classification.main(_pgn(tmp_path, "--seeds", "0", "1", "2"))
    classification.main(_pgn(tmp_path, "--seeds", "5"))
    monkeypatch.setattr(classification, "run", lambda *a: (0.9, 0.1))  # the rerun measures something else
    classification.main(_pgn(tmp_path, "--seeds", "5"))
    table = classification.read_results(tmp_path / "classification.csv")
    assert list(zip(table["seed_list"], table["accuracy"])) == [("0 1 2", 0.51), ("5", 0.9)]
    text = (tmp_path / "classification.md").read_text()
    assert "| 3 (0-2) | 0.5100 |" in text and "| 1 (5) | 0.9000 |" in text


def test_a_trial_row_keeps_the_committed_rows_and_rocket_stays_one_number(classification):
    committed = classification.read_results(classification.RESULTS / "classification.csv")
    rocket = committed[committed["model"] == classification.ROCKET_MODEL].iloc[0].to_dict()
    merged = classification.merge(committed, rocket | {"seeds": 1, "seed_list": "7", "accuracy": 0.1})
    assert len(merged) == len(committed) + 1
    # ROCKET's row predates the commit and date columns: its NaNs make them object, not text, here; the file is the same
    kept = merged[merged["accuracy"] != 0.1].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, committed, check_dtype=False)
    # every model's row still shows the committed ROCKET run on its seeds, not the trial's
    line = next(line for line in classification.render_markdown(merged).splitlines()
                if line.startswith(f"| PGNClassifier | {rocket['dataset']} |"))
    assert f"| {rocket['accuracy']:.4f} |" in line
    replaced = classification.merge(committed, rocket | {"accuracy": 0.1})
    assert len(replaced) == len(committed) and 0.1 in set(replaced["accuracy"])


def test_the_committed_markdown_is_rendered_from_the_csv(classification):
    table = classification.read_results(classification.RESULTS / "classification.csv")
    text, rendered = (classification.RESULTS / "classification.md").read_text(), classification.render_markdown(table)
    rest = text.removeprefix(rendered)  # then the provenance of the run that wrote it, which the CSV does not hold
    assert text.startswith(rendered)
    assert rest == "" or (rest.startswith("\nMeasured at commit ") and rest.count("\n") == 2)


def test_params_reach_every_fit_and_label_their_rows_beside_the_default_ones(classification, monkeypatch, tmp_path):
    made = []

    def run(factory, name, seed, data_dir):
        made.append(factory(random_state=seed).get_params())
        return 0.5, 0.1

    monkeypatch.setattr(classification, "run", run)
    classification.main(_pgn(tmp_path, "--seeds", "0"))
    classification.main(_pgn(tmp_path, "--seeds", "0", "--params", '{"pool": "mean", "hidden": 8}'))
    assert [(p["pool"], p["hidden"], p["random_state"]) for p in made] == [("last", 64, 0), ("mean", 8, 0)]
    table = classification.read_results(tmp_path / "classification.csv")
    assert list(table["model"]) == ["PGNClassifier", 'PGNClassifier {"hidden": 8, "pool": "mean"}']
    assert '| PGNClassifier {"hidden": 8, "pool": "mean"} | ItalyPowerDemand | 1 (0) |' in (
        tmp_path / "classification.md").read_text()
