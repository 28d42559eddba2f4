"""benchmarks/arnet_defaults.py: AR-Net's coefficients against least squares, by setting and series."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("arnet_defaults")


def test_each_series_gets_a_row_for_each_setting(script, tmp_path):
    out = tmp_path / "arnet.md"
    assert script.main(["--sizes", "60", "--out", str(out)]) == 0
    text = out.read_text()
    assert "Command: `python benchmarks/arnet_defaults.py --sizes 60`" in text
    assert "Defaults: lr 0.01, batch 32, 30 epochs." in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| AR(3)") or line.startswith("| ETT")]
    assert [(r[0], r[1]) for r in rows] == [(f"| {s}", k) for s in ("AR(3), 60 steps", "ETTh1 OT, 8640 hours")
                                          for k in script.SETTINGS]
    for r in rows:
        gap, ratio = float(r[2]), float(r[3])
        assert gap >= 0 and ratio > 0.5  # no fit beats least squares' in-sample error by half


def test_least_squares_recovers_a_simulated_ar_series(script):
    import numpy as np

    rng = np.random.default_rng(0)
    y = np.zeros(50_000)
    for t in range(3, len(y)):
        y[t] = 0.5 * y[t - 1] - 0.2 * y[t - 2] + 0.1 * y[t - 3] + rng.standard_normal()
    coef, mse = script.least_squares(y, 3)
    np.testing.assert_allclose(coef, [0.5, -0.2, 0.1], atol=0.02)
    assert mse == pytest.approx(1 / np.var(y), rel=0.05)  # the noise's variance in standard deviations


def test_a_size_too_small_stops_the_script_before_it_measures(script, tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main(["--sizes", "5", "--out", str(tmp_path / "x.md")])
    assert "must be an integer >= 23" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()
