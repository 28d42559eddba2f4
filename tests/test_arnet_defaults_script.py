"""benchmarks/arnet_defaults.py: AR-Net's coefficients against least squares, by setting and series."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("arnet_defaults")


def test_each_series_gets_a_row_for_each_setting(script, tmp_path):
    out = tmp_path / "arnet.md"
    assert script.main(["--sizes", "150", "--out", str(out)]) == 0
    text = out.read_text()
    assert "Command: `python benchmarks/arnet_defaults.py --sizes 150`" in text
    assert "Defaults: lr 0.01, batch 32, 30 epochs." in text
    rows = [line.strip("| ").split(" | ") for line in text.splitlines() if line.startswith(("| AR(3)", "| ETT"))]
    cases = [("AR(3), 150 steps", "3"), ("ETTh1 OT, 8640 hours", "3"), ("ETTh1 OT, 8640 hours", "24")]
    assert [tuple(r[:3]) for r in rows] == [(*case, setting) for case in cases for setting in script.SETTINGS]
    ratios = {(r[0], r[1], r[2]): float(r[4]) for r in rows}
    assert all(ratio > 0.5 for ratio in ratios.values())  # no fit halves least squares' held-out error
    # the defaults' reason: on the oil temperature the earlier ones stopped far from least squares
    gaps = {(r[1], r[2]): float(r[3]) for r in rows if r[0].startswith("ETT")}
    assert gaps["3", "defaults"] < 0.5 < gaps["3", "before (lr 0.003, batch 128)"]


def test_least_squares_recovers_a_simulated_ar_series(script):
    import numpy as np

    rng = np.random.default_rng(0)
    y = np.zeros(50_000)
    for t in range(3, len(y)):
        y[t] = 0.5 * y[t - 1] - 0.2 * y[t - 2] + 0.1 * y[t - 3] + rng.standard_normal()
    coef, held_out_mse = script.least_squares(y, 3, split=40_000)
    np.testing.assert_allclose(coef, [0.5, -0.2, 0.1], atol=0.02)
    assert held_out_mse == pytest.approx(1.0, rel=0.05)  # the noise's variance, in the data's units


def test_a_size_too_small_stops_the_script_before_it_measures(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main(["--sizes", "5", "--out", str(tmp_path / "x.md")])
    assert "must be an integer >= 100" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()
