"""benchmarks/chimera_memory.py: a row per variate count, its peak above the bound the fit checks."""

from __future__ import annotations

import re


def test_a_row_measures_more_than_the_lower_bound_the_fit_checks(benchmark_script, tmp_path):
    script = benchmark_script("chimera_memory")
    out = tmp_path / "chimera_memory.md"
    assert script.main(["--variates", "3", "--out", str(out)]) == 0
    text = out.read_text()
    number = r"([\d.]+)"
    row = re.search(r"^\| 3 \| " + r" \| ".join([number] * 11) + r" \|$", text, re.MULTILINE)
    assert row is not None, text
    kept, _, kept_bound, kept_ratio, _, redo, redo_bound, redo_ratio = map(float, row.groups()[:8])
    # each bound is a lower bound of what a batch keeps: never above the measured peak
    assert kept_ratio >= 1.0 and kept >= kept_bound and redo_ratio >= 1.0 and redo >= redo_bound
    assert kept_bound > redo_bound
    assert "Command: `python benchmarks/chimera_memory.py --variates 3 --out" in text
    assert text.splitlines()[-1].startswith("Measured at commit")
