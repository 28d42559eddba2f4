"""benchmarks/irregular_sampling.py: the kept points, the argument checks and the report (no fitting:
``accuracy`` is replaced by one that says which timing and data it was given)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def irregular(benchmark_script):
    return benchmark_script("irregular_sampling")


def test_each_sample_keeps_its_own_points_in_time_order(irregular):
    X = np.arange(40, dtype=float).reshape(4, 10) * 10
    panel = irregular.subsample(X, 0.5, np.random.default_rng(0))
    counts = panel.groupby(level=0).size()
    assert (counts == 5).all()
    positions = panel.index.get_level_values(1).to_numpy().reshape(4, 5)
    assert (np.diff(positions, axis=1) > 0).all()  # increasing stamps: the original positions
    np.testing.assert_array_equal(panel["value"].to_numpy().reshape(4, 5), np.take_along_axis(
        X, positions.astype(int), axis=1))
    assert len({tuple(row) for row in positions}) > 1  # each sample its own points
    assert len(irregular.complete(X)) == 40


def test_the_report_holds_a_row_per_cell_and_the_command(irregular, monkeypatch, tmp_path):
    seen = []

    def accuracy(cell, timing, train, test, seed, max_epochs):
        seen.append((cell, timing, len(train[0]) // len(train[1]), seed, max_epochs))
        return (0.75 if timing == "stamps" else 0.5), 1.0

    monkeypatch.setattr(irregular, "accuracy", accuracy)
    out = tmp_path / "report.md"
    irregular.main(["--datasets", "ItalyPowerDemand", "--seeds", "3", "--keep", "0.5", "--max-epochs", "2",
                    "--out", str(out)])
    text = out.read_text()
    assert "Command: `python benchmarks/irregular_sampling.py --datasets ItalyPowerDemand --seeds 3" in text
    assert "| ItalyPowerDemand | LTC | 0.500 ± 0.000 | 0.500 ± 0.000 | 0.750 ± 0.000 | 3 |" in text
    assert "| ItalyPowerDemand | CfC |" in text
    # ItalyPowerDemand's 24 points: complete, then 12 kept (steps, stamps), for each cell
    assert seen == [(cell, timing, points, 3, 2) for cell in ("LTC", "CfC")
                    for timing, points in (("steps", 24), ("steps", 12), ("stamps", 12))]


@pytest.mark.parametrize("argv, message", [(["--keep", "1.5"], "fraction in"), (["--keep", "0"], "--keep"),
                                           (["--seeds"], "--seeds"), (["--datasets", "Nope"], "invalid choice")])
def test_bad_arguments_stop_before_any_fit(irregular, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(irregular, "run", lambda *a: pytest.fail("ran"))
    with pytest.raises(SystemExit):
        irregular.main(argv + ["--out", "-"])
    assert message in capsys.readouterr().err
