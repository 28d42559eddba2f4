"""benchmarks/panel_scaling.py: one global model over series of different scales, scored per series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster


@pytest.fixture(scope="module")
def panel_scaling(benchmark_script):
    return benchmark_script("panel_scaling")


def test_each_column_becomes_one_series(panel_scaling):
    wide = pd.DataFrame({"a": [1.0, 2.0, 3.0], 7: [4.0, 5.0, 6.0]}, index=pd.date_range("2024", periods=3, freq="D"))
    panel = panel_scaling.as_panel(wide)
    assert list(panel.columns) == ["y"] and panel.index.names == ["series", "time"]
    np.testing.assert_array_equal(panel.loc["7"]["y"], [4.0, 5.0, 6.0])


def test_errors_are_each_series_own_mse_in_its_training_spreads(panel_scaling):
    t = pd.date_range("2024", periods=80, freq="D")
    wide = pd.DataFrame({"big": 1e3 * np.sin(np.arange(80) / 3), "small": 1e-3 * np.cos(np.arange(80) / 5)}, index=t)
    panel = panel_scaling.as_panel(wide)
    est = ARNetForecaster(n_lags=8, horizon=4, max_epochs=1, scaling="series").fit(panel.groupby(level=0).head(60))
    test = panel.groupby(level=0).tail(30)
    spreads = pd.Series({"big": 2.0, "small": 0.5})
    errors = panel_scaling.standardised_errors(est, test, spreads)
    for key in ("big", "small"):
        one = test.loc[[key]]
        expected = np.mean(((est.forecast_windows(one) - est.window_targets(one)) / spreads[key]) ** 2)
        assert errors[key] == pytest.approx(expected, rel=1e-12)


def test_a_small_run_writes_a_row_per_model_and_scaling(panel_scaling, tmp_path):
    out = tmp_path / "scaling.md"
    assert panel_scaling.main(["--datasets", "illness", "--models", "ARNetForecaster", "--epochs", "1",
                               "--out", str(out)]) == 0
    rows = [line.split("|")[1:-1] for line in out.read_text().splitlines() if line.startswith("| illness")]
    assert [(row[1].strip(), row[2].strip(), row[3].strip()) for row in rows] == [
        ("ARNetForecaster", "global", "7"), ("ARNetForecaster", "series", "7")]
    assert all(float(row[4]) > 0 and float(row[5]) > 0 for row in rows)
    assert [row[-1].strip() for row in rows] == ["yes", "no"]  # ILI counts next to percentages: the warning
    detail = [line.split("|")[1:-1] for line in out.read_text().split("### illness, ARNetForecaster")[1].splitlines()
              if line.startswith("| ") and not line.startswith("| series")]
    assert len(detail) == 7
    ratios = [float(row[1]) for row in detail]
    assert ratios == sorted(ratios) and ratios[-1] > 1e5  # the ILI percentages next to counts of 1e5


def test_zero_epochs_are_refused(panel_scaling, tmp_path, capsys):
    with pytest.raises(SystemExit):
        panel_scaling.main(["--epochs", "0", "--out", str(tmp_path / "x.md")])
    assert "--epochs must be at least 1" in capsys.readouterr().err
