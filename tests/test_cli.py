"""The tsrec command: the demo job end to end (few epochs) and the estimator listing."""

from __future__ import annotations

import pandas as pd

from tsrec.cli import main


def test_demo_writes_forecasts_and_plot(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--max-epochs", "2"]) == 0
    out = capsys.readouterr().out
    for label in ("CycleNet/Linear (tsrec)", "seasonal naive", "repeat last", "2785 test windows"):
        assert label in out
    forecasts = pd.read_csv(tmp_path / "forecasts.csv", nrows=200)
    assert list(forecasts.columns[:3]) == ["origin", "step", "date"] and forecasts["step"].max() == 96
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*tmp"))


def test_list_uses_the_registry(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "CycleNetForecaster" in out and "ARNetForecaster" in out
