"""Modules built from parameters alone say their settings in repr, as torch's own layers do."""

from __future__ import annotations

import pytest

from tsrec.nn import ClosedLoopSSM, CompanionSSM, LTCCell


@pytest.mark.parametrize("module", [
    LTCCell(input_size=2, units=4, ode_unfolds=3, epsilon=1e-6),
    CompanionSSM(width=8, n_kernels=2, state_dim=4, norm_order=2, skip=False),
    ClosedLoopSSM(width=4, state_dim=3, norm_order=0),
])
def test_the_repr_holds_the_arguments_that_build_the_same_module(module):
    # they printed as LTCCell(), CompanionSSM(), ClosedLoopSSM()
    rebuilt = eval(repr(module), {type(module).__name__: type(module)})  # noqa: S307 - our own repr
    assert repr(rebuilt) == repr(module) and repr(module) != f"{type(module).__name__}()"
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in module.parameters()]
