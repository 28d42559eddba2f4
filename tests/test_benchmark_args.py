"""Benchmark scripts refuse bad arguments before measuring, and state what their timings show."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("script", "argv", "message"),
    [
        ("kernels", ["--ops", "linear_scn"], "--ops: unknown ['linear_scn']; choose from"),
        ("kernels", ["--ops"], "--ops: no names"),
        ("kernels", ["--budget", "0"], "must be a number > 0"),
        ("host_reads", ["--models", "ARNet"], "--models: unknown ['ARNet']"),
        ("gpu_training", ["--models", "--accelerator", "cpu"], "--models: no names"),
        ("engine", ["--epochs", "1"], "--epochs: must be an integer >= 2, got 1"),
        ("engine", ["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
        ("engine", ["--threads", "x"], "--threads: must be an integer >= 1, got 'x'"),
        ("scan2d_paths", ["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
        ("scan2d_paths", ["--sizes", "1x24x32", "--time", "96"], "--sizes and --time both choose the sizes"),
        ("fft_conv_paths", ["--threads", "0"], "--threads: must be an integer >= 1, got 0"),
        ("chimera_modes", ["--repeats", "-1"], "--repeats: must be an integer >= 1, got -1"),
        ("ltc_backward", ["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
        ("rollout_memory", ["--steps", "5"], "--steps: must be an integer >= 1000, got 5"),
        ("spacetime_step", ["--rounds", "0"], "--rounds: must be an integer in [1, 20], got 0"),
        ("spacetime_step", ["--against", "no-such-folder"], "--against: no-such-folder holds no tsrec/__init__.py"),
        ("forecaster_step", ["--model", "spacetime"], "--model: invalid choice: 'spacetime'"),
        ("forecaster_step", ["--model", "ltc", "--steps", "0"], "--steps: must be an integer in [1, 200], got 0"),
        ("forecaster_step", ["--model", "ls4", "--against", "no-such-folder"],
         "--against: no-such-folder holds no tsrec/__init__.py"),
        # found by a usability review: each ran its whole benchmark, then failed or said nothing
        ("engine", ["--batches-per-step", "0"], "--batches-per-step: must be an integer >= 1, got 0"),
        ("gpu_training", ["--accelerator", "tpu"], "--accelerator: invalid choice: 'tpu'"),
        ("panel_scaling", ["--seed", "-1"], "--seed: must be an integer in [0, 4294967295], got -1"),
        ("robust_scaling", ["--seeds", "-1"], "--seeds: must be an integer in [0, 4294967295], got -1"),
        ("panel_scale", ["--code", "no-such-folder"], "--code: no-such-folder holds no tsrec/__init__.py"),
        ("class_weight", ["--data-dir", "no-such-folder"], "--data-dir: data_dir 'no-such-folder' does not exist"),
        ("irregular_sampling", ["--data-dir", "no-such-folder"], "--data-dir: data_dir 'no-such-folder' does not"),
        # the loader's advice is the Python API's ("or None"): a script's user drops the option instead
        ("class_weight", ["--data-dir", ""],
         "--data-dir: data_dir is empty; pass the folder that holds the data files, or drop --data-dir to search "
         "$TSREC_DATA and the checkout's ../shared/data"),
    ],
)
def test_bad_arguments_exit_2_before_measuring(benchmark_script, tmp_path, capsys, script, argv, message):
    module = benchmark_script(script)
    with pytest.raises(SystemExit) as stopped:
        module.main([*argv, "--out", str(tmp_path / "report.md")])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_the_fft_threshold_note_states_where_this_runs_rfft_wins(benchmark_script):
    cases = benchmark_script("kernel_cases")
    one, heads = cases._TAPS_CASES

    def timings(op, rows):
        return [dict(op=op, device="cpu", taps=taps, backend=backend, both=ms)
                for taps, direct, fft in rows for backend, ms in (("direct", direct), ("fft", fft))]

    # the rFFT wins at 16 and every longer kernel with one output; with heads it loses again at 48
    results = timings(one, [(8, 2.5, 3.2), (16, 3.4, 2.4), (32, 5.0, 2.5)])
    results += timings(heads, [(16, 348.0, 340.0), (32, 514.0, 374.0), (48, 300.0, 395.0)])
    note = cases.conv_threshold_note(results)[0]
    assert f"FFT_THRESHOLD = {cases.FFT_THRESHOLD} taps" in note
    assert "from 16 taps (one output per channel), at no length (8 heads)" in note


def test_chimera_modes_report_records_its_command_and_a_row_per_size(benchmark_script, tmp_path, monkeypatch):
    module = benchmark_script("chimera_modes")
    monkeypatch.setattr(module, "SIZES", [(1, 2)])
    monkeypatch.setattr(module, "WINDOW", 4)
    out = tmp_path / "modes.md"
    assert module.main(["--repeats", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert f"Command: `python benchmarks/chimera_modes.py --repeats 1 --out {out}`" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1, 2 |")]
    assert len(rows) == 1 and rows[0].endswith("x |")


def test_emit_report_ends_with_the_provenance_line(benchmark_script, tmp_path):
    import torch

    module = benchmark_script("_args")
    out = tmp_path / "report.md"
    module.emit_report(["# A report", "", "| a | b |"], out)
    lines = out.read_text().splitlines()
    assert lines[:3] == ["# A report", "", "| a | b |"] and lines[-2] == ""
    assert lines[-1].startswith(f"Measured at commit {module.code_label()}, ")
    assert lines[-1].endswith(f", torch {torch.__version__}.")


def test_fft_conv_paths_report_records_the_out_file_it_was_written_to(benchmark_script):
    import argparse
    from pathlib import Path

    module = benchmark_script("fft_conv_paths")
    args = argparse.Namespace(threads=1, repeats=9, out=Path("benchmarks/results/fft_conv_paths.md"))
    lengths = [(191, 192, 1.0, 192, 1.0)]  # one row: the report summarises the ratios
    assert ("Command: `python benchmarks/fft_conv_paths.py --threads 1 --repeats 9 --out "
            "benchmarks/results/fft_conv_paths.md`") in module.report(lengths, [], args)
    args.out = None
    assert ("Command: `python benchmarks/fft_conv_paths.py --threads 1 --repeats 9`\n"
            in module.report(lengths, [], args))


@pytest.mark.parametrize("script", ["arnet_defaults", "rollout_memory", "engine", "panel_scale", "kernels"])
def test_an_out_that_is_a_folder_or_under_a_file_is_refused_before_measuring(benchmark_script, tmp_path, capsys,
                                                                            script):
    # it was found by the report's write after the whole run, as an IsADirectoryError traceback
    module = benchmark_script(script)
    (tmp_path / "a_file").write_text("kept")
    under_a_file = tmp_path / "a_file" / "r.md"
    for out, message in [(tmp_path, f"--out: {tmp_path} is a folder; give a file, e.g. {tmp_path / 'report.md'}"),
                         (under_a_file, f"{under_a_file.parent} is not a folder this process may write")]:
        with pytest.raises(SystemExit) as stopped:
            module.main(["--out", str(out)])
        assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"] and (tmp_path / "a_file").read_text() == "kept"


def test_a_report_quotes_the_command_as_it_pastes_into_a_shell(benchmark_script, monkeypatch):
    # each script spelled it its own way: some joined the arguments unquoted, so a JSON --params broke in a shell
    args = benchmark_script("_args")
    assert args.command_line("/any/where/ltsf.py", ["--params", '{"a": 1}']) == \
        "python benchmarks/ltsf.py --params '{\"a\": 1}'"
    monkeypatch.setattr("sys.argv", ["kernels.py", "--ops", "linear scan"])
    assert args.command_line("kernels.py", None) == "python benchmarks/kernels.py --ops 'linear scan'"


def test_a_failing_child_ends_the_run_with_its_own_error(benchmark_script):
    # the scripts that measure in fresh interpreters said only "returned non-zero exit status 1"
    args = benchmark_script("_args")
    assert args.child_json("import json, sys; print('noise'); print(json.dumps(sys.argv[1:]))", 3, "x") == ["3", "x"]
    with pytest.raises(SystemExit, match=r"a child process failed \(1\):\n(.|\n)*ValueError: the child's own reason"):
        args.child_json("raise ValueError(\"the child's own reason\")")


@pytest.mark.parametrize("script, argv, table", [
    ("ltsf", ["--model", "CycleNetForecaster", "--datasets", "ETTh1", "--horizons", "96"], "ltsf.csv"),
    ("classification", ["--models", "PGNClassifier", "--datasets", "GunPoint"], "classification.csv"),
    ("probabilistic", [], "probabilistic.csv"),
])
def test_another_csv_of_the_results_name_is_refused_before_fitting(benchmark_script, tmp_path, capsys, script, argv,
                                                                   table):
    # it was read after the first fit, to merge into: a KeyError traceback (the file itself was kept)
    module = benchmark_script(script)
    (tmp_path / table).write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit) as stopped:
        if script == "classification":  # its checks take the parser of the classifiers it knows
            parser = module.build_parser(module.classifiers())
            module.check_args(parser, parser.parse_args([*argv, "--out", str(tmp_path)]))
        else:
            module.parse([*argv, "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert f"{tmp_path / table} has no ['model'" in capsys.readouterr().err
    assert (tmp_path / table).read_text() == "a,b\n1,2\n"
