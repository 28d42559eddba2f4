"""benchmarks/prediction_passes.py: predicting's time and memory by the samples or series a pass."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("prediction_passes")


def test_each_estimator_runs_at_its_batch_size_and_at_the_given_pass_sizes(script, tmp_path):
    out = tmp_path / "passes.md"
    argv = ["--models", "SMambaClassifier", "ARNetForecaster", "--passes", "5", "--samples", "7", "--length", "9",
            "--series", "3", "--out", str(out)]
    assert script.main(argv) == 0
    text = out.read_text()
    assert "| estimator (batch_size) | batch_size a pass | 5 a pass |" in text and "|---|---:|---:|" in text
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if "MiB" in line}
    assert set(rows) == {"SMambaClassifier (16)", "ARNetForecaster (32)"}
    assert all(row.count(" MiB") == 2 for row in rows.values())
    assert "7 univariate series of 9 steps" in text and "each of 3 univariate hourly series" in text


def test_an_unknown_or_left_out_estimator_stops_the_script_before_it_measures(script, tmp_path, capsys):
    for name in ("GunPointClassifier", "LS4Forecaster"):
        with pytest.raises(SystemExit):
            script.main(["--models", name, "--out", str(tmp_path / "x.md")])
        assert f"unknown ['{name}']" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()
