"""Bad arguments to the networks (sizes, modes, on-off flags) fail with a message naming the parameter."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn import (ARNet, CfCCell, ClosedLoopSSM, CompanionSSM, CycleNet, InstanceNorm, LiquidForecaster, LS4,
                      LS4Encoder, LTCCell, MambaBlock, SMamba, SMambaTokens, SpaceTime, SpaceTimeEncoder)
from tsrec.nn.chimera import Chimera, Chimera2DSSM, ChimeraEncoder, ChimeraLayer
from tsrec.nn.heads import SequenceClassifier
from tsrec.nn.ls4 import GaussianHead
from tsrec.nn.pgn import PGNEncoder
from tsrec.nn.s4 import S4D, S4Stack
from tsrec.nn.s4_nplr import S4NPLR
from tsrec.nn.smamba import SMambaLayer
from tsrec.nn.spacetime import PreprocessSSM, SpaceTimeBlock

MAMBA = {"d_model": 8, "d_ff": 8}
CHIMERA = {"d_model": 8, "d_state": 2, "d_ff": 8, "e_layers": 1}
LS4_KW = {"z_dim": 2, "d_model": 8, "d_state": 4, "n_layers": 1, "n_samples": 3}
ST = {"width": 8, "n_kernels": 4, "kernel_dim": 4}

# (id, constructor, message pattern): every one a ValueError
BAD_ARGS = [
    ("arnet-zero-lags", lambda: ARNet(0, 2), "n_lags must be an integer >= 1, got 0"),
    ("arnet-bool", lambda: ARNet(True, 2), "n_lags must be an integer >= 1, got True"),
    ("arnet-float", lambda: ARNet(6.0, 2), "got 6.0"),
    ("arnet-zero-horizon", lambda: ARNet(6, 0), "horizon"),
    ("arnet-hidden-zero", lambda: ARNet(6, 2, hidden_layers=(0,)), "each width in hidden_layers"),
    ("arnet-hidden-int", lambda: ARNet(6, 2, hidden_layers=4), r"hidden_layers=\(64,\)"),
    ("cyclenet-cycle", lambda: CycleNet(6, 2, 3, 0), "cycle_length"),
    ("cyclenet-channels", lambda: CycleNet(6, 2, 0, 4), "n_channels"),
    ("cyclenet-d-model", lambda: CycleNet(6, 2, 3, 4, backbone="mlp", d_model=0), "d_model"),
    ("cyclenet-backbone", lambda: CycleNet(6, 2, 3, 4, backbone="Linear"), "backbone must be one of"),
    ("ltc-units", lambda: LTCCell(3, 0), "units"),
    ("ltc-unfolds", lambda: LTCCell(3, 4, ode_unfolds=0), "ode_unfolds"),
    ("ltc-epsilon", lambda: LTCCell(3, 4, epsilon=-1.0), "epsilon must be a finite number >= 0.0, got -1.0 \\(added to the solver's denominator\\)"),
    ("cfc-layers", lambda: CfCCell(3, 4, backbone_layers=-1), "backbone_layers must be an integer >= 0"),
    ("cfc-units", lambda: CfCCell(3, 4, backbone_units=0), "backbone_units"),
    ("liquid-mode", lambda: LiquidForecaster(2, 3, cell="ltc", mode="bogus"), "mode must be one of"),
    ("liquid-cell", lambda: LiquidForecaster(2, 3, cell="LTC"), "cell must be one of"),
    ("liquid-horizon", lambda: LiquidForecaster(0, 3), "horizon"),
    ("liquid-units", lambda: LiquidForecaster(2, 3, units=0), "units"),
    ("mamba-d-state", lambda: MambaBlock(8, d_state=0), "d_state"),
    ("mamba-dt-order", lambda: MambaBlock(8, dt_min=0.5, dt_max=0.1), "dt_min must be <= dt_max"),
    ("mamba-dt-zero", lambda: MambaBlock(8, dt_min=0.0), "dt_min must be a finite number > 0"),
    ("smamba-layers", lambda: SMamba(6, 2, 3, e_layers=0, **MAMBA), "e_layers"),
    ("smamba-dropout", lambda: SMamba(6, 2, 3, dropout=1.0, **MAMBA), r"dropout must be a number in \[0, 1\)"),
    ("smamba-tokens-pool", lambda: SMambaTokens(6, pool="mean", **MAMBA), "pool must be True or False"),
    ("companion-norm-order", lambda: CompanionSSM(8, 4, 4, norm_order=-1), "norm_order must be an integer >= 0"),
    ("companion-norm-order-float", lambda: CompanionSSM(8, 4, 4, norm_order=1.5), "norm_order"),
    ("companion-kernels", lambda: CompanionSSM(8, 0, 4), "n_kernels"),
    ("closed-loop-state", lambda: ClosedLoopSSM(8, 0), "state_dim"),
    ("spacetime-kernel-dim", lambda: SpaceTime(6, 2, width=8, n_kernels=4, kernel_dim=0), "kernel_dim"),
    ("spacetime-lookback", lambda: SpaceTime(-6, 2, **ST), "lookback"),
    ("spacetime-blocks", lambda: SpaceTime(6, 2, n_blocks=0, **ST), "n_blocks"),
    ("spacetime-dropout", lambda: SpaceTime(6, 2, dropout=1.5, **ST), "dropout"),
    ("spacetime-encoder-pool", lambda: SpaceTimeEncoder(3, width=8, n_kernels=4, state_dim=4, pool="mean"), "pool"),
    ("s4d-dt", lambda: S4D(3, 4, dt_min=0.0), "dt_min"),
    ("s4d-d-state", lambda: S4D(3, -4), "d_state"),
    ("s4nplr-l-max", lambda: S4NPLR(3, 4, l_max=0), "l_max"),
    ("s4-stack-layers", lambda: S4Stack(8, 0, 4), "n_layers"),
    ("ls4-encoder-mode", lambda: LS4Encoder(3, 8, 1, 4, s4_mode="Diag"), "mode must be one of"),
    ("ls4-encoder-pool", lambda: LS4Encoder(3, 8, 1, 4, pool="mean"), "pool"),
    ("ls4-horizon", lambda: LS4(3, 2.5, **LS4_KW), "horizon"),
    ("ls4-z-dim", lambda: LS4(3, 2, **{**LS4_KW, "z_dim": 0}), "z_dim"),
    ("ls4-sigma", lambda: LS4(3, 2, sigma=0.0, **LS4_KW), "sigma must be a finite number > 0"),
    ("ls4-samples", lambda: LS4(3, 2, **{**LS4_KW, "n_samples": 0}), "n_samples"),
    ("ls4-lookback", lambda: LS4(3, 2, lookback=0, **LS4_KW), "lookback must be an integer >= 1 or None"),
    ("ls4-seed", lambda: LS4(3, 2, seed=1.5, **LS4_KW), "seed must be an integer"),
    ("chimera-decoder-dim", lambda: Chimera(6, 2, decoder_dim=0, **CHIMERA), "decoder_dim"),
    ("chimera-decoder", lambda: Chimera(6, 2, decoder="Linear", **CHIMERA), "decoder must be one of"),
    ("chimera-layers", lambda: ChimeraEncoder(8, 2, 8, e_layers=-1), "e_layers"),
    ("chimera-pool", lambda: ChimeraEncoder(pool="mean", **CHIMERA), "pool"),
    ("instance-norm-eps", lambda: InstanceNorm(eps=0.0), "eps"),
    ("classifier-outputs", lambda: SequenceClassifier(PGNEncoder(3, 4, 6), hidden=4, n_outputs=0), "n_outputs"),
    ("pgn-dropout", lambda: PGNEncoder(3, 4, 6, dropout=None), "dropout"),
    # inner public blocks: built broken (a zero width) or with a silently wrong setting before
    ("chimera2d-d-model", lambda: Chimera2DSSM(0), "d_model must be an integer >= 1, got 0"),
    ("chimera2d-d-state", lambda: Chimera2DSSM(8, d_state=2.0), "d_state must be an integer >= 1, got 2.0"),
    ("chimera2d-dt-order", lambda: Chimera2DSSM(8, dt1_range=(0.1, 0.01)),
     r"dt1_range=\(0.1, 0.01\) is not a step range: low must be <= high, got low=0.1 > high=0.01; swap them"),
    ("chimera2d-dt-zero", lambda: Chimera2DSSM(8, dt2_range=(0.0, 1.0)), "low must be a finite number > 0"),
    ("chimera2d-dt-scalar", lambda: Chimera2DSSM(8, dt1_range=0.01), r"dt1_range must be a pair \(low, high\)"),
    ("chimera2d-reverse", lambda: Chimera2DSSM(8, reverse_variates="yes"), "reverse_variates must be True or False"),
    ("chimera-layer-d-ff", lambda: ChimeraLayer(8, 2, 0, 0.0), "d_ff must be an integer >= 1, got 0"),
    ("chimera-layer-dropout", lambda: ChimeraLayer(8, 2, 8, 1.0), r"dropout must be a number in \[0, 1\)"),
    ("smamba-layer-d-ff", lambda: SMambaLayer(8, 0, 2, 0.0), "d_ff must be an integer >= 1, got 0"),
    ("smamba-layer-dropout", lambda: SMambaLayer(8, 8, 2, -0.1), "dropout"),
    ("preprocess-width-zero", lambda: PreprocessSSM(0), "width must be an integer >= 1, got 0"),
    ("spacetime-block-dropout", lambda: SpaceTimeBlock(8, 4, 6, 1.0, 1, True), "dropout"),
    ("spacetime-block-preprocess", lambda: SpaceTimeBlock(8, 4, 6, 0.0, 1, "yes"), "preprocess must be True or False"),
    ("gaussian-head-d-model", lambda: GaussianHead(0, 2, 4), "d_model must be an integer >= 1, got 0"),
    ("ls4-encoder-d-model", lambda: LS4Encoder(3, -8, 1, 4), "d_model must be an integer >= 1, got -8"),
]


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in BAD_ARGS], ids=[c[0] for c in BAD_ARGS])
def test_bad_argument_is_refused(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda v: CycleNet(8, 4, 2, 4, use_revin=v), "use_revin"),
        (lambda v: InstanceNorm(enabled=v), "enabled"),
        (lambda v: InstanceNorm(unbiased=v), "unbiased"),
        (lambda v: InstanceNorm(detach_mean=v), "detach_mean"),
        (lambda v: CompanionSSM(8, 4, 4, skip=v), "skip"),
        (lambda v: LS4(2, 4, lookback=4, instance_norm=v, **LS4_KW), "instance_norm"),
        (lambda v: LS4(2, 4, lookback=4, condition_on_x=v, **LS4_KW), "condition_on_x"),
        (lambda v: LiquidForecaster(4, 2, units=4, norm=v), "norm"),
        (lambda v: SMamba(8, 4, 2, norm=v, **MAMBA), "norm"),
        (lambda v: ClosedLoopSSM(4, 2).open_loop(torch.randn(1, 3, 4), next_input=v), "next_input"),
        (lambda v: SpaceTime(6, 2, **ST).loss_terms(torch.randn(2, 6, 3), torch.randn(2, 2, 3), next_input=v),
         "next_input"),
    ],
)
def test_an_on_off_flag_that_is_no_bool_is_refused_by_name(build, name):
    # "no" would read as True: the estimators refuse it, so do the networks
    with pytest.raises(TypeError, match=rf"{name} must be True or False, got 'no'"):
        build("no")


@pytest.mark.parametrize("build", [lambda: LS4(2, 4, lookback=4, s4_mode="s4d", **LS4_KW),
                                   lambda: LS4Encoder(2, 8, 1, 4, 0.0, s4_mode="s4d")])
def test_a_bad_s4_mode_is_named_as_the_parameter_given(build):
    with pytest.raises(ValueError, match=r"s4_mode must be one of \('nplr', 'diag'\), got 's4d'"):
        build()
