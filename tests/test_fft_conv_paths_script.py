"""benchmarks/fft_conv_paths.py: times fft_conv's FFT lengths and output layouts against the earlier ones."""

from __future__ import annotations

import pytest

from tsrec.kernels.fft_conv import fast_fft_len


@pytest.fixture(scope="module")
def paths(benchmark_script):
    return benchmark_script("fft_conv_paths")


def test_previous_rule_is_the_smallest_smooth_length(paths):
    assert [paths.smooth_len(n) for n in (1, 7, 97, 671, 1871)] == [1, 8, 100, 675, 1875]
    differing = [n for n in paths.NEEDS if paths.smooth_len(n) != fast_fft_len(n)]
    # the rules differ exactly where the smallest smooth length is odd
    assert differing and all(paths.smooth_len(n) % 2 == 1 for n in differing)
    assert all(paths.smooth_len(n) % 2 == 0 for n in set(paths.NEEDS) - set(differing))


def test_report_has_all_three_tables(paths, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "NEEDS", (191, 671, 721))
    monkeypatch.setattr(paths, "LAYOUT_SIZES", ((2, 40, 4),))
    monkeypatch.setattr(paths, "BACKWARD_SIZES", ((2, 40, 4, 1), (2, 40, 4, 3)))
    out = tmp_path / "paths.md"
    paths.main(["--repeats", "1", "--out", str(out)])
    text = out.read_text()
    assert "| 671 | 675 |" in text and "| 721 | 729 |" in text and "| 191 " not in text  # both rules: 192
    assert "| 2, 40, 4 |" in text and "| 2, 40, 4, 3 |" in text
    assert text.count("\n| ") == (1 + 2) + (1 + 1) + (1 + 2)  # header and rows per table
    # the written-out backward gives autograd's gradients
    differences = [float(line.rsplit("|", 2)[-2]) for line in text.splitlines() if line.startswith("| 2, 40, 4, ")]
    assert len(differences) == 2 and max(differences) < 1e-4
