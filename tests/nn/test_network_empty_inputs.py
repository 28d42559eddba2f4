"""Empty inputs and NaN through the networks: an empty batch or time axis is refused in one message by every
network and public block; NaN passes through the networks without a kernel, as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.nn import (ARNet, ClosedLoopSSM, CompanionSSM, CycleNet, InstanceNorm, LiquidForecaster, LS4, LS4Encoder,
                      LTCCell, MambaBlock, SMamba, SMambaTokens, SpaceTime, SpaceTimeEncoder)
from tsrec.nn import _checks
from tsrec.nn.chimera import Chimera, Chimera2DSSM, ChimeraEncoder, ChimeraLayer
from tsrec.nn.heads import SequenceClassifier
from tsrec.nn.ls4 import GaussianHead
from tsrec.nn.pgn import PGNEncoder
from tsrec.nn.s4 import S4D, S4Stack
from tsrec.nn.s4_nplr import S4NPLR
from tsrec.nn.smamba import SMambaLayer
from tsrec.nn.spacetime import PreprocessSSM
from tsrec.nn.timefeatures import CalendarInput
from tsrec.nn.tpgn import TPGN

MAMBA = {"d_model": 8, "d_ff": 8}
CHIMERA = {"d_model": 8, "d_state": 2, "d_ff": 8, "e_layers": 1}
LS4_KW = {"z_dim": 2, "d_model": 8, "d_state": 4, "n_layers": 1, "n_samples": 3}
ST = {"width": 8, "n_kernels": 4, "kernel_dim": 4}
HOUR = 3600 * 10**9


def x(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def pos(*shape: int) -> torch.Tensor:
    return torch.arange(int(np.prod(shape))).view(*shape)


# (id, call on an input of batch b and time t): every network and public block; fixed-lookback ones read t=0
EMPTY = [
    ("arnet", lambda b, t: ARNet(6, 2)(x(b, t, 3))),
    ("cyclenet", lambda b, t: CycleNet(6, 2, 3, 4)(x(b, t, 3), pos(b))),
    ("liquid-ltc", lambda b, t: LiquidForecaster(2, 3, units=4)(x(b, t, 3))),
    ("ltc-scan", lambda b, t: LTCCell(3, 4).scan(x(b, t, 3), torch.zeros(b, 4))),
    ("closed-loop", lambda b, t: ClosedLoopSSM(8, 4)(x(b, t, 8), 3)),
    ("companion", lambda b, t: CompanionSSM(8, 4, 4)(x(b, t, 8))),
    ("preprocess", lambda b, t: PreprocessSSM(8)(x(b, t, 8))),
    ("spacetime", lambda b, t: SpaceTime(6, 2, **ST)(x(b, t, 3))),
    ("spacetime-encoder", lambda b, t: SpaceTimeEncoder(3, width=8, n_kernels=4, state_dim=4)(x(b, t, 3))),
    ("s4d", lambda b, t: S4D(3, 4)(x(b, t, 3))),
    ("s4nplr", lambda b, t: S4NPLR(3, 4, l_max=10)(x(b, t, 3))),
    ("s4-stack", lambda b, t: S4Stack(8, 1, 4)(x(b, t, 8))),
    ("mamba", lambda b, t: MambaBlock(8, d_state=4)(x(b, t, 8))),
    ("smamba-layer", lambda b, t: SMambaLayer(8, 8, 2, 0.0)(x(b, t, 8))),
    ("smamba", lambda b, t: SMamba(6, 2, 3, **MAMBA)(x(b, t, 3))),
    ("smamba-tokens", lambda b, t: SMambaTokens(6, **MAMBA)(x(b, t, 3))),
    ("chimera", lambda b, t: Chimera(6, 2, **CHIMERA)(x(b, t, 3))),
    ("chimera-closed-loop", lambda b, t: Chimera(6, 2, decoder="closed_loop", decoder_dim=4, **CHIMERA)(x(b, t, 3))),
    ("chimera-encoder", lambda b, t: ChimeraEncoder(**CHIMERA)(x(b, t, 3))),
    ("chimera2d", lambda b, t: Chimera2DSSM(8, 2)(x(b, t, 3, 8))),
    ("chimera-layer", lambda b, t: ChimeraLayer(8, 2, 8, 0.0)(x(b, t, 3, 8))),
    ("ls4", lambda b, t: LS4(3, 2, **LS4_KW)(x(b, t, 3))),
    ("ls4-loss", lambda b, t: LS4(3, 2, lookback=6, **LS4_KW).loss(x(b, t, 3))),
    ("ls4-encoder", lambda b, t: LS4Encoder(3, 8, 1, 4)(x(b, t, 3))),
    ("gaussian-head", lambda b, t: GaussianHead(8, 2, 4)(x(b, t, 8))),
    ("pgn-encoder", lambda b, t: PGNEncoder(3, 4, 6)(x(b, t, 3))),
    ("tpgn", lambda b, t: TPGN(6, 2, 3, 2, hidden=4)(x(b, t, 3))),
    ("calendar", lambda b, t: CalendarInput(TPGN(6, 2, 3, 2, hidden=4, n_time_features=4), 6, HOUR)(
        x(b, t, 3), pos(b))),
    ("classifier", lambda b, t: SequenceClassifier(PGNEncoder(3, 4, 6), hidden=4, n_outputs=2)(x(b, t, 3))),
    ("instance-norm", lambda b, t: InstanceNorm().normalize(x(b, t, 3))),
]


@pytest.mark.parametrize("call", [c[1] for c in EMPTY], ids=[c[0] for c in EMPTY])
def test_an_empty_batch_is_refused(call) -> None:
    """SpaceTime, PGN, TPGN and LS4 failed inside torch ("cannot reshape tensor of 0 elements"), Chimera in
    its kernel; the others returned an empty output. Now every network says so, in one message."""
    with pytest.raises(ValueError, match=r"got \(0, .*the batch axis is empty: pass at least one sample \(skip "
                                         r"the call when there is nothing to compute\)"):
        call(0, 6)


@pytest.mark.parametrize("call", [c[1] for c in EMPTY], ids=[c[0] for c in EMPTY])
def test_an_empty_time_axis_is_refused(call) -> None:
    """Before, Chimera2DSSM, ChimeraLayer and PreprocessSSM failed in their kernels, with the kernels' words."""
    empty = r"the (time|lag|length) axis is empty: pass at least one step|the tokens axis is empty: .* one token"
    with pytest.raises(ValueError, match=rf"got \(2, 0, .*({empty}|pass \w+ of 6 steps)"):
        call(2, 0)


def test_networks_without_a_kernel_pass_nan_through_as_documented() -> None:
    """The checks read no values; the kernels refuse NaN, the networks without one pass it on (the
    estimators refuse NaN first). The module docstring names them."""
    bad = x(2, 6, 3)
    bad[0, 0, 0] = float("nan")
    for net in (ARNet(6, 2), TPGN(6, 2, 3, 2, hidden=4), PGNEncoder(3, 4, 6)):
        assert net(bad)[0].isnan().any() and not net(bad)[1].isnan().any()
    assert CycleNet(6, 2, 3, 4)(bad, pos(2))[0].isnan().any()
    with pytest.raises(ValueError, match="NaN or inf"):
        SpaceTime(6, 2, **ST)(bad)
    for name in ("ARNet", "CycleNet", "PGN", "pass NaN", "estimators refuse NaN"):
        assert name in " ".join(_checks.__doc__.split()), name
    assert "NaN" in _checks.check_input.__doc__
