"""benchmarks/robust_scaling.py: the outliers it makes, the argument checks and the report (no fitting:
``score`` is replaced by one that says what it was given)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def robust(benchmark_script):
    return benchmark_script("robust_scaling")


def test_outliers_replace_their_share_of_each_column_at_the_median_plus_or_minus_size_deviations(robust):
    train = pd.DataFrame({"a": np.arange(200), "b": np.linspace(-1.0, 1.0, 200)})
    out = robust.with_outliers(train, 0.05, 30.0, np.random.default_rng(0))
    assert out.dtypes.tolist() == [np.float64, np.float64]
    for column in train:
        changed = out[column] != train[column]
        assert changed.sum() == 10  # 5% of 200 rows
        distance = (out[column][changed] - train[column].median()).abs()
        np.testing.assert_allclose(distance, 30.0 * train[column].std(ddof=0), rtol=1e-12)
    few = train.iloc[:10]
    assert robust.with_outliers(few, 0.01, 5.0, np.random.default_rng(0)).ne(few).sum().min() == 1  # at least one


def test_the_report_pairs_the_scalers_of_each_condition(robust, monkeypatch, tmp_path):
    seen = []

    def score(name, model, params, condition, args, seed):
        seen.append((name, model, params, condition, seed))
        return (2.0 if params == {"scaler": "standard"} else 1.0) + seed, 0.5

    monkeypatch.setattr(robust, "score", score)
    out = tmp_path / "report.md"
    robust.main(["--datasets", "illness", "--models", "ARNetForecaster", "--seeds", "0", "2", "--out", str(out)])
    text = out.read_text()
    assert "Command: `python benchmarks/robust_scaling.py --datasets illness --models ARNetForecaster" in text
    assert "| illness | ARNetForecaster | clean | 3.0000 ± 1.0000 | 2.0000 ± 1.0000 | 0.667 | 0.5, 0.5 |" in text
    assert "| illness | ARNetForecaster | outliers |" in text
    assert len(seen) == 8 and {s[3] for s in seen} == {"clean", "outliers"}


@pytest.mark.parametrize("argv, message", [(["--rate", "1"], "--rate"), (["--rate", "0"], "--rate"),
                                           (["--size", "-2"], "--size"), (["--epochs", "0"], "--epochs"),
                                           (["--models", "Nope"], "invalid choice")])
def test_bad_arguments_stop_before_any_fit(robust, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(robust, "score", lambda *a: pytest.fail("fitted despite a bad argument"))
    with pytest.raises(SystemExit):
        robust.main(argv)
    assert message in capsys.readouterr().err
