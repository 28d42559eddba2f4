"""Bad inputs to the networks fail with a message that says what is wrong and how to fix it.

Each case was accepted silently (a wrong result), or failed inside torch ("mat1 and mat2 shapes
cannot be multiplied", an IndexError), before the networks checked their input (nn input audit).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.nn import (ARNet, CfCCell, ClosedLoopSSM, CompanionSSM, CycleNet, InstanceNorm, LiquidEncoder,
                      LiquidForecaster, LS4, LS4Encoder, LTCCell, MambaBlock, SMamba, SMambaTokens, SpaceTime,
                      SpaceTimeEncoder)
from tsrec.nn.chimera import Chimera, Chimera2DSSM, ChimeraEncoder, ChimeraLayer
from tsrec.nn.heads import SequenceClassifier
from tsrec.nn.ls4 import GaussianHead
from tsrec.nn.pgn import PGNEncoder, PGNLayer
from tsrec.nn.s4 import S4D, S4Stack, S4Unit
from tsrec.nn.s4_nplr import S4NPLR
from tsrec.nn.smamba import SMambaLayer
from tsrec.nn.spacetime import PreprocessSSM, SpaceTimeBlock
from tsrec.nn.timefeatures import CalendarInput
from tsrec.nn.tpgn import TPGN

MAMBA = {"d_model": 8, "d_ff": 8}
CHIMERA = {"d_model": 8, "d_state": 2, "d_ff": 8, "e_layers": 1}
LS4_KW = {"z_dim": 2, "d_model": 8, "d_state": 4, "n_layers": 1, "n_samples": 3}
ST = {"width": 8, "n_kernels": 4, "kernel_dim": 4}
HOUR = 3600 * 10**9


def x(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape).to(dtype)


def pos(*shape: int) -> torch.Tensor:
    return torch.arange(int(np.prod(shape))).view(*shape)


def stepped(net, width: int, *args):
    """``net.step`` on ``args`` from the state of a valid forward over (2, 6, width)."""
    return net.step(*args, net(x(2, 6, width), return_state=True)[1])


# (id, call, error, message pattern); each call builds a tiny network and makes one bad call
CASES = [
    # channels: broadcast or accepted before
    ("cyclenet-channels", lambda: CycleNet(6, 2, 3, 4)(x(2, 6, 1), pos(2)), ValueError,
     r"x must have shape \(batch, 6, 3\).*got \(2, 6, 1\): pass n_channels=1 when building, or x with 3 channels"),
    ("cyclenet-position-batch", lambda: CycleNet(6, 2, 3, 4)(x(2, 6, 3), pos(1)), ValueError,
     r"position must have shape \(2,\).*got \(1,\)"),
    ("cyclenet-position-2d", lambda: CycleNet(6, 2, 3, 4)(x(2, 6, 3), pos(2, 1)), ValueError, r"got \(2, 1\)"),
    ("cyclenet-position-float", lambda: CycleNet(6, 2, 3, 4)(x(2, 6, 3), torch.tensor([0.5, 1.5])), TypeError,
     r"whole step indices.*position.long\(\)"),
    ("cyclenet-position-none", lambda: CycleNet(6, 2, 3, 4)(x(2, 6, 3), None), TypeError, "integer tensor"),
    ("liquid-ltc-channels", lambda: LiquidForecaster(2, 3, units=4)(x(2, 6, 1)), ValueError,
     r"pass n_channels=1 when building, or x with 3 channels"),
    ("liquid-cfc-channels", lambda: LiquidForecaster(2, 3, units=4, cell="cfc", backbone_units=8)(x(2, 6, 5)),
     ValueError, "n_channels=5"),
    ("ltc-scan-features", lambda: LTCCell(3, 4).scan(x(2, 6, 1), torch.zeros(2, 4)), ValueError,
     r"x must have shape \(batch, time, 3\).*input_size=1"),
    ("ltc-step-features", lambda: LTCCell(3, 4)(x(2, 1), torch.zeros(2, 4)), ValueError, "x_t must have shape"),
    # one length per sample: the batch axis was named as missing, and elapsed.unsqueeze(0) gave (1, 2)
    ("ltc-scan-elapsed-per-sample", lambda: LTCCell(3, 4).scan(x(2, 6, 3), torch.zeros(2, 4), elapsed=x(2).abs()),
     ValueError, r"got \(2,\), 1 dims: add the time axis: elapsed\.unsqueeze\(-1\)\.expand\(2, 6\) repeats each "
     "value along it$"),
    ("ltc-scan-elapsed-per-sample-or-step",
     lambda: LTCCell(3, 4).scan(x(6, 6, 3), torch.zeros(6, 4), elapsed=x(6).abs()),
     ValueError, r"add the batch axis \(elapsed\.unsqueeze\(0\) for one sample\), or add the time axis: "
     r"elapsed\.unsqueeze\(-1\)\.expand\(6, 6\)"),
    ("ltc-step-elapsed", lambda: LTCCell(3, 4)(x(2, 3), torch.zeros(2, 4), elapsed=-1.0), ValueError, "elapsed"),
    ("ltc-step-elapsed-nan", lambda: LTCCell(3, 4)(x(2, 3), torch.zeros(2, 4), elapsed=float("nan")), ValueError,
     "elapsed"),
    # one gap per sample is (batch,): (batch, 1) is refused, as (1, batch) would broadcast against the units
    ("cfc-step-elapsed-per-sample", lambda: CfCCell(3, 4, backbone_units=8)(x(4, 3), torch.zeros(4, 4),
                                                                            elapsed=torch.rand(1, 4)),
     ValueError, r"elapsed must have shape \(4,\) \(batch,\)"),
    ("ltc-step-elapsed-tensor", lambda: LTCCell(3, 4)(x(4, 3), torch.zeros(4, 4), elapsed=torch.rand(4, 1)),
     ValueError, r"elapsed must have shape \(4,\) \(batch,\); got \(4, 1\).*elapsed\.squeeze\(-1\)"),
    ("ltc-scan-elapsed-zero", lambda: LTCCell(3, 4).scan(x(2, 6, 3), torch.zeros(2, 4), torch.zeros(2, 6)),
     ValueError, "finite lengths > 0"),
    ("cfc-step-same-sum", lambda: CfCCell(3, 4, backbone_units=8)(x(2, 2), torch.zeros(2, 5)), ValueError,
     "input_size=2"),
    ("cfc-scan-state", lambda: CfCCell(3, 4, backbone_units=8).scan(x(2, 6, 3), torch.zeros(2, 5)), ValueError,
     r"h must have shape \(2, 4\).*units=5"),
    ("liquid-encoder-cell", lambda: LiquidEncoder(torch.nn.Linear(2, 2)), TypeError, "LTCCell or a CfCCell"),
    ("closed-loop-width", lambda: ClosedLoopSSM(8, 4)(x(2, 5, 1), 3), ValueError,
     r"u must have shape \(batch, lag, 8\).*width=1"),
    ("closed-loop-empty-lag", lambda: ClosedLoopSSM(8, 4)(x(2, 0, 8), 3), ValueError, "lag axis is empty"),
    ("closed-loop-horizon", lambda: ClosedLoopSSM(8, 4)(x(2, 5, 8), 0), ValueError, "horizon must be"),
    ("open-loop-width", lambda: ClosedLoopSSM(8, 4).open_loop(x(2, 5, 6)), ValueError, "u must have shape"),
    ("final-state-width", lambda: ClosedLoopSSM(8, 4).final_state(x(2, 5, 6)), ValueError, "u must have shape"),
    ("companion-width", lambda: CompanionSSM(8, 4, 4)(x(2, 5, 6)), ValueError,
     r"u must have shape \(batch, time, 8\).*got \(2, 5, 6\)"),
    ("companion-int", lambda: CompanionSSM(8, 4, 4)(torch.ones(2, 5, 8, dtype=torch.long)), TypeError,
     r"u.float\(\)"),
    ("s4d-channels", lambda: S4D(3, 4)(x(2, 6, 1)), ValueError, r"u must have shape \(batch, time, 3\)"),
    ("s4d-step-channels", lambda: S4D(3, 4).step(x(2, 1), torch.zeros(2, 3, 2, dtype=torch.complex64)),
     ValueError, "u must have shape"),
    ("s4nplr-channels", lambda: S4NPLR(3, 4, l_max=10)(x(2, 6, 5)), ValueError, "pass channels=5"),
    ("s4nplr-step-batch", lambda: (lambda n: n.step(x(1, 3), n(x(2, 6, 3), return_state=True)[1]))(
        S4NPLR(3, 4, l_max=10)), ValueError, r"u must have shape \(2, 3\)"),
    ("s4nplr-step-state", lambda: S4NPLR(3, 4, l_max=10).step(x(2, 3), torch.zeros(2, 3, 2)), TypeError,
     "state must be the"),
    # S-Mamba's time features
    ("smamba-fewer-channels", lambda: SMamba(6, 2, 3, **MAMBA)(x(2, 6, 2)), ValueError, "n_channels=2"),
    ("smamba-mark-refused", lambda: SMamba(6, 2, 3, **MAMBA)(x(2, 6, 3), x(2, 6, 2)), ValueError,
     "x_mark given but the network was built with n_time_features=0: build it with n_time_features=2"),
    ("smamba-mark-required", lambda: SMamba(6, 2, 3, n_time_features=2, **MAMBA)(x(2, 6, 3)), ValueError,
     r"x_mark is required.*shape \(2, 6, 2\)"),
    ("smamba-mark-features", lambda: SMamba(6, 2, 3, n_time_features=2, **MAMBA)(x(2, 6, 3), x(2, 6, 3)),
     ValueError, r"x_mark must have shape \(2, 6, 2\).*n_time_features=3"),
    ("smamba-mark-time", lambda: SMamba(6, 2, 3, n_time_features=2, **MAMBA)(x(2, 6, 3), x(2, 7, 2)),
     ValueError, "x_mark of 6 steps"),
    ("smamba-mark-batch", lambda: SMamba(6, 2, 3, n_time_features=2, **MAMBA)(x(2, 6, 3), x(1, 6, 2)),
     ValueError, "x_mark with batch 2"),
    ("smamba-mark-float64", lambda: SMamba(6, 2, 3, n_time_features=2, **MAMBA)(x(2, 6, 3), x(2, 6, 2).double()),
     TypeError, "x_mark has dtype torch.float64"),
    ("smamba-ntf-negative", lambda: SMamba(6, 2, 3, n_time_features=-1, **MAMBA), ValueError,
     "n_time_features must be an integer >= 0"),
    ("smamba-ntf-float", lambda: SMamba(6, 2, 3, n_time_features=2.0, **MAMBA), ValueError, "n_time_features"),
    ("calendar-position-float", lambda: CalendarInput(TPGN(4, 2, 3, 2, hidden=4, n_time_features=4), 4, HOUR)(
        x(2, 4, 3), torch.tensor([0.7, 5.2])), TypeError, "whole step indices"),
    ("calendar-step-float", lambda: CalendarInput(TPGN(4, 2, 3, 2, hidden=4, n_time_features=4), 4, 1.5),
     ValueError, "step_ns"),
    # the wrapper read x.dtype first: AttributeError: 'list' object has no attribute 'dtype'
    ("calendar-x-list", lambda: CalendarInput(TPGN(4, 2, 3, 2, hidden=4, n_time_features=4), 4, HOUR)(
        x(2, 4, 3).tolist(), torch.tensor([0, 5])), TypeError, r"x must be a torch\.Tensor .*got list"),
    # (batch, time, channels) inputs
    ("spacetime-4d", lambda: SpaceTime(6, 2, **ST)(x(2, 6, 3, 2)), ValueError, r"got \(2, 6, 3, 2\), 4 dims"),
    ("spacetime-2d", lambda: SpaceTime(6, 2, **ST)(x(2, 6)), ValueError, r"x.unsqueeze\(0\)"),
    ("spacetime-encoder-repeat", lambda: SpaceTimeEncoder(None, width=8, n_kernels=4, state_dim=4)(x(2, 6, 8)),
     ValueError, r"x must have shape \(batch, time, 1\)"),
    ("spacetime-encoder-features", lambda: SpaceTimeEncoder(3, width=8, n_kernels=4, state_dim=4)(x(2, 6, 5)),
     ValueError, "in_features=5"),
    ("spacetime-loss-horizon", lambda: SpaceTime(6, 2, **ST).loss_terms(x(2, 6, 3), x(2, 1, 3)), ValueError,
     r"y must have shape \(2, 2, 3\).*horizon=1"),
    ("spacetime-loss-channels", lambda: SpaceTime(6, 2, **ST).loss_terms(x(2, 6, 3), x(2, 2, 1)), ValueError,
     "y with 3 channels"),
    ("spacetime-loss-batch", lambda: SpaceTime(6, 2, **ST).loss_terms(x(2, 6, 3), x(1, 2, 3)), ValueError,
     "y with batch 2"),
    ("spacetime-steps-0", lambda: SpaceTime(6, 2, **ST)(x(2, 6, 3), steps=0), ValueError,
     r"steps must be an integer >= 1 \(or None for horizon=2\), got 0"),
    ("chimera-closed-loop-steps-0", lambda: Chimera(6, 2, decoder="closed_loop", decoder_dim=4, **CHIMERA)(
        x(2, 6, 3), steps=0), ValueError, "steps must be an integer >= 1"),
    ("instance-norm-2d", lambda: InstanceNorm().normalize(x(6, 3)), ValueError, "x must have shape"),
    ("instance-norm-empty", lambda: InstanceNorm().normalize(x(2, 0, 3)), ValueError, "time axis is empty"),
    ("mamba-width", lambda: MambaBlock(8, d_state=4)(x(2, 5, 7)), ValueError, "d_model=7"),
    ("smamba-tokens-no-series", lambda: SMambaTokens(6, **MAMBA)(x(2, 6, 0)), ValueError, "series axis is empty"),
    # fixed lookback
    ("arnet-time", lambda: ARNet(6, 2)(x(2, 7, 3)), ValueError,
     r"x must have shape \(batch, 6, channels\) \(batch, n_lags, channels\) as built; got \(2, 7, 3\): "
     r"pass n_lags=7 when building, or x of 6 steps"),
    ("arnet-2d", lambda: ARNet(6, 2)(x(6, 3)), ValueError, r"2 dims: add the batch axis \(x\.unsqueeze\(0\) for one "
     r"sample\)$"),
    # (batch, time) of one series: the channel axis is missing, which the batch advice made (1, 2, 6)
    ("arnet-2d-batch-time", lambda: ARNet(6, 2)(x(2, 6)), ValueError, r"got \(2, 6\), 2 dims: add the channels axis "
     r"\(x\.unsqueeze\(-1\)\) if its axes are \(batch, n_lags\)$"),
    ("smamba-tokens-2d", lambda: SMambaTokens(6, **MAMBA)(x(2, 6)), ValueError, r"add the series axis "
     r"\(series\.unsqueeze\(-1\)\) if its axes are \(batch, length\)$"),
    # a last axis of features the network fixes (d_model), not channels: only the batch axis can be missing
    ("mamba-2d", lambda: MambaBlock(8, d_state=4)(x(4, 5)), ValueError, r"got \(4, 5\), 2 dims: add the batch axis "
     r"\(h\.unsqueeze\(0\) for one sample\)$"),
    ("mamba-4d", lambda: MambaBlock(8, d_state=4)(x(2, 3, 4, 8)), ValueError, r"4 dims: pass a 3-dim tensor$"),
    ("arnet-1d", lambda: ARNet(6, 2)(x(6)), ValueError, r"1 dims: pass a 3-dim tensor$"),
    ("liquid-2d-either", lambda: LiquidEncoder(LTCCell(1, 4))(x(2, 7)), ValueError, r"add the batch axis .*, or add "
     r"the features axis \(x\.unsqueeze\(-1\)\) if its axes are \(batch, time\)$"),
    ("arnet-numpy", lambda: ARNet(6, 2)(np.zeros((2, 6, 3))), TypeError, r"torch.as_tensor\(x\)"),
    ("cyclenet-time", lambda: CycleNet(6, 2, 3, 4)(x(2, 5, 3), pos(2)), ValueError, "lookback=5"),
    ("smamba-time", lambda: SMamba(6, 2, 3, **MAMBA)(x(2, 7, 3)), ValueError, "lookback=7"),
    ("smamba-2d", lambda: SMamba(6, 2, 3, **MAMBA)(x(6, 3)), ValueError, "2 dims"),
    ("smamba-tokens-time", lambda: SMambaTokens(6, **MAMBA)(x(2, 7, 3)), ValueError, "length=7"),
    ("chimera-time", lambda: Chimera(6, 2, **CHIMERA)(x(2, 7, 3)), ValueError, "lookback=7"),
    ("ls4-channels", lambda: LS4(3, 2, lookback=6, **LS4_KW)(x(2, 6, 1)), ValueError, "n_channels=1"),
    ("ls4-loss-channels", lambda: LS4(3, 2, lookback=6, **LS4_KW).loss(x(2, 6, 5)), ValueError, "n_channels=5"),
    ("ls4-sample-steps", lambda: (lambda n: n.sample(x(2, 6, 3), 0, 3, n.generator()))(LS4(3, 2, **LS4_KW)),
     ValueError, "n_steps must be an integer >= 1"),
    ("ls4-encoder-features", lambda: LS4Encoder(3, 8, 1, 4)(x(2, 6, 5)), ValueError, "n_inputs=5"),
    ("pgn-features", lambda: PGNLayer(3, 4, 6)(x(2, 6, 5)), ValueError, "in_features=5"),
    # sizes another argument constrains: a suggestion the constructor would refuse is not made
    ("pgn-grouped-features", lambda: PGNLayer(4, 6, 5, groups=2)(x(2, 5, 3)), ValueError,
     r"got \(2, 5, 3\): pass x with 4 features$"),
    ("pgn-grouped-features-ok", lambda: PGNLayer(4, 6, 5, groups=2)(x(2, 5, 6)), ValueError,
     "pass in_features=6 when building"),
    ("companion-grouped-width", lambda: CompanionSSM(4, 2, 3)(x(2, 5, 3)), ValueError,
     r"got \(2, 5, 3\): pass u with width 4$"),
    ("companion-grouped-width-ok", lambda: CompanionSSM(4, 2, 3)(x(2, 5, 6)), ValueError, "pass width=6 when building"),
    ("tpgn-lookback", lambda: TPGN(8, 4, 1, 4)(x(2, 6, 1)), ValueError, r"got \(2, 6, 1\): pass x of 8 steps$"),
    ("tpgn-lookback-ok", lambda: TPGN(8, 4, 1, 4)(x(2, 12, 1)), ValueError, "pass lookback=12 when building"),
    # inner public blocks: raw torch errors ("mat1 and mat2 shapes", LayerNorm, IndexError) or silent before
    ("chimera2d-width", lambda: Chimera2DSSM(8, 2)(x(2, 5, 3, 7)), ValueError,
     r"u must have shape \(batch, time, variates, 8\) .* as built; got \(2, 5, 3, 7\): pass d_model=7 when building"),
    ("chimera2d-no-variates", lambda: Chimera2DSSM(8, 2)(x(2, 5, 0, 8)), ValueError, "variates axis is empty"),
    ("chimera2d-float64", lambda: Chimera2DSSM(8, 2)(x(2, 5, 3, 8, dtype=torch.float64)), TypeError, "float64"),
    ("chimera-layer-width", lambda: ChimeraLayer(8, 2, 8, 0.0)(x(2, 5, 3, 7)), ValueError,
     r"x must have shape \(batch, time, variates, 8\).*d_model=7"),
    ("smamba-layer-width", lambda: SMambaLayer(8, 8, 2, 0.0)(x(2, 5, 7)), ValueError,
     r"x must have shape \(batch, tokens, 8\).*pass d_model=7 when building, or x with d_model 8"),
    ("preprocess-width", lambda: PreprocessSSM(8)(x(2, 6, 5)), ValueError,
     r"u must have shape \(batch, time, 8\).*pass width=5"),
    ("s4-stack-width", lambda: S4Stack(8, 1, 4)(x(2, 6, 5)), ValueError, r"x must have shape \(batch, time, 8\)"),
    ("s4-stack-step-width", lambda: stepped(S4Stack(8, 1, 4), 8, x(2, 5)), ValueError,
     r"x must have shape \(batch, 8\).*d_model=5"),
    ("s4-stack-step-no-states", lambda: S4Stack(8, 1, 4).step(x(2, 8), []), ValueError,
     r"states must be the list of 1 per-layer states that forward\(x, return_state=True\).*got 0 states"),
    ("s4-stack-step-states-none", lambda: S4Stack(8, 1, 4).step(x(2, 8), None), TypeError, "got NoneType"),
    ("s4-stack-step-diag-state", lambda: S4Stack(8, 1, 4, mode="diag").step(x(2, 8), [torch.zeros(2, 8, 3)]),
     TypeError, r"state must be the complex state \(batch, 8, 2\).*got dtype torch.float32"),
    ("s4d-step-modes", lambda: S4D(3, 4).step(x(2, 3), torch.zeros(2, 3, 5, dtype=torch.complex64)), ValueError,
     r"state must have shape \(batch, 3, 2\).*pass state with 2 modes"),
    ("s4nplr-step-real-state", lambda: (lambda n: n.step(x(2, 3), (torch.zeros(2, 3, 2), n.step_constants())))(
        S4NPLR(3, 4, l_max=10)), TypeError, r"state\[0\] must be the complex state"),
    ("s4-unit-step-width", lambda: stepped(S4Unit(4, 4), 4, x(2, 5)), ValueError, "u must have shape"),
    ("ls4-encoder-step-features", lambda: stepped(LS4Encoder(3, 8, 1, 4), 3, x(2, 5)), ValueError,
     r"x must have shape \(batch, 3\).*n_inputs=5"),
    ("gaussian-head-width", lambda: GaussianHead(8, 2, 4)(x(2, 6, 5)), ValueError,
     r"h must have shape \(batch, time, 8\).*d_model=5"),
    ("gaussian-head-step-states", lambda: GaussianHead(8, 2, 4).step(x(2, 8), []), ValueError,
     r"\[mu, log sigma\] pair.*got 0 states"),
    # dtype
    ("arnet-float64", lambda: ARNet(6, 2)(x(2, 6, 3, dtype=torch.float64)), TypeError,
     r"x has dtype torch.float64 but the network's parameters are torch.float32: cast x with x.float\(\) "
     r"or the network with .double\(\)"),
    ("arnet-int", lambda: ARNet(6, 2)(torch.ones(2, 6, 3, dtype=torch.long)), TypeError,
     r"torch.int64 .*cast x with x.float\(\)$"),
    ("cyclenet-int", lambda: CycleNet(6, 2, 3, 4)(torch.ones(2, 6, 3, dtype=torch.long), pos(2)), TypeError,
     "torch.int64"),
    ("smamba-float64", lambda: SMamba(6, 2, 3, **MAMBA)(x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("spacetime-float64", lambda: SpaceTime(6, 2, **ST)(x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("chimera-float64", lambda: Chimera(6, 2, **CHIMERA)(x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("chimera-encoder-int", lambda: ChimeraEncoder(**CHIMERA)(torch.ones(2, 6, 3, dtype=torch.long)), TypeError,
     "int64"),
    ("liquid-cfc-float64", lambda: LiquidForecaster(2, 3, units=4, cell="cfc", backbone_units=8)(
        x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("ltc-scan-int", lambda: LTCCell(3, 4).scan(torch.ones(2, 6, 3, dtype=torch.long), torch.zeros(2, 4)),
     TypeError, "int64"),
    ("ls4-float64", lambda: LS4(3, 2, **LS4_KW)(x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("mamba-float64", lambda: MambaBlock(8, d_state=4)(x(2, 5, 8, dtype=torch.float64)), TypeError, "float64"),
    ("pgn-float64", lambda: PGNEncoder(3, 4, 6)(x(2, 6, 3, dtype=torch.float64)), TypeError, "float64"),
    ("tpgn-float64", lambda: TPGN(4, 2, 3, 2, hidden=4)(x(2, 4, 3, dtype=torch.float64)), TypeError, "float64"),
    ("instance-norm-int", lambda: InstanceNorm().normalize(torch.ones(2, 6, 3, dtype=torch.long)), TypeError,
     "int64"),
]


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_fix(call, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def _valid_calls(i):
    """The calls that worked before the checks, with sizes made by ``i`` (int or a NumPy integer)."""
    b, lb, h, c = 2, i(6), i(2), i(3)
    return {
        "arnet": lambda: ARNet(lb, h, hidden_layers=[i(4)])(x(b, 6, 3)),
        "cyclenet": lambda: CycleNet(lb, h, c, i(4), backbone="mlp", d_model=i(8))(x(b, 6, 3), pos(b).int()),
        "ltc": lambda: LiquidForecaster(h, c, units=i(4), ode_unfolds=i(2))(x(b, 6, 3)),
        "cfc": lambda: LiquidForecaster(h, c, units=i(4), cell="cfc", backbone_units=i(8), mode="pure")(x(b, 1, 3)),
        "cfc-step": lambda: CfCCell(c, i(4), backbone_units=i(8), backbone_layers=i(0))(x(b, 3), x(b, 4)),
        "ltc-step": lambda: LTCCell(c, i(4))(x(b, 3), x(b, 4), elapsed=0.5),
        "smamba": lambda: SMamba(lb, h, c, d_model=i(8), d_ff=i(8), d_state=i(2), n_time_features=i(2))(
            x(b, 6, 3), x(b, 6, 2)),
        "calendar": lambda: CalendarInput(SMamba(lb, h, c, n_time_features=4, **MAMBA), lb, HOUR)(
            x(b, 6, 3), pos(b)),
        "spacetime": lambda: SpaceTime(lb, h, width=i(8), n_kernels=i(4), kernel_dim=i(4), n_blocks=i(2))(
            x(b, 9, 5), steps=i(5)),
        "spacetime-loss": lambda: SpaceTime(lb, h, **ST).loss_terms(x(b, 6, 3), x(b, 2, 3)),
        "spacetime-encoder": lambda: SpaceTimeEncoder(c, width=i(8), n_kernels=i(4), state_dim=i(4), pool=True)(
            x(b, 6, 3)),
        "companion-float64": lambda: CompanionSSM(i(8), i(4), i(4), norm_order=i(0))(x(b, 5, 8, dtype=torch.float64)),
        "closed-loop": lambda: ClosedLoopSSM(i(8), i(4))(x(b, 5, 8), i(3)),
        "s4d": lambda: S4D(c, i(4))(x(b, 6, 3), return_state=True),
        "s4nplr-step": lambda: (lambda n: n.step(x(b, 3), n(x(b, 6, 3), return_state=True)[1]))(
            S4NPLR(c, i(4), l_max=i(10))),
        "ls4": lambda: LS4(c, h, lookback=lb, instance_norm=True, condition_on_x=True, s4_mode="diag",
                           **{k: i(v) for k, v in LS4_KW.items()})(x(b, 6, 3)),
        "ls4-encoder": lambda: LS4Encoder(c, i(8), i(1), i(4), pool=True, l_max=i(10))(x(b, 6, 3)),
        "chimera": lambda: Chimera(lb, h, **{k: i(v) for k, v in CHIMERA.items()})(x(b, 6, 3), steps=h),
        "chimera-closed-loop": lambda: Chimera(lb, h, decoder="closed_loop", decoder_dim=i(4), **CHIMERA)(
            x(b, 9, 3), steps=i(5)),
        "tpgn": lambda: TPGN(i(4), h, c, i(2), hidden=i(4), n_time_features=i(2))(x(b, 4, 3), x(b, 4, 2)),
        "instance-norm": lambda: InstanceNorm(eps=1e-5).normalize(x(b, 1, 3)),
        "classifier": lambda: SequenceClassifier(PGNEncoder(c, i(4), i(6)), hidden=i(4), n_outputs=i(2))(x(b, 6, 3)),
        "chimera2d": lambda: Chimera2DSSM(i(8), i(2), dt1_range=[np.float64(1e-3), 1e-2], reverse_variates=np.bool_(1))(
            x(b, 5, 3, 8)),
        "chimera-layer": lambda: ChimeraLayer(i(8), i(2), i(8), 0.0)(x(b, 5, 3, 8)),
        "smamba-layer": lambda: SMambaLayer(i(8), i(8), i(2), 0.0)(x(b, 5, 8)),
        "numpy-flag": lambda: SMambaTokens(lb, **MAMBA, pool=np.True_)(x(b, 6, 3)),  # NumPy 2's bool was refused
        "preprocess": lambda: PreprocessSSM(i(8))(x(b, 6, 8, dtype=torch.float64)),
        "spacetime-block": lambda: SpaceTimeBlock(i(8), i(4), i(6), 0.0, i(1), np.bool_(0))(x(b, 6, 8)),
        "s4-stack-step": lambda: stepped(S4Stack(i(8), i(2), i(4), mode="diag"), 8, x(b, 8)),
        "s4-stack-step-nplr": lambda: stepped(S4Stack(i(8), i(1), i(4), l_max=i(10)), 8, x(b, 8)),
        "gaussian-head": lambda: stepped(GaussianHead(i(8), i(2), i(4)), 8, x(b, 8))[0][0],
        "ls4-encoder-step": lambda: stepped(LS4Encoder(c, i(8), i(1), i(4)), 3, x(b, 3)),
    }


@pytest.mark.parametrize("integer", [int, np.int64, np.int32], ids=["int", "int64", "int32"])
def test_valid_calls_still_work_with_numpy_integer_sizes(integer) -> None:
    plain = _valid_calls(int)
    for name, call in _valid_calls(integer).items():
        outs = []
        for run in (call, plain[name]):  # the same network and input as with Python ints, from the same seed
            torch.manual_seed(0)
            out = run()
            outs.append(out[0] if isinstance(out, tuple) else out)
        assert isinstance(outs[0], torch.Tensor), name
        torch.testing.assert_close(outs[0], outs[1], msg=name)


def test_a_float64_network_takes_float64_input() -> None:
    net = ARNet(6, 2).double()
    assert net(x(2, 6, 3, dtype=torch.float64)).dtype == torch.float64
    smamba = SMamba(6, 2, 3, n_time_features=2, **MAMBA).double()
    assert smamba(x(2, 6, 3, dtype=torch.float64), x(2, 6, 2, dtype=torch.float64)).dtype == torch.float64


def test_autocast_mixes_half_activations_with_float32_weights() -> None:
    """Inside a network under autocast, inner blocks get bfloat16 activations: not a dtype error."""
    block = MambaBlock(8, d_state=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        block(x(2, 5, 8, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="bfloat16"):
        block(x(2, 5, 8, dtype=torch.bfloat16))


def test_steps_none_is_the_horizon() -> None:
    """``steps=None`` still means the horizon (only 0 and less are refused now)."""
    torch.manual_seed(0)
    net = SpaceTime(6, 2, **ST).eval()
    inputs = x(2, 6, 3)
    assert torch.equal(net(inputs), net(inputs, steps=2))
    loop = Chimera(6, 2, decoder="closed_loop", decoder_dim=4, **CHIMERA).eval()
    assert torch.equal(loop(inputs), loop(inputs, steps=2))
