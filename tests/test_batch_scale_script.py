"""benchmarks/batch_scale.py: times forecast_files by number of series, in fresh processes."""

from __future__ import annotations


import pytest


@pytest.fixture(scope="module")
def batch_scale(benchmark_script):
    return benchmark_script("batch_scale")


def test_a_small_run_writes_one_measured_row_per_size(batch_scale, tmp_path):
    out = tmp_path / "batch_scale.md"
    assert batch_scale.main(["--sizes", "3", "5", "--rows", "30", "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row.split("|")[1].strip() for row in rows] == ["3", "5"]
    assert all(float(row.split("|")[4]) > 0 and float(row.split("|")[6]) > 0 for row in rows)
    assert f"Command: `python benchmarks/batch_scale.py --sizes 3 5 --rows 30 --out {out}`" in out.read_text()


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "3", "--rows", "10"], "--rows: must be an integer >= 24, got 10"),  # the model's lags
    (["--sizes", "3", "0"], "--sizes: must be an integer >= 1, got 0"),  # one message for both, before
])
def test_rows_shorter_than_the_lags_or_no_series_are_refused(batch_scale, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit):
        batch_scale.main([*argv, "--out", str(tmp_path / "x.md")])
    assert message in capsys.readouterr().err
