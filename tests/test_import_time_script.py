"""benchmarks/import_time.py: start-up seconds with and without Lightning, from fresh interpreters."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("import_time")


def test_each_row_runs_in_fresh_interpreters_and_the_report_compares_them(script, tmp_path):
    out = tmp_path / "import.md"
    assert script.main(["--repeats", "1", "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and " s |" not in line and "---" not in line]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == [
        "import tsrec.estimators", "import tsrec.estimators, then lightning.pytorch",
        "tsrec forecast (load, predict, write)", "tsrec forecast, lightning.pytorch imported first"]
    medians = [float(row.split(" | ")[1]) for row in rows]
    assert all(m > 0 for m in medians)
    assert "Importing the estimators takes" in text and "1 fresh interpreters a row" in text


def test_a_forecast_row_fails_loudly_when_the_command_line_does(script, tmp_path):
    # a broken command must stop the script, not be timed as a fast run, and show the child's error (a bare
    # CalledProcessError said only 'exit status 1')
    with pytest.raises(SystemExit, match=r"(?s)^python -c import sys.* failed \(exit status 2\):\n.*no model here"):
        script.seconds(["-c", "import sys; sys.stderr.write('no model here'); raise SystemExit(2)"])
