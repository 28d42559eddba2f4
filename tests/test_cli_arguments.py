"""The command line's own argument handling, with ``tsrec.batch.forecast_files`` replaced by a recorder:
what reaches it from repeated and multi-valued options (found open by a mutation round over tsrec/cli.py)."""

from __future__ import annotations

import pandas as pd
import pytest

import tsrec.batch
from tsrec.cli import main


@pytest.fixture
def calls(monkeypatch):
    """tsrec.batch.forecast_files replaced by a recorder: the CLI's argument handling alone is tested."""
    seen = []

    def fake(model, inputs, output, **kwargs):
        seen.append({"inputs": list(inputs), **kwargs})
        return pd.DataFrame({"unique_id": ["a"], "ds": [0], "y_hat": [0.0]})

    monkeypatch.setattr(tsrec.batch, "forecast_files", fake)
    return seen


def test_two_fh_values_are_refused_not_cut_to_the_first(calls, capsys):
    """Found by mutation (``len(args.fh) > 2``): '--fh 1 2' would forecast only step 1 without a word."""
    argv = ["forecast", "--model", "m", "--input", "a.csv", "--output", "o.csv", "--fh", "1", "2"]
    assert main(argv) == 2
    assert "--fh takes one integer N" in capsys.readouterr().err
    assert calls == []


def test_a_repeated_input_option_adds_its_files(calls):
    """Found by mutation (argparse's default 'store' for --input): '--input a --input b' must read both files."""
    assert main(["forecast", "--model", "m", "--input", "a.csv", "--input", "b.csv", "c.csv", "--output", "o.csv"]) == 0
    assert calls[0]["inputs"] == ["a.csv", "b.csv", "c.csv"]
