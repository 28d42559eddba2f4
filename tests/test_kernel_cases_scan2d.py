"""benchmarks/kernel_cases.py's scan2d inputs describe a stable system, as Chimera's own are at the start.

Its inputs once had every decay ``exp(delta A)`` near 1, the cross terms included: the output grew
with the lattice paths through the grid, to 1e9 at V = 7 and past float32 (NaN) at V = 321 and
T = 96, and the GPU benchmark's error column read nan.
"""

from __future__ import annotations

import pytest
import torch

# the GPU benchmark's scan2d widths (channels 16, state 8), time and batch cut down for one CPU core
SIZE = dict(batch=2, time=24, chans=16, state=8)


@pytest.fixture(scope="module")
def cases(benchmark_script):
    return benchmark_script("kernel_cases")


@pytest.mark.parametrize("n_vars", [7, 321, 862])  # the variate sweep, and the wavefront past 256 a batch row
def test_scan2d_inputs_keep_the_output_finite_modest_and_float32_accurate(cases, n_vars):
    torch.manual_seed(0)
    x = cases._scan2d_make({**SIZE, "vars": n_vars}, "cpu")
    with torch.no_grad():
        got = cases._scan2d_call(x, "torch")
        ref = cases._scan2d_call({k: v.double() for k, v in x.items()}, "torch")
    assert got.dtype == torch.float32 and torch.isfinite(got).all()
    # unit-variance x, B and C of variance 1/3: |y| about 10 here; it must not grow geometrically with V
    assert ref.abs().max() < 100, float(ref.abs().max())
    rel = float((got.double() - ref).abs().max() / ref.abs().max())
    assert rel < 1e-4, rel  # what the GPU benchmark's error column would show for the torch path itself


def test_scan2d_inputs_are_at_chimeras_initial_ranges(cases):
    from tsrec.nn.chimera_ssm import TREND_DT, VARIATE_DT, Chimera2DSSM

    assert (cases.SCAN2D_DT1, cases.SCAN2D_DT2) == (TREND_DT, VARIATE_DT)
    x = cases._scan2d_make({**SIZE, "vars": 3}, "cpu")
    model = Chimera2DSSM(SIZE["chans"], SIZE["state"], TREND_DT, VARIATE_DT)
    for name, a in zip(("A1", "A2", "A3", "A4"), model.transitions()):
        torch.testing.assert_close(x[name].detach(), a.detach(), msg=name)
    for name, (low, high) in (("delta1", TREND_DT), ("delta2", VARIATE_DT)):
        assert low <= x[name].min() and x[name].max() <= high, name
    assert all(x[name].requires_grad for name in x)  # leaves: the benchmark backpropagates into every input
