"""Public methods of the networks that checked less than the network's forward (nn review, session 70).

Each case was accepted silently (a wrong result, or a result in another dtype) or failed with a bare
torch error, or with a message naming an internal tensor or an argument the user never passed.
"""

from __future__ import annotations

import pytest
import torch

from tsrec.errors import FlagError, ParameterError
from tsrec.kernels._dispatch import ENV_VAR
from tsrec.nn import LS4, CompanionSSM, InstanceNorm, LiquidEncoder, LS4Encoder, LTCCell, MambaBlock, PGNLayer, \
    SpaceTime
from tsrec.nn.ls4_blocks import GaussianHead


# ---- PGNLayer.history checks x as forward does ------------------------------------------------------
@pytest.mark.parametrize("time", [12, 40])
def test_pgn_history_refuses_inputs_longer_than_max_len(time):
    # was: (2, 70, 4) for 40 steps; 12 steps silently reused the longest lag's weight
    with pytest.raises(ValueError, match=rf"sequence length {time} is outside 1..max_len=10"):
        PGNLayer(3, 4, max_len=10).history(torch.randn(2, time, 3))


@pytest.mark.parametrize("shape, match", [((2, 5, 4), "in_features=4"), ((5, 3), "2 dims")])
def test_pgn_history_names_x_for_a_wrong_shape(shape, match):
    # was: torch's convolution error, naming no argument
    with pytest.raises(ValueError, match=rf"x must have shape \(batch, time, 3\).*{match}"):
        PGNLayer(3, 4, max_len=10).history(torch.randn(*shape))


def test_pgn_history_still_matches_forward_inputs():
    layer = PGNLayer(3, 4, max_len=10)
    assert layer.history(torch.randn(2, 10, 3)).shape == (2, 10, 4)


# ---- InstanceNorm.denormalize checks y against the stats ----------------------------------------------
def normalized(batch: int = 2, channels: int = 3):
    norm = InstanceNorm()
    _, stats = norm.normalize(torch.randn(batch, 12, channels))
    return norm, stats


@pytest.mark.parametrize("shape, match", [
    ((1, 4, 3), r"got \(1, 4, 3\): pass y with batch 2"),  # was broadcast over the batch silently
    ((3, 4, 3), r"got \(3, 4, 3\): pass y with batch 2"),  # was a bare RuntimeError
    ((2, 4, 5), r"pass y with 3 channels"),
    ((4, 3), r"got \(4, 3\), 2 dims: pass y of 3 dims with 2 rows and 3 channels"),  # was accepted
])
def test_denormalize_refuses_y_of_another_window(shape, match):
    norm, stats = normalized()
    with pytest.raises(ValueError, match=r"y must have shape \(2, horizon, 3\).*" + match):
        norm.denormalize(torch.randn(*shape), stats)


@pytest.mark.parametrize("stats, match", [((1, 2, 3), "tuple of length 3"), (torch.zeros(2, 1, 3), "Tensor")])
def test_denormalize_refuses_stats_that_are_not_a_pair(stats, match):
    # was: "too many values to unpack"
    with pytest.raises(TypeError, match=f"stats must be the \\(mean, std\\) pair .*got a {match}"):
        InstanceNorm().denormalize(torch.randn(2, 4, 3), stats)


def test_denormalize_refuses_y_off_the_stats_device_and_keeps_any_horizon():
    norm, stats = normalized()
    with pytest.raises(ValueError, match="y is on meta but stats are on cpu"):
        norm.denormalize(torch.randn(2, 4, 3, device="meta"), stats)
    assert norm.denormalize(torch.randn(2, 7, 3), list(stats)).shape == (2, 7, 3)


# ---- SpaceTime.loss_terms checks y's dtype and device as x's ---------------------------------------------
def spacetime() -> SpaceTime:
    torch.manual_seed(0)
    return SpaceTime(12, 4, width=8, n_kernels=4, kernel_dim=6)


def test_spacetime_loss_terms_refuses_y_in_another_dtype():
    # was: a float64 loss from float32 parameters, silently
    with pytest.raises(TypeError, match=r"y has dtype torch.float64 .*cast y with y.float\(\)"):
        spacetime().loss_terms(torch.randn(2, 12, 3), torch.randn(2, 4, 3).double())


def test_spacetime_loss_terms_refuses_y_on_another_device():
    # was: torch's device error, naming no argument
    with pytest.raises(ValueError, match=r"y is on meta .*y.to\('cpu'\)"):
        spacetime().loss_terms(torch.randn(2, 12, 3), torch.randn(2, 4, 3, device="meta"))


# ---- LS4: terms checks x; the step methods check the batch against the states -------------------------
def test_ls4_terms_names_n_channels():
    # was: the inner encoder's "pass n_inputs=2 when building" (LS4 has no n_inputs)
    net = LS4(n_channels=3, horizon=3, z_dim=2, d_model=8, d_state=4, n_layers=1)
    with pytest.raises(ValueError, match="n_channels=2"):
        net.terms(torch.randn(2, 10, 2))


@pytest.mark.parametrize("mode", ["nplr", "diag"])
def test_ls4_encoder_step_names_x_and_states_for_another_batch(mode):
    # was: "u must have shape (2, 8) ...: pass u with batch 2", u being internal
    enc = LS4Encoder(3, 8, 1, 4, s4_mode=mode)
    _, states = enc(torch.randn(2, 5, 3), return_state=True)
    with pytest.raises(ValueError, match="x has batch 3 but states were computed for batch 2"):
        enc.step(torch.randn(3, 3), states)
    assert enc.step(torch.randn(2, 3), states)[0].shape == (2, 8)


def test_gaussian_head_step_names_h_and_states_for_another_batch():
    head = GaussianHead(8, 2, 4)
    _, states = head(torch.randn(2, 5, 8), return_state=True)
    with pytest.raises(ValueError, match="h has batch 3 but states were computed for batch 2"):
        head.step(torch.randn(3, 8), states)


@pytest.mark.parametrize("module, x", [(LS4Encoder(3, 8, 1, 4), torch.randn(2, 5, 3)),
                                       (GaussianHead(8, 2, 4), torch.randn(2, 5, 8))])
def test_return_state_is_a_flag(module, x):
    # "no" read as True and returned the (output, states) pair
    with pytest.raises(FlagError, match="return_state must be True or False, got 'no'"):
        module(x, return_state="no")


# ---- messages --------------------------------------------------------------------------------------------
def test_func_transform_message_names_the_environment_variable(monkeypatch):
    # a network has no backend argument: the variable is its way to the naive path
    from torch.func import functional_call, grad

    torch.manual_seed(0)
    block, x = MambaBlock(8, 4), torch.randn(2, 5, 8)
    params = dict(block.named_parameters())

    def loss(p):
        return functional_call(block, p, (x,)).sum()

    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(RuntimeError, match=f"backend='naive'.* {ENV_VAR}=naive"):
        grad(loss)(params)
    monkeypatch.setenv(ENV_VAR, "naive")  # read at each call: set after import it still applies
    grads = grad(loss)(params)
    expected = torch.autograd.grad(block(x).sum(), list(params.values()))
    for name, want in zip(params, expected):
        torch.testing.assert_close(grads[name], want, atol=1e-5, rtol=1e-4)


def test_one_dim_shapes_print_as_tuples_and_suggest_squeeze():
    # was: "elapsed must have shape (2) (batch)" with "pass a 1-dim tensor"
    with pytest.raises(ValueError, match=r"elapsed must have shape \(2,\) \(batch,\); got \(2, 1\), 2 dims: "
                                         r"drop its trailing axis of size 1 with elapsed\.squeeze\(-1\)"):
        LTCCell(3, 4)(torch.randn(2, 3), torch.zeros(2, 4), torch.ones(2, 1))


def test_liquid_encoder_suggests_the_exported_cells():
    # was: make_cell('ltc' or 'cfc', ...), which tsrec.nn does not export
    with pytest.raises(TypeError, match=r"pass LTCCell\(input_size, units\) or CfCCell\(input_size, units\)"):
        LiquidEncoder(torch.nn.Linear(3, 4))


@pytest.mark.parametrize("length", [0, 2.5])
def test_companion_kernel_names_length(length):
    # was: the kernel's "L must be a positive int"
    with pytest.raises(ParameterError, match="length must be an integer >= 1"):
        CompanionSSM(8, 4, 6).kernel(length)
