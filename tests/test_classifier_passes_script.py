"""benchmarks/classifier_passes.py: predict_proba's time and memory by the samples a pass."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("classifier_passes")


def test_each_pass_size_is_run_with_the_classifier_at_that_batch_size(script, tmp_path):
    out = tmp_path / "passes.md"
    argv = ["--models", "SMambaClassifier", "--passes", "3", "5", "--samples", "7", "--length", "9", "--out", str(out)]
    assert script.main(argv) == 0
    text = out.read_text()
    assert "| classifier | 3 a pass | 5 a pass |" in text and "|---|---:|---:|" in text
    row = next(line for line in text.splitlines() if line.startswith("| SMambaClassifier |"))
    assert len(row.strip("|").split("|")) == 3 and row.count(" MiB") == 2
    assert "7 univariate series of 9 steps" in text


def test_an_unknown_classifier_stops_the_script_before_it_measures(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main(["--models", "GunPointClassifier", "--out", str(tmp_path / "x.md")])
    assert "unknown ['GunPointClassifier']" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()
