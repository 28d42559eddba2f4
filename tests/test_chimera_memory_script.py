"""benchmarks/chimera_memory.py: a row per variate count, its peak above the bound the fit checks."""

from __future__ import annotations

import re


def test_a_row_measures_more_than_the_lower_bound_the_fit_checks(benchmark_script, tmp_path):
    script = benchmark_script("chimera_memory")
    out = tmp_path / "chimera_memory.md"
    assert script.main(["--variates", "3", "--out", str(out)]) == 0
    text = out.read_text()
    row = re.search(r"^\| 3 \| (\d+) \| [\d.]+ \| (\d+) \| ([\d.]+) \|", text, re.MULTILINE)
    assert row is not None, text
    # the bound is a lower bound of what a batch keeps: never above the measured peak
    assert float(row.group(3)) >= 1.0 and int(row.group(1)) >= int(row.group(2))
    assert "Command: `python benchmarks/chimera_memory.py --variates 3 --out" in text
    assert text.splitlines()[-1].startswith("Measured at commit")
