"""Half precision: autocast's dtype mix is accepted, and half input is accumulated in float32.

Under autocast activations are half precision while parameters and states stay float32 (CfCCell
passes exactly that to cfc_scan on a GPU); linear_scan, rnn_scan, ltc_scan and cfc_scan once
refused the mix. The cfc_scan and ltc_scan torch paths once ran half input in half precision
(about five times the error of every other path). Every differentiable op with a torch path is
also compared with its naive reference in float16 and bfloat16, output and every gradient.
"""

from __future__ import annotations

import importlib

import pytest
import torch

from tsrec import kernels as k
from _compare import half_errors, rel_err

scan2d_module = importlib.import_module("tsrec.kernels.scan2d")  # the package, not the function it exports

HALF = [torch.bfloat16, torch.float16]


def draw(seed: int):
    g = torch.Generator().manual_seed(seed)
    normal = lambda *s, scale=1.0: scale * torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    positive = lambda *s, scale=1.0: scale * torch.rand(*s, generator=g, dtype=torch.float64)  # noqa: E731
    return normal, positive


def linear_inputs(batch=2, T=70, C=3):
    normal, positive = draw(0)
    return [0.95 * positive(batch, T, C), normal(batch, T, C), normal(batch, C)]


def rnn_inputs(batch=3, T=8, H=5):
    normal, _ = draw(1)
    return [normal(batch, T, 2 * H), normal(H, 2 * H, scale=H ** -0.5), normal(batch, H)]


def cfc_inputs(batch=4, T=8, units=8, width=16):
    normal, _ = draw(2)
    heads = [normal(*shape, scale=width ** -0.5) for shape in [(width, units), (units,)] * 3]
    return [normal(batch, T, width), normal(batch, units, scale=0.5), normal(units, width, scale=0.5 * units ** -0.5),
            *heads]


def ltc_inputs(batch=4, T=8, units=8):
    normal, positive = draw(3)
    cm = positive(units, scale=3.0)
    return [positive(batch, T, 2 * units, scale=0.5), normal(batch, units, scale=0.5), cm,
            positive(units, scale=0.2), cm + positive(units), positive(units, units), normal(units, units),
            positive(units, units, scale=5.0), positive(units, units)]


OPS = {
    "linear_scan": (lambda xs, be: k.linear_scan(xs[0], xs[1], initial_state=xs[2], backend=be), linear_inputs, 2),
    "rnn_scan": (lambda xs, be: k.rnn_scan(xs[0], xs[1], initial_state=xs[2], cell="gated", backend=be),
                 rnn_inputs, 1),
    "cfc_scan": (lambda xs, be: k.cfc_scan(*xs, backend=be), cfc_inputs, 1),
    "ltc_scan": (lambda xs, be: k.ltc_scan(*xs, ode_unfolds=3, backend=be), ltc_inputs, 1),
}


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("backend", ["torch", "naive"])
def test_half_activations_with_float32_parameters(name, backend):
    op, make, n_activations = OPS[name]
    inputs = [x.to(torch.bfloat16 if i < n_activations else torch.float32) for i, x in enumerate(make())]
    assert op(inputs, backend).dtype == torch.bfloat16
    errors = half_errors(lambda *xs: op(xs, backend), lambda *xs: op(xs, "naive"), inputs)  # output, gradients
    assert max(errors) < 1e-2, errors


def recurrences_of_96_steps(name: str) -> list[torch.Tensor]:
    """The audit's case: B=4, T=96, U=8, where half-precision steps drifted 5x further."""
    return cfc_inputs(T=96) if name == "cfc_scan" else ltc_inputs(T=96)


@pytest.mark.parametrize("name", ["cfc_scan", "ltc_scan"])
@pytest.mark.parametrize("dtype", HALF)
def test_torch_path_accumulates_half_input_in_float32(name, dtype):
    op = OPS[name][0]
    half = [x.to(dtype) for x in recurrences_of_96_steps(name)]
    got = op(half, "torch")
    ref = op([x.double() for x in half], "naive")
    assert got.dtype == dtype
    # float32 accumulation rounded once at the end: 2e-3 (bf16) and 2.5e-4 (fp16) here, where
    # half-precision steps gave 1.1e-2 to 1.3e-2 and 1.2e-3 to 1.5e-3
    assert rel_err(got, ref) < (4e-3 if dtype == torch.bfloat16 else 5e-4)
    torch.testing.assert_close(got, op([x.float() for x in half], "torch").to(dtype), rtol=0, atol=0)


def rnn_tanh_inputs(batch=3, T=8, H=5):
    normal, _ = draw(4)
    return [normal(batch, T, H), normal(H, H, scale=H ** -0.5), normal(batch, H)]


def selective_with_options(batch=2, T=9, D=4, N=3):
    normal, positive = draw(5)
    return [normal(batch, T, D), normal(batch, T, D), -positive(D, N) - 0.1, normal(batch, T, N), normal(batch, T, N),
            normal(D), normal(batch, T, D), normal(D, scale=0.5), normal(batch, D, N)]


def ssm_kernel_inputs(heads=3, d=5, scale=0.3):
    normal, _ = draw(6)
    return [normal(heads, d, scale=scale) for _ in range(3)]


def l1_kernel_inputs():
    # the FFT path's case, an L1-bounded a (SpaceTime's default): a larger one warns (test_ssm_kernels)
    a, b, c = ssm_kernel_inputs()
    return [a / a.abs().sum(-1, keepdim=True), b, c]


def rollout_inputs(heads=3, d=5):
    normal, _ = draw(7)
    return [normal(heads, d, scale=0.2) for _ in range(4)] + [normal(2, heads, d)]


def s4d_inputs(heads=3, n=4):
    normal, positive = draw(8)  # log_dt, A_real, A_imag, C, B
    return [normal(heads, scale=0.5) - 3.0, -positive(heads, n) - 0.1, normal(heads, n, scale=3.0),
            normal(heads, n), normal(heads, n)]


# every differentiable op with a torch path: name -> (op on a list of inputs and a backend, inputs)
ALL_HALF = {
    "rnn_scan tanh": (lambda xs, be: k.rnn_scan(*xs[:2], initial_state=xs[2], cell="tanh", backend=be),
                      rnn_tanh_inputs),
    "rnn_scan gated, no state": (lambda xs, be: k.rnn_scan(*xs, cell="gated", backend=be),
                                 lambda: rnn_inputs()[:2]),
    "rnn_scan gated": (OPS["rnn_scan"][0], rnn_inputs),
    "cfc_scan": (OPS["cfc_scan"][0], cfc_inputs),
    "ltc_scan": (OPS["ltc_scan"][0], ltc_inputs),
    "selective_scan with D, z, delta_bias, state": (
        lambda xs, be: k.selective_scan(*xs[:5], D=xs[5], z=xs[6], delta_bias=xs[7], initial_state=xs[8],
                                        delta_softplus=True, backend=be),
        selective_with_options),
    "companion_kernel fft": (lambda xs, be: k.companion_kernel(*xs, 24, method="fft", backend=be),
                             l1_kernel_inputs),
    "companion_kernel krylov": (lambda xs, be: k.companion_kernel(*xs, 24, method="krylov", backend=be),
                                ssm_kernel_inputs),
    "closed_loop_rollout": (lambda xs, be: k.closed_loop_rollout(*xs, 12, backend=be), rollout_inputs),
    "s4d_kernel": (lambda xs, be: k.s4d_kernel(*xs[:4], 20, B=xs[4], backend=be), s4d_inputs),
}


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("name", list(ALL_HALF))
def test_half_precision_torch_path_matches_naive_on_output_and_every_gradient(name, dtype):
    op, make = ALL_HALF[name]
    inputs = [x.to(dtype) for x in make()]
    assert op(inputs, "torch").dtype == dtype
    errors = half_errors(lambda *xs: op(xs, "torch"), lambda *xs: op(xs, "naive"), inputs)
    # one rounding to half at the end (bf16 keeps 8 bits, fp16 11): 2**-8 and 2**-11 give 4e-3 and 5e-4
    assert max(errors) < (1.5e-2 if dtype == torch.bfloat16 else 2e-3), dict(enumerate(errors))


def conv_inputs(batch=2, T=40, C=3):
    normal, _ = draw(9)
    return [normal(batch, T, C), normal(C, T, scale=0.2)]


def outputs_and_gradients(op, inputs: list[torch.Tensor], autocast: bool, backward_too: bool = False
                          ) -> list[torch.Tensor]:
    """``op``'s output and the gradient of every input, the forward under CPU bfloat16 autocast or
    not; the backward outside it, as a training step runs it, or inside it with ``backward_too``."""
    leaves = [x.detach().requires_grad_() for x in inputs]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = op(leaves)
    weights = torch.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast and backward_too):
        (out.float() * weights).sum().backward()
    return [out.detach(), *(leaf.grad for leaf in leaves)]


UNDER_AUTOCAST = {**{name: (lambda xs, op=op: op(xs, "torch"), make) for name, (op, make) in ALL_HALF.items()},
                  "linear_scan": (lambda xs: OPS["linear_scan"][0](xs, "torch"), linear_inputs),
                  "fft_conv direct": (lambda xs: k.fft_conv(*xs, method="direct", backend="torch"), conv_inputs),
                  "fft_conv fft": (lambda xs: k.fft_conv(*xs, method="fft", backend="torch"), conv_inputs)}


@pytest.mark.parametrize("name", list(UNDER_AUTOCAST))
def test_autocast_leaves_float32_kernels_in_float32(name):
    # autocast ran the matrix products inside the torch paths in bfloat16: selective_scan's hand-written
    # backward then failed ("expected scalar type BFloat16 but found Float") and a closed-loop roll-out
    # was 7e-2 off relative to float64 (7e-7 in float32)
    op, make = UNDER_AUTOCAST[name]
    inputs = [x.float() for x in make()]
    plain, autocast = outputs_and_gradients(op, inputs, False), outputs_and_gradients(op, inputs, True)
    assert autocast[0].dtype == torch.float32
    for got, expected in zip(autocast, plain):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_gated_rnn_takes_autocasts_mix_under_autocast():
    # bfloat16 activations with float32 weights is what autocast hands it; its torch path failed there
    # ("expected dtype float for `end` but got dtype c10::BFloat16", from torch.lerp)
    op, make, _ = OPS["rnn_scan"]
    x, W, h0 = make()
    inputs = [x.to(torch.bfloat16), W.float(), h0.float()]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = op(inputs, "torch")
    torch.testing.assert_close(got, op(inputs, "torch"), rtol=0, atol=0)


def scan2d_inputs(batch=2, T=5, V=3, D=4, N=3):
    normal, positive = draw(10)
    return [normal(batch, T, V, D), positive(batch, T, V, D), positive(batch, T, V, D),
            *(-positive(D, N) - 0.1 for _ in range(4)), *(normal(batch, T, V, N) for _ in range(4))]


# op, inputs and the index of the input the op checks the others' dtypes against
FLOAT32_REFERENCE = {
    "linear_scan": (OPS["linear_scan"][0], linear_inputs, 1),
    "rnn_scan": (OPS["rnn_scan"][0], rnn_inputs, 0),
    "cfc_scan": (OPS["cfc_scan"][0], cfc_inputs, 0),
    "ltc_scan": (OPS["ltc_scan"][0], ltc_inputs, 0),
    "selective_scan": (ALL_HALF["selective_scan with D, z, delta_bias, state"][0], selective_with_options, 0),
    "scan2d": (lambda xs, be: k.scan2d(*xs, backend=be)[0], scan2d_inputs, 0),
}


@pytest.mark.parametrize("backend", ["torch", "naive"])
@pytest.mark.parametrize("name", list(FLOAT32_REFERENCE))
def test_a_float32_reference_with_half_precision_others_is_computed_in_float32(name, backend):
    # a GPU's autocast gives LayerNorm's and softplus's outputs in float32 and a Linear's in bfloat16:
    # Chimera's scan2d got x in float32 and B, C in bfloat16, and refused them (a CPU's autocast
    # keeps LayerNorm in bfloat16, so the CPU tests never met it)
    op, make, ref = FLOAT32_REFERENCE[name]
    mixed = [x.float() if i == ref else x.to(torch.bfloat16) for i, x in enumerate(make())]
    leaves = [x.detach().requires_grad_() for x in mixed]
    got = op(leaves, backend)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, op([x.float() for x in mixed], backend), rtol=1e-5, atol=1e-6)
    got.sum().backward()
    assert all(leaf.grad is not None and leaf.grad.dtype == leaf.dtype for leaf in leaves)


@pytest.mark.parametrize("name", list(FLOAT32_REFERENCE))
def test_float16_and_bfloat16_in_one_call_are_refused(name):
    # each is accepted beside float32; the two together come from no autocast, and the result
    # would take one of them, hiding the other's rounding
    op, make, ref = FLOAT32_REFERENCE[name]
    inputs = make()
    other = next(i for i in range(len(inputs)) if i != ref)
    mixed = [x.to(torch.float16) if i == other else x.to(torch.bfloat16) for i, x in enumerate(inputs)]
    with pytest.raises(TypeError, match="one half-precision dtype"):
        op(mixed, "torch")


# the torch paths whose backward is written by hand; the others are autograd's, whose backward ops
# autocast rounds as it does any PyTorch module's (PyTorch advises against backward under autocast)
BACKWARD_UNDER_AUTOCAST = {**{name: UNDER_AUTOCAST[name] for name in
                              ("linear_scan", "ltc_scan", "selective_scan with D, z, delta_bias, state")},
                           "scan2d sweep": FLOAT32_REFERENCE["scan2d"][:2],
                           "scan2d wavefront": FLOAT32_REFERENCE["scan2d"][:2]}


@pytest.mark.parametrize("name", list(BACKWARD_UNDER_AUTOCAST))
def test_a_backward_called_under_autocast_is_computed_in_float32(name, monkeypatch):
    # autograd runs a hand-written backward in the caller's thread: inside an autocast block the
    # 2-D (sweep) and selective scans' matrix products ran in bfloat16, their gradients 4e-3 off
    if name == "scan2d wavefront":  # the path of more than SWEEP_MAX_VARIATES_PER_ROW variates a row
        monkeypatch.setattr(scan2d_module, "SWEEP_MAX_VARIATES_PER_ROW", 0)
    op, make = BACKWARD_UNDER_AUTOCAST[name]
    run = op if name in UNDER_AUTOCAST else (lambda xs: op(xs, "torch"))
    inputs = [x.float() for x in make()]
    plain, autocast = outputs_and_gradients(run, inputs, False), outputs_and_gradients(run, inputs, True, True)
    for got, expected in zip(autocast, plain):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_a_backward_given_only_none_gradients_runs_without_autocast_too():
    # Functions that do not materialise gradients (the scan2d wavefront's) can be handed None alone;
    # the guard found no tensor to take the device from and left autocast on
    from tsrec.kernels._autocast import without_autocast

    seen = without_autocast(lambda ctx, *grads: torch.is_autocast_enabled("cpu"))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert seen(object(), None, None) is False
        assert seen(object(), torch.zeros(1)) is False
    assert seen(object(), None) is False
