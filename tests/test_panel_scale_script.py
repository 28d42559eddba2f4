"""benchmarks/panel_scale.py: times each forecaster operation on panels, in fresh processes."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def panel_scale(benchmark_script):
    return benchmark_script("panel_scale")


def test_a_small_run_writes_one_measured_row_per_id_order_and_scaling(panel_scale, tmp_path):
    # one run for both scalings: each row is a fresh process, which takes seconds to import tsrec
    out = tmp_path / "panel_scale.md"
    assert panel_scale.main(["--sizes", "2", "--scalings", "global", "series", "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [tuple(cell.strip() for cell in row[:3]) for row in rows] == [
        ("2", "s0, s1, ...", "global"), ("2", "s0, s1, ...", "series"),
        ("2", "sorted", "global"), ("2", "sorted", "series"),
    ]
    assert all(len(row) == 4 + len(panel_scale.OPERATIONS) for row in rows)
    # seconds to two decimals: a tiny panel's save or predict may round to 0.00, its fit does not
    assert all(float(cell) >= 0 for row in rows for cell in row[4:])
    assert all(float(row[4]) > 0 for row in rows)
    assert f"Command: `python benchmarks/panel_scale.py --sizes 2 --scalings global series --out {out}`" in text


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "3", "--rows", "30"], "--rows: must be an integer >= 48, got 30"),  # 24 lags + a 24-step horizon
    (["--sizes", "0"], "--sizes: must be an integer >= 1, got 0"),
])
def test_series_too_short_for_the_model_or_no_series_are_refused(panel_scale, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit):
        panel_scale.main([*argv, "--out", str(tmp_path / "x.md")])
    assert message in capsys.readouterr().err
