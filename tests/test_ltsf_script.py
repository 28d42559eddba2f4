"""benchmarks/ltsf.py: the windows it scores (all, or with --drop-last those a test loader keeps), its recorded
command, its argument checks, --out and the merge key."""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def ltsf(benchmark_script):
    return benchmark_script("ltsf")


def test_drop_last_keeps_the_first_multiple_of_the_batch(ltsf):
    err = np.arange(70.0)[:, None]
    assert len(ltsf.scored_windows(err, 0)) == 70
    np.testing.assert_array_equal(ltsf.scored_windows(err, 32), err[:64])


def test_repeat_last_scores_the_kept_windows_only(ltsf):
    values = np.random.default_rng(0).standard_normal((50, 2)).cumsum(axis=0)
    test = pd.DataFrame(values)
    lookback, horizon = 4, 3  # 44 windows: 32 kept
    errors = np.stack([values[s + lookback:s + lookback + horizon] - values[s + lookback - 1] for s in range(44)])
    mse_all, mae_all, _, _, n_all = ltsf.repeat_last_scores(test, lookback, horizon)
    mse_kept, mae_kept, _, _, n_kept = ltsf.repeat_last_scores(test, lookback, horizon, drop_last=32)
    assert (n_all, n_kept) == (44, 32)
    assert mse_all == pytest.approx(np.mean(errors**2)) and mae_all == pytest.approx(np.mean(np.abs(errors)))
    assert (mse_kept == pytest.approx(np.mean(errors[:32] ** 2))
            and mae_kept == pytest.approx(np.mean(np.abs(errors[:32]))))
    assert mse_kept != pytest.approx(mse_all)


def test_a_negative_drop_last_is_refused(ltsf, capsys):
    with pytest.raises(SystemExit):
        ltsf.main(["--model", "repeat-last", "--drop-last", "-1"])
    assert "argument --drop-last: must be an integer >= 0, got -1" in capsys.readouterr().err


# ---- the command, the arguments, --out and the merge key -------------------------------------------------------

@pytest.fixture
def fake_fit(ltsf, monkeypatch):
    """run_one without fitting: MSE 0.5 + seed / 1000, so that a row tells which seeds made it; the seeds
    fitted are recorded (an argument refused must be refused before any of them)."""
    fitted = []

    def run_one(model, params, name, lookback, horizon, seed, *rest):
        fitted.append(seed)
        return 0.5 + seed / 1000, 0.4, 1, 0.1, 2785

    monkeypatch.setattr(ltsf, "run_one", run_one)
    return fitted


def _committed(ltsf):
    return {name: (ltsf.RESULTS / name).read_bytes() for name in ("ltsf.csv", "ltsf.md")}


def _cyclenet(data_dir, out, *extra):
    return ["--model", "CycleNetForecaster", "--datasets", "ETTh1", "--horizons", "24", "--data-dir", str(data_dir),
            "--out", str(out), *extra]


def test_the_recorded_command_pastes_into_a_shell_as_run(ltsf, fake_fit, data_dir, tmp_path):
    argv = _cyclenet(data_dir, tmp_path / "trial run", "--seeds", "0",
                     "--params", '{"max_epochs": 1, "backbone": "linear"}')
    assert ltsf.main(argv) == 0
    command = pd.read_csv(tmp_path / "trial run" / "ltsf.csv")["command"].item()
    assert shlex.split(command) == ["python", "benchmarks/ltsf.py", *argv]


def test_every_committed_command_parses_to_its_row(ltsf):
    table = ltsf.read_results(ltsf.RESULTS / "ltsf.csv")
    for row in table.itertuples():
        words = shlex.split(row.command)
        assert words[:2] == ["python", "benchmarks/ltsf.py"]
        args = ltsf.build_parser().parse_args(words[2:])
        assert (args.model, args.lookback, len(args.seeds)) == (row.model, row.lookback, row.seeds), row.command
        assert row.dataset in args.datasets and row.horizon in args.horizons, row.command
        assert ltsf.params_key(json.loads(args.params)) == row.params, row.command
        assert " ".join(map(str, args.seeds)) == row.seed_list, row.command


@pytest.mark.parametrize("extra, message", [
    (["--horizons", "0"], "--horizons"),
    (["--horizons", "-5"], "--horizons"),
    (["--horizons", "100000"], "test split"),
    (["--lookback", "0"], "--lookback"),
    (["--lookback", "20000"], "--datasets ETTh1"),
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--drop-last", "-1"], "--drop-last"),
    (["--drop-last", "5000"], "--drop-last"),
    (["--params", "{bad"], "--params"),
    (["--params", "[1]"], "--params"),
    (["--params", '{"horizon": 5}'], "--horizons"),
    (["--params", '{"no_such_option": 5}'], "--params"),
    (["--params", '{"max_epochs": 0}'], "max_epochs must be an integer >= 1"),
    (["--datasets", "Foo"], "--datasets Foo"),
    (["--model", "Bogus"], "--model"),
])
def test_bad_arguments_exit_2_with_a_message_before_any_fit(ltsf, fake_fit, data_dir, tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_:
        ltsf.main(_cyclenet(data_dir, tmp_path / "out", "--seeds", "0") + extra)
    error = capsys.readouterr().err.strip().splitlines()[-1]  # not the usage lines, which name every option
    assert exit_.value.code == 2 and "error: " in error and message in error
    assert fake_fit == [] and not (tmp_path / "out").exists()


def test_out_writes_there_and_leaves_the_committed_results_alone(ltsf, data_dir, tmp_path):
    before = _committed(ltsf)
    argv = ["--model", "repeat-last", "--datasets", "ETTh1", "--horizons", "24", "--seeds", "0",
            "--data-dir", str(data_dir), "--out", str(tmp_path)]
    assert ltsf.main(argv) == 0
    assert _committed(ltsf) == before
    table = pd.read_csv(tmp_path / "ltsf.csv")
    assert len(table) == 1 and table["horizon"].item() == 24 and np.isfinite(table["mse"].item())
    assert "| repeat-last | naive |  | ETTh1 |" in (tmp_path / "ltsf.md").read_text()


def test_other_params_or_seeds_add_a_row_and_a_rerun_replaces_its_own(ltsf, fake_fit, data_dir, tmp_path, monkeypatch):
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "0"))
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "1"))
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "0", "--params", '{"max_epochs": 2}'))
    monkeypatch.setattr(ltsf, "run_one", lambda *a: (0.9, 0.4, 1, 0.1, 2785))  # the rerun measures something else
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "0"))
    table = ltsf.read_results(tmp_path / "ltsf.csv")
    assert sorted(zip(table["params"], table["seed_list"], table["mse"])) == [
        ('{"max_epochs": 2}', "0", 0.5), ("{}", "0", 0.9), ("{}", "1", 0.501)]
    # the markdown tells the three rows apart by their params and seeds
    rows = [line for line in ltsf.render_markdown(table).splitlines() if line.startswith("| CycleNetForecaster")]
    assert len(set(row.split("|")[3] + row.split("|")[8] for row in rows)) == 3


def test_a_trial_row_keeps_the_committed_rows_and_their_order(ltsf):
    committed = ltsf.read_results(ltsf.RESULTS / "ltsf.csv")
    trial = committed.iloc[5].to_dict() | {"seeds": 1, "seed_list": "0", "mse": 9.0}
    merged = ltsf.merge_rows(committed, [trial])
    assert len(merged) == len(committed) + 1
    # row 5 predates the commit and date columns: its NaNs make them object, not text, here; the file is the same
    pd.testing.assert_frame_equal(merged[merged["mse"] != 9.0].reset_index(drop=True), committed, check_dtype=False)
    rerun = committed.iloc[5].to_dict() | {"mse": 9.0}
    replaced = ltsf.merge_rows(committed, [rerun])
    assert len(replaced) == len(committed) and replaced.loc[5, "mse"] == 9.0


def test_the_committed_markdown_is_rendered_from_the_csv(ltsf):
    table = ltsf.read_results(ltsf.RESULTS / "ltsf.csv")
    text, rendered = (ltsf.RESULTS / "ltsf.md").read_text(), ltsf.render_markdown(table)
    rest = text.removeprefix(rendered)  # then the provenance of the run that wrote it, which the CSV does not hold
    assert text.startswith(rendered)
    assert rest == "" or (rest.startswith("\nMeasured at commit ") and rest.count("\n") == 2)


def test_a_new_row_records_its_commit_and_date_and_an_older_row_keeps_none(ltsf, fake_fit, data_dir, tmp_path):
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "0"))
    # the row as a CSV from before the commit and date were recorded holds it
    pd.read_csv(tmp_path / "ltsf.csv").drop(columns=["commit", "date"]).to_csv(tmp_path / "ltsf.csv", index=False)
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "1"))
    table = ltsf.read_results(tmp_path / "ltsf.csv")
    assert list(table["seed_list"]) == ["0", "1"] and list(table.columns[-2:]) == ["commit", "date"]
    assert table["commit"].isna().tolist() == [True, False] and table["date"].isna().tolist() == [True, False]
    commit, date = table.loc[1, "commit"], table.loc[1, "date"]
    assert commit == ltsf.code_label() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
    assert (tmp_path / "ltsf.csv").read_text().splitlines()[1].endswith(",,")  # written empty, not "nan"
    lines = (tmp_path / "ltsf.md").read_text().splitlines()
    rows = [line for line in lines if line.startswith("| CycleNetForecaster")]
    assert rows[0].endswith("|  |") and rows[1].endswith(f"| {date}, {commit} |")
    assert lines[-1].startswith("Measured at commit ") and "Rows merged from earlier runs keep" in lines[-1]


def test_seed_labels(ltsf):
    assert ltsf.seed_label(5, "2024 2025 2026 2027 2028") == "5 (2024-2028)"
    assert ltsf.seed_label(3, "0 1 5") == "3 (0 1 5)"


def test_a_failing_markdown_leaves_both_files_as_they_were(ltsf, fake_fit, data_dir, tmp_path, monkeypatch):
    ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "0"))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.setattr(ltsf, "render_markdown", lambda table: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        ltsf.main(_cyclenet(data_dir, tmp_path, "--seeds", "1"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("extra, shown", [
    ([], True), (["--lookback", "336"], False), (["--protocol", "univariate"], False), (["--drop-last", "32"], False),
])
def test_the_papers_number_stands_beside_a_row_of_its_own_setting_only(ltsf, fake_fit, data_dir, tmp_path, extra,
                                                                        shown):
    # a univariate run was set beside the multivariate L=96 number (-84.8% "vs paper")
    argv = ["--model", "CycleNetForecaster", "--datasets", "ETTh1", "--horizons", "96", "--seeds", "0",
            "--data-dir", str(data_dir), "--out", str(tmp_path), *extra]
    assert ltsf.main(argv) == 0
    row = ltsf.read_results(tmp_path / "ltsf.csv").iloc[0]
    want = ltsf.PUBLISHED[("CycleNetForecaster", "linear", "ETTh1")][96] if shown else (np.nan, np.nan)
    np.testing.assert_array_equal([row["paper_mse"], row["paper_mae"]], want)
    assert row["windows"] == 2785


def test_the_repeat_last_row_records_its_window_count(ltsf, data_dir, tmp_path):
    argv = ["--model", "repeat-last", "--datasets", "ETTh1", "--horizons", "96", "--seeds", "0",
            "--data-dir", str(data_dir), "--out", str(tmp_path)]
    assert ltsf.main(argv) == 0
    assert ltsf.read_results(tmp_path / "ltsf.csv")["windows"].item() == 2785  # 2880 - 96 - 96 + 1
    # beside committed rows without a count, it is still written as one (it read 2785.0000)
    (tmp_path / "ltsf.csv").write_bytes((ltsf.RESULTS / "ltsf.csv").read_bytes())
    assert ltsf.main(argv) == 0
    assert ",2785," in (tmp_path / "ltsf.csv").read_text()


@pytest.mark.parametrize("lookback, drop_last, shown", [(168, 0, True), (168, 32, True), (168, 7, False),
                                                         (96, 32, False)])
def test_tpgns_number_stands_beside_its_lookback_and_window_counts_only(ltsf, lookback, drop_last, shown):
    paper = ltsf.published("PGNForecaster", "default", "ETTh1", "tpgn-univariate", lookback, 168, drop_last)
    assert np.isfinite(paper).all() == shown
