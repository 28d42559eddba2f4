"""benchmarks/gpu_training.py as a dry run on the CPU: it must not first fail on a scarce GPU."""

from __future__ import annotations


import pytest


@pytest.fixture(scope="module")
def gpu_training(benchmark_script):
    return benchmark_script("gpu_training")


def test_dry_run_fits_twice_and_reports(gpu_training, tmp_path):
    out = tmp_path / "gpu_training.md"
    status = gpu_training.main(["--accelerator", "cpu", "--tiny", "--models", "ARNetForecaster", "SMambaClassifier",
                                "--out", str(out)])
    assert status == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "Forecaster" in line
            or line.startswith("| SMambaClassifier")]
    assert len(rows) == 2
    assert all("| yes | yes |" in row for row in rows)  # same predictions twice, finite


def test_a_dry_run_trains_in_the_precision_given(gpu_training, tmp_path, monkeypatch):
    # Chimera's 2-D scans run step by step on the CPU: 300 of ETTh1's hours, not 2,000 (some 30 batches, not 250)
    monkeypatch.setattr(gpu_training, "N_HOURS", 300)
    out = tmp_path / "gpu_training.md"
    argv = ["--accelerator", "cpu", "--tiny", "--precision", "bf16-mixed", "--models", "ChimeraForecaster", "--out",
            str(out)]
    assert gpu_training.main(argv) == 0
    row = next(line for line in out.read_text().splitlines() if line.startswith("| ChimeraForecaster"))
    assert '"precision": "bf16-mixed"' in row and "| yes | yes |" in row


def test_a_failing_estimator_is_reported_and_fails_the_run(gpu_training, tmp_path, monkeypatch):
    def broken(cls, params, is_classifier):
        raise RuntimeError("deterministic mode has no CUDA kernel for this op")

    monkeypatch.setattr(gpu_training, "fit_predict", broken)
    out = tmp_path / "gpu_training.md"
    status = gpu_training.main(["--accelerator", "cpu", "--tiny", "--models", "CycleNetForecaster", "--out", str(out)])
    assert status == 1
    assert "| CycleNetForecaster | None | None | NO | NO |" in out.read_text()
    assert "RuntimeError: deterministic mode has no CUDA kernel for this op" in out.read_text()


def test_gpu_run_without_a_gpu_says_so(gpu_training, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same answer on any machine
    with pytest.raises(SystemExit):
        gpu_training.main(["--models", "ARNetForecaster"])
    assert "no CUDA GPU" in capsys.readouterr().err


def test_a_dry_run_trains_classifiers_on_weighted_classes(gpu_training, tmp_path):
    out = tmp_path / "gpu_training.md"
    argv = ["--accelerator", "cpu", "--tiny", "--class-weight", "balanced", "--models", "PGNClassifier",
            "ARNetForecaster", "--out", str(out)]
    assert gpu_training.main(argv) == 0
    lines = out.read_text().splitlines()
    classifier = next(line for line in lines if line.startswith("| PGNClassifier"))
    forecaster = next(line for line in lines if line.startswith("| ARNetForecaster"))
    assert '"class_weight": "balanced"' in classifier and "| yes | yes |" in classifier
    assert "class_weight" not in forecaster  # forecasters take no class weights
