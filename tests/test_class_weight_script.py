"""benchmarks/class_weight.py: the imbalanced draw, both weightings for every seed, the report, and the
argument checks (no fitting: ``score`` is replaced by one that says what it was given)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def class_weight(benchmark_script):
    return benchmark_script("class_weight")


def test_the_draw_keeps_the_first_class_and_a_share_of_each_other(class_weight):
    y = np.array(["a"] * 10 + ["b"] * 20 + ["c"] * 5)
    kept = class_weight.imbalanced(y, 0.2, seed=0)
    assert list(np.unique(y[kept], return_counts=True)[1]) == [10, 4, 2]  # 5 * 0.2 is 1: at least 2
    assert np.array_equal(kept, class_weight.imbalanced(y, 0.2, seed=0))
    assert not np.array_equal(kept, class_weight.imbalanced(y, 0.2, seed=1))


def test_the_report_sets_balanced_weights_beside_none(class_weight, monkeypatch, tmp_path):
    seen = []

    def score(dataset, model, weight, args, seed):
        seen.append((dataset, model, weight, seed))
        return (0.9 if weight else 0.7) + seed / 10, 0.5 + (weight is not None) / 4

    monkeypatch.setattr(class_weight, "score", score)
    out = tmp_path / "report.md"
    class_weight.main(["--datasets", "GunPoint", "--models", "PGNClassifier", "--seeds", "0", "2", "--out", str(out)])
    text = out.read_text()
    assert "Command: `python benchmarks/class_weight.py --datasets GunPoint --models PGNClassifier" in text
    assert "| GunPoint | PGNClassifier | 0.800 ± 0.100 | 1.000 ± 0.100 | 0.500 ± 0.000 | 0.750 ± 0.000 |" in text
    assert sorted(seen, key=str) == sorted([("GunPoint", "PGNClassifier", w, s) for w in (None, "balanced")
                                            for s in (0, 2)], key=str)


@pytest.mark.parametrize("argv, message", [(["--keep", "1"], "--keep must be below 1"),
                                           (["--keep", "0"], "--keep"), (["--models", "Nope"], "unknown ['Nope']"),
                                           (["--datasets", "Nope"], "unknown ['Nope']")])
def test_bad_arguments_stop_before_any_fit(class_weight, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(class_weight, "score", lambda *a: pytest.fail("fitted despite a bad argument"))
    with pytest.raises(SystemExit):
        class_weight.main(argv)
    assert message in capsys.readouterr().err
