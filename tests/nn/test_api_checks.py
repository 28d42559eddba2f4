"""Arguments of the public nn API that were taken without a check (nn API audit, findings 4-8 and 10-14).

Each case failed inside torch with a message naming no argument of the user's, or was accepted
silently (a wrong result), before the check; the docstring cases pin what the docstrings now say.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tsrec.errors import FlagError
from tsrec.nn import LS4, LS4Encoder
from tsrec.nn.arnet import sparsity_lambda
from tsrec.nn.chimera import Chimera, ChimeraMixer
from tsrec.nn.cyclenet import RecurrentCycle
from tsrec.nn.heads import SequenceClassifier
from tsrec.nn.ls4_blocks import GaussianHead
from tsrec.nn.pgn import PGNEncoder, PGNLayer
from tsrec.nn.s4 import S4D, S4Unit
from tsrec.nn.s4_nplr import S4NPLR
from tsrec.nn.smamba import BidirectionalMamba
from tsrec.nn.spacetime import SpaceTimeBlock
from tsrec.nn.tpgn import TPGN

LS4_KW = {"z_dim": 2, "d_model": 8, "d_state": 4, "n_layers": 1, "n_samples": 3}
CHIMERA = {"d_model": 8, "d_state": 2, "d_ff": 8, "e_layers": 1}


def ls4(**kw) -> LS4:
    torch.manual_seed(0)
    return LS4(3, 2, **{**LS4_KW, **kw}).eval()


# ---- 4: SequenceClassifier checks that the encoder fits -------------------------------------------
def test_classifier_names_hidden_when_the_encoder_width_differs():
    # was: RuntimeError "mat1 and mat2 shapes cannot be multiplied (2x4 and 5x2)"
    net = SequenceClassifier(PGNEncoder(3, 4, 6), hidden=5, n_outputs=2)
    with pytest.raises(ValueError, match=r"hidden=5.*pass hidden=4"):
        net(torch.randn(2, 6, 3))


def test_classifier_refuses_an_unpooled_encoder():
    # was: per-time-step "logits" (2, 6, 2), no error
    net = SequenceClassifier(LS4Encoder(3, 4, 1, 4), hidden=4, n_outputs=2)
    with pytest.raises(ValueError, match="pool=True"):
        net(torch.randn(2, 6, 3))
    pooled = SequenceClassifier(LS4Encoder(3, 4, 1, 4, pool=True), hidden=4, n_outputs=2)
    assert pooled(torch.randn(2, 6, 3)).shape == (2, 2)


# ---- 5: LS4.sample, sample_mean and loss check their arguments -------------------------------------
def test_ls4_sample_refuses_a_string_noise_flag():
    # was: noise="no" read as True (the noisy draws)
    net = ls4()
    with pytest.raises(FlagError, match="noise must be True or False"):
        net.sample(torch.randn(2, 6, 3), 2, 2, net.generator(), noise="no")


@pytest.mark.parametrize("call", ["sample", "sample_mean", "loss", "terms"])
def test_ls4_generator_must_be_a_generator(call):
    # was: TypeError "randn() received an invalid combination of arguments ... generator=int"
    net, x = ls4(), torch.randn(2, 6, 3)
    run = {"sample": lambda: net.sample(x, 3, 2, 5), "sample_mean": lambda: net.sample_mean(x, 3, 2, 5),
           "loss": lambda: net.loss(x, 3), "terms": lambda: net.terms(x, 3)}[call]
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator or None \(not a seed\), got int"):
        run()


def test_ls4_generator_none_is_still_torchs_global_one():
    net, x = ls4(), torch.randn(2, 6, 3)
    assert net.loss(x).shape == ()
    torch.manual_seed(4)
    first = net.sample(x, 2, 2, None)
    torch.manual_seed(4)
    assert torch.equal(net.sample(x, 2, 2, None), first)
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator or None, got str"):
        net.sample(x, 2, 2, "cpu")


def test_ls4_steps_must_be_a_sequence():
    # was: TypeError "'int' object is not iterable"
    net, x = ls4(), torch.randn(2, 6, 3)
    with pytest.raises(TypeError, match=r"steps must be a sequence.*steps=\[2\]"):
        net.sample(x, 3, 2, net.generator(), steps=2)
    with pytest.raises(TypeError, match="steps must be a sequence"):
        net.sample(x, 3, 2, net.generator(), steps="2")
    full = net.sample(x, 3, 2, net.generator())
    assert torch.equal(net.sample(x, 3, 2, net.generator(), steps=np.array([1, 3])), full[:, :, [0, 2]])


# ---- 6: LS4's seed is one torch.Generator.manual_seed takes --------------------------------------
@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_ls4_refuses_a_seed_the_generator_cannot_take(seed):
    # was: accepted, then ValueError "Overflow when unpacking long long" in forward
    with pytest.raises(ValueError, match=r"seed must be an integer from -2\*\*63 to 2\*\*64 - 1"):
        LS4(3, 2, seed=seed, **LS4_KW)


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**64 - 1])
def test_ls4_takes_every_seed_the_generator_takes(seed):
    assert LS4(3, 2, seed=seed, **LS4_KW).eval()(torch.randn(2, 6, 3)).shape == (2, 2, 3)


# ---- 7: Chimera names its norm flag --------------------------------------------------------------
def test_chimera_names_norm():
    # was: "enabled must be True or False"
    with pytest.raises(FlagError, match="^norm must be True or False"):
        Chimera(6, 2, norm="yes", **CHIMERA)


# ---- 8: LS4 and its S4 layers refuse half precision clearly ---------------------------------------
@pytest.mark.parametrize(("cast", "mode"), [("half", "nplr"), ("bfloat16", "nplr"), ("half", "diag"),
                                            ("bfloat16", "diag")])
def test_ls4_in_half_precision_is_refused_clearly(cast, mode):
    # was: "Lambda must be a floating or complex tensor, got dtype torch.complex32", "view_as_complex is only
    # supported for half, float and double tensors", ...
    net = getattr(LS4(3, 2, s4_mode=mode, **LS4_KW), cast)()
    with pytest.raises(TypeError, match=r"float32 or float64 parameters.*torch\.autocast"):
        net(getattr(torch.randn(2, 6, 3), cast)())


@pytest.mark.parametrize("layer", [lambda: S4NPLR(3, 4, l_max=6), lambda: S4D(3, 4),
                                   lambda: LS4Encoder(3, 4, 1, 4, s4_mode="diag")])
def test_s4_layers_in_half_precision_are_refused_clearly(layer):
    with pytest.raises(TypeError, match="float32 or float64 parameters"):
        layer().bfloat16()(torch.randn(2, 6, 3, dtype=torch.bfloat16))


def test_ls4_under_autocast_still_runs():
    net = ls4()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert net(torch.randn(2, 6, 3)).shape == (2, 2, 3)


# ---- 10: RecurrentCycle.forward checks its phase and n_steps --------------------------------------
def test_recurrent_cycle_refuses_a_float_phase():
    # was: phase 0.5 silently truncated to 0
    with pytest.raises(TypeError, match="phase must hold whole step indices"):
        RecurrentCycle(4, 3)(torch.tensor([0.5]), 4)


@pytest.mark.parametrize("n_steps", [0, -1, 2.0])
def test_recurrent_cycle_refuses_a_bad_n_steps(n_steps):
    # was: an empty (1, 0, 3) tensor for 0, a RuntimeError about the step sign for -1
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        RecurrentCycle(4, 3)(torch.tensor([0]), n_steps)


def test_recurrent_cycle_still_reads_per_step_phases():
    cycle = RecurrentCycle(4, 1)
    with torch.no_grad():
        cycle.data.copy_(torch.arange(4.0)[:, None])
    assert cycle(torch.tensor([[3, 4, 4]]), 3)[0, :, 0].tolist() == [3.0, 0.0, 0.0]


# ---- 11: sparsity_lambda refuses a sparsity outside (0, 1] ----------------------------------------
@pytest.mark.parametrize("sparsity", [0, 0.0, -0.5, 1.5, math.nan, math.inf, True, "0.5"])
def test_sparsity_lambda_refuses_a_sparsity_outside_zero_one(sparsity):
    # was: ZeroDivisionError for 0, a negative strength for -0.5, 0.0 for 1.5
    with pytest.raises(ValueError, match=r"sparsity must be in \(0, 1\] or None"):
        sparsity_lambda(sparsity)


def test_sparsity_lambda_values():
    assert sparsity_lambda(None) == 0.0 and sparsity_lambda(1) == 0.0 and sparsity_lambda(np.float64(1.0)) == 0.0
    assert sparsity_lambda(0.5) == pytest.approx(0.02)


# ---- 12-14: messages and docstrings ---------------------------------------------------------------
def test_ls4_docstring_says_forward_is_deterministic_in_eval_mode():
    assert "in eval mode" in LS4.__doc__ and "in eval mode" in LS4.forward.__doc__


def test_chimera_linear_head_says_how_to_forecast_other_lengths():
    net = Chimera(6, 2, **CHIMERA)
    with pytest.raises(ValueError, match=r"horizon=2.*pass steps=None or steps=2.*decoder='closed_loop'"):
        net(torch.randn(2, 6, 3), steps=3)


@pytest.mark.parametrize("method", [ChimeraMixer.forward, GaussianHead.forward, GaussianHead.step, S4Unit.forward,
                                    S4Unit.step, BidirectionalMamba.forward, SpaceTimeBlock.forward, Chimera.forward,
                                    TPGN.forward, PGNLayer.forward, PGNEncoder.forward, SequenceClassifier.forward,
                                    RecurrentCycle.forward])
def test_public_methods_document_their_parameters(method):
    doc = method.__doc__ or ""
    assert "Parameters\n" in doc and "Returns\n" in doc, method.__qualname__
