"""benchmarks/panel_scale.py: times each forecaster operation on panels, in fresh processes."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def panel_scale(benchmark_script):
    return benchmark_script("panel_scale")


def test_a_small_run_writes_one_measured_row_per_id_order(panel_scale, tmp_path):
    out = tmp_path / "panel_scale.md"
    assert panel_scale.main(["--sizes", "2", "--out", str(out)]) == 0
    rows = [line.split("|")[1:-1] for line in out.read_text().splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [(row[0].strip(), row[1].strip()) for row in rows] == [("2", "s0, s1, ..."), ("2", "sorted")]
    assert all(len(row) == 4 + len(panel_scale.OPERATIONS) for row in rows)
    assert all(row[2].strip() == "global" for row in rows)
    # seconds to two decimals: a tiny panel's save or predict may round to 0.00, its fit does not
    assert all(float(cell) >= 0 for row in rows for cell in row[4:])
    assert all(float(row[4]) > 0 for row in rows)


def test_each_scaling_is_timed_in_its_own_rows(panel_scale, tmp_path):
    out = tmp_path / "panel_scale.md"
    assert panel_scale.main(["--sizes", "2", "--scalings", "global", "series", "--out", str(out)]) == 0
    rows = [line.split("|")[1:-1] for line in out.read_text().splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [(row[1].strip(), row[2].strip()) for row in rows] == [
        ("s0, s1, ...", "global"), ("s0, s1, ...", "series"), ("sorted", "global"), ("sorted", "series")]
    assert all(float(row[4]) > 0 for row in rows)
    assert f"Command: `python benchmarks/panel_scale.py --sizes 2 --scalings global series --out {out}`" in out.read_text()


def test_series_too_short_for_the_model_are_refused(panel_scale, tmp_path):
    with pytest.raises(SystemExit):
        panel_scale.main(["--sizes", "3", "--rows", "30", "--out", str(tmp_path / "x.md")])
