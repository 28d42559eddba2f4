"""benchmarks/robust_loss.py: each loss is fitted for every condition and seed, the report, and the
argument checks (no fitting: ``robust_scaling.score`` is replaced by one that says what it was given)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def robust_loss(benchmark_script):
    return benchmark_script("robust_loss")


def test_the_report_sets_each_loss_beside_the_mse_fit(robust_loss, monkeypatch, tmp_path):
    seen = []
    error = {"mse": 4.0, "mae": 2.0, "huber": 3.0}

    def score(name, model, params, condition, args, seed):
        seen.append((params, condition, seed))
        return error[params["loss"]] - (params.get("huber_delta", 1.0) < 1) + seed, 0.5

    monkeypatch.setattr(robust_loss.robust_scaling, "score", score)
    out = tmp_path / "report.md"
    robust_loss.main(["--datasets", "illness", "--models", "ARNetForecaster", "--seeds", "0", "2", "--out", str(out)])
    text = out.read_text()
    assert "Command: `python benchmarks/robust_loss.py --datasets illness --models ARNetForecaster" in text
    assert ("| illness | ARNetForecaster | outliers | 5.0000 ± 1.0000 | 3.0000 ± 1.0000 | 4.0000 ± 1.0000 "
            "| 3.0000 ± 1.0000 | 0.6 |") in text
    assert "| illness | ARNetForecaster | clean |" in text
    assert len(seen) == 16  # 4 losses, 2 conditions, 2 seeds
    assert {"loss": "huber", "huber_delta": 0.1} in [params for params, _, _ in seen]


@pytest.mark.parametrize("argv, message", [(["--rate", "1"], "--rate"), (["--epochs", "0"], "--epochs"),
                                           (["--datasets", "nope"], "invalid choice")])
def test_bad_arguments_stop_before_any_fit(robust_loss, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(robust_loss.robust_scaling, "score", lambda *a: pytest.fail("fitted despite a bad argument"))
    with pytest.raises(SystemExit):
        robust_loss.main(argv)
    assert message in capsys.readouterr().err


def test_help_describes_this_script_not_the_one_whose_flags_it_shares(robust_loss, capsys):
    # it borrows robust_scaling's parser, and --help printed robust_scaling's description
    with pytest.raises(SystemExit):
        robust_loss.main(["--help"])
    out = capsys.readouterr().out
    assert "the point losses" in out and 'scaler="robust"' not in out
