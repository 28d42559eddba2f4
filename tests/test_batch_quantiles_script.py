"""benchmarks/batch_quantiles.py: the three ways are timed in alternating rounds, the shared walk is
restored afterwards, and the report compares each with the point forecasts alone."""

from __future__ import annotations

import pytest


def test_each_way_is_timed_every_round_and_reported(benchmark_script, tmp_path):
    script = benchmark_script("batch_quantiles")
    import tsrec.batch._chunks as chunks

    shared = chunks.shared_walks
    out = tmp_path / "report.md"
    assert script.main(["--series", "2", "--fh", "2", "--repeats", "1", "--out", str(out)]) == 0
    assert chunks.shared_walks is shared  # the "two walks" round must not leave sharing off
    text = out.read_text()
    assert "Command: `python benchmarks/batch_quantiles.py --series 2 --fh 2 --repeats 1 --out" in text
    rows = [line for line in text.splitlines() if line.startswith(("| without", "| two levels"))]
    assert [row.split(" | ")[0] for row in rows] == ["| " + way for way in script.WAYS]
    assert rows[0].endswith("| 1.00x |")
    assert "Measured at commit" in text


@pytest.mark.parametrize("argv, message", [(["--series", "0"], "--series: must be an integer >= 1, got 0"),
                                           (["--fh", "x"], "--fh: must be an integer >= 1, got 'x'")])
def test_bad_arguments_exit_2_before_fitting(benchmark_script, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as stopped:
        benchmark_script("batch_quantiles").main([*argv, "--out", str(tmp_path / "r.md")])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
