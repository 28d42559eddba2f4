"""benchmarks/host_reads.py: counts a training step's host reads, which a GPU waits on."""

from __future__ import annotations


import pytest
import torch


@pytest.fixture(scope="module")
def host_reads(benchmark_script):
    return benchmark_script("host_reads")


def test_reads_are_counted_and_the_tensor_class_restored(host_reads):
    original = torch.Tensor.__bool__
    x = torch.ones(2)
    with host_reads.counted_reads() as reads:
        bool(x.sum() > 0), float(x.sum()), x.sum().item(), x.tolist(), x + 1
    assert len(reads) == 4
    assert torch.Tensor.__bool__ is original


def test_report_lists_each_estimator_with_its_count(host_reads, tmp_path):
    out = tmp_path / "host_reads.md"
    assert host_reads.main(["--models", "ARNetForecaster", "SMambaClassifier", "--out", str(out)]) == 0
    rows = dict(line.strip("| ").split(" | ") for line in out.read_text().splitlines()
                if line.startswith("| ARNet") or line.startswith("| SMamba"))
    assert set(rows) == {"ARNetForecaster", "SMambaClassifier"}
    # ARNet calls no kernel op; each of S-Mamba's selective scans (two directions per layer) reads once
    assert rows["ARNetForecaster"] == "0" and int(rows["SMambaClassifier"]) >= 2
