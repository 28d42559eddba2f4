"""LS4's defining pieces: the S4D recurrence, S4 step forms, causal stacks, the averaged ELBO and ancestral sampling."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from tsrec.nn.ls4 import LS4
from tsrec.nn.s4 import S4D, S4Stack


def recurrence(layer: S4D, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """float64 loop of h_l = exp(dt A) h_{l-1} + B_bar u_l, y_l = 2 Re(C h_l) + D u_l (and the last h)."""
    p = {k: v.detach().double() for k, v in layer.named_parameters()}
    A = torch.complex(-torch.exp(p["log_A_real"]), p["A_imag"])
    dt = torch.exp(p["log_dt"]).unsqueeze(-1)
    A_bar = torch.exp(dt * A)
    B_bar = (A_bar - 1) / A
    C = torch.complex(p["C"][..., 0], p["C"][..., 1])
    h = torch.zeros(u.shape[0], *A.shape, dtype=torch.complex128)
    ys = []
    for l in range(u.shape[1]):
        h = A_bar * h + B_bar * u[:, l].unsqueeze(-1)
        ys.append(2 * (C * h).sum(-1).real + p["D"] * u[:, l])
    return torch.stack(ys, dim=1), h


def test_s4d_convolution_equals_its_recurrence_and_returns_its_state():
    torch.manual_seed(0)
    layer = S4D(channels=3, d_state=8).double()
    u = torch.randn(2, 40, 3, dtype=torch.float64)
    expected, h_last = recurrence(layer, u)
    y, state = layer(u, return_state=True)
    torch.testing.assert_close(y, expected, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(state, h_last, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode, l_max", [("diag", 1024), ("nplr", 1024), ("nplr", 8)])
def test_step_form_continues_the_convolution_of_a_whole_stack(mode, l_max):
    torch.manual_seed(1)
    stack = S4Stack(d_model=6, n_layers=2, d_state=8, mode=mode, l_max=l_max).double().eval()
    x = torch.randn(3, 20, 6, dtype=torch.float64)
    full = stack(x)
    out, states = stack(x[:, :12], return_state=True)
    steps = []
    for t in range(12, 20):
        y, states = stack.step(x[:, t], states)
        steps.append(y)
    torch.testing.assert_close(out, full[:, :12])
    torch.testing.assert_close(torch.stack(steps, dim=1), full[:, 12:], rtol=1e-9, atol=1e-9)


def small_net(**kw) -> LS4:
    torch.manual_seed(2)
    return LS4(n_channels=2, horizon=4, z_dim=3, d_model=8, d_state=6, n_layers=2, **kw).double().eval()


@pytest.mark.parametrize("part", ["posterior", "prior", "decoder", "prior reading x", "decoder reading x"])
def test_every_stack_is_causal(part):
    net = small_net(condition_on_x=part.endswith("x"))
    z = torch.randn(2, 16, 3, dtype=torch.float64)
    if part == "prior reading x":
        def f(v):
            return torch.cat(net.prior_head(net.prior(net._with_x(net._shifted(z), v))), dim=-1)
        x = torch.randn(2, 16, 2, dtype=torch.float64)
    elif part == "decoder reading x":
        def f(v):
            return net.readout(net.decoder(net._with_x(z, v)))
        x = torch.randn(2, 16, 2, dtype=torch.float64)
    elif part == "posterior":
        def f(v):
            return torch.cat(net.posterior_head(net.posterior(v)), dim=-1)
        x = torch.randn(2, 16, 2, dtype=torch.float64)
    elif part == "prior":
        def f(v):
            return torch.cat(net.prior_head(net.prior(net._shifted(v))), dim=-1)
        x = torch.randn(2, 16, 3, dtype=torch.float64)
    else:
        def f(v):
            return net.readout(net.decoder(v))
        x = torch.randn(2, 16, 3, dtype=torch.float64)
    t = 9
    bumped = x.clone()
    bumped[:, t] += 1.0
    before, after = f(x), f(bumped)
    # the prior reads z_t, and both read x_t, only from step t + 1 on (their inputs are shifted)
    first_changed = t if part in ("posterior", "decoder") else t + 1
    torch.testing.assert_close(before[:, :first_changed], after[:, :first_changed], rtol=0, atol=1e-12)
    assert (before[:, first_changed] - after[:, first_changed]).abs().max() > 1e-6


def test_kl_is_the_closed_form_gaussian_kl_and_the_loss_its_documented_average():
    net = small_net(sigma=0.3)
    x = torch.randn(4, 10, 2, dtype=torch.float64)
    t = net.terms(x, torch.Generator().manual_seed(5))
    mq, sq, mp, sp = t["mu_q"], t["sigma_q"], t["mu_p"], t["sigma_p"]
    kl = 0.5 * (torch.log(sp**2 / sq**2) + (sq**2 + (mq - mp) ** 2) / sp**2 - 1.0)
    torch.testing.assert_close(t["kl"], kl)
    # z really is drawn from the posterior: z = mu + sigma * eps with the generator's eps
    eps = torch.randn(mq.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(t["z"], mq + sq * eps)
    nll = -torch.distributions.Normal(t["mean"], 0.3).log_prob(x)
    torch.testing.assert_close(t["nll"], nll)
    # KL averaged over time and latent dims, NLL averaged over time and summed over channels
    manual = sum(kl[b].mean() + sum(nll[b, :, c].mean() for c in range(2)) for b in range(4)) / 4
    torch.testing.assert_close(net.loss(x, torch.Generator().manual_seed(5)), manual)


@pytest.mark.parametrize("condition_on_x", [False, True])
def test_ancestral_sampling_equals_rerunning_the_convolutions_on_the_growing_path(condition_on_x):
    net = small_net(condition_on_x=condition_on_x)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    n_samples, n_steps = 3, 5
    paths = net.sample(x, n_steps, n_samples, torch.Generator().manual_seed(11), noise=True)
    means = net.sample(x, n_steps, n_samples, torch.Generator().manual_seed(11), noise=False)
    assert paths.shape == means.shape == (n_samples, 2, n_steps, 2)
    # the same draws in the same order, but every step recomputed by full convolutions

    def draw(*shape):  # one draw per path, shared by the 2 series
        e = torch.randn((n_samples, 1, *shape), generator=g, dtype=torch.float64)
        return e.expand(n_samples, 2, *shape).reshape(n_samples * 2, *shape)

    g = torch.Generator().manual_seed(11)
    xs = x.repeat(n_samples, 1, 1)
    mu, sigma = net.posterior_head(net.posterior(xs))
    z, decoded, noisy = mu + sigma * draw(8, 3), [], []
    for _ in range(n_steps):
        grown_z, grown_x = torch.cat([z, z[:, :1]], dim=1), torch.cat([xs, xs[:, :1]], dim=1)
        mu_p, sigma_p = net.prior_head(net.prior(net._with_x(net._shifted(grown_z), grown_x)))
        z = torch.cat([z, (mu_p[:, -1] + sigma_p[:, -1] * draw(3)).unsqueeze(1)], dim=1)
        decoded.append(net.readout(net.decoder(net._with_x(z, grown_x)))[:, -1])
        noisy.append(decoded[-1] + net.sigma * draw(2))  # x_t ~ N(decoder mean, sigma^2), every step
        if condition_on_x:  # and fed back
            xs = torch.cat([xs, noisy[-1].unsqueeze(1)], dim=1)
    for got, expected in [(paths, noisy), (means, decoded)]:
        expected = torch.stack(expected, dim=1).reshape(n_samples, 2, n_steps, 2)
        torch.testing.assert_close(got, expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("condition_on_x", [False, True])
@pytest.mark.parametrize("noise", [False, True])
def test_a_paths_first_steps_do_not_depend_on_how_many_steps_are_sampled(condition_on_x, noise):
    net = small_net(condition_on_x=condition_on_x)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    short, long = (net.sample(x, n, 4, torch.Generator().manual_seed(2), noise=noise) for n in (3, 12))
    # bitwise: the same draws in the same order, and every step computed the same way
    assert torch.equal(long[:, :, :3], short)
    assert short.std(dim=0).min() > 0  # the paths really are sampled


@pytest.mark.parametrize("condition_on_x", [False, True])
@pytest.mark.parametrize("noise", [False, True])
def test_sampling_some_steps_keeps_those_steps_of_the_full_paths(condition_on_x, noise):
    net = small_net(condition_on_x=condition_on_x, instance_norm=True, lookback=8)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    full = net.sample(x, 9, 4, torch.Generator().manual_seed(2), noise=noise)
    some = net.sample(x, 9, 4, torch.Generator().manual_seed(2), noise=noise, steps=[2, 5, 9])
    assert torch.equal(some, full[:, :, [1, 4, 8]])
    mean = net.sample_mean(x, 9, 4, torch.Generator().manual_seed(2))
    assert mean.dtype == torch.float64
    assert torch.equal(mean, net.sample(x, 9, 4, torch.Generator().manual_seed(2)).double().mean(dim=0))


@pytest.mark.parametrize("condition_on_x", [False, True])
def test_one_walk_gives_the_noisy_paths_at_some_steps_and_the_mean_of_every_step(condition_on_x):
    # batch forecasting reads both from one walk: the same numbers as sample and sample_mean in turn
    net = small_net(condition_on_x=condition_on_x, instance_norm=True, lookback=8)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    draws, mean = net.sample_with_mean(x, 9, 4, torch.Generator().manual_seed(2), steps=[2, 9])
    assert torch.equal(draws, net.sample(x, 9, 4, torch.Generator().manual_seed(2), noise=True, steps=[2, 9]))
    assert torch.equal(mean, net.sample_mean(x, 9, 4, torch.Generator().manual_seed(2)))
    with pytest.raises(ValueError, match="steps must be increasing steps from 1 to n_steps=9"):
        net.sample_with_mean(x, 9, 4, None, steps=[10])


@pytest.mark.parametrize("steps", [[], [3, 2], [2, 2], [0, 1], [1, 10], [1.5]])
def test_steps_to_sample_must_be_increasing_steps_up_to_n_steps(steps):
    net = small_net()
    with pytest.raises((ValueError, TypeError), match="steps"):
        net.sample(torch.randn(2, 8, 2, dtype=torch.float64), 9, 4, torch.Generator(), steps=steps)


def test_forward_is_the_seeded_mean_of_the_sample_paths():
    net = small_net(n_samples=6, seed=3)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    expected = net.sample(x, 4, 6, torch.Generator().manual_seed(3)).mean(0)
    torch.testing.assert_close(net(x), expected)
    torch.testing.assert_close(net(x), net(x))
    assert math.isfinite(net.loss(x).item())


def test_instance_norm_makes_the_sampler_shift_and_scale_equivariant():
    net = small_net(instance_norm=True, lookback=8)
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    paths = net.sample(x, 4, 3, torch.Generator().manual_seed(1), noise=True)
    moved = net.sample(5.0 * x + 100.0, 4, 3, torch.Generator().manual_seed(1), noise=True)
    torch.testing.assert_close(moved, 5.0 * paths + 100.0, rtol=1e-6, atol=1e-6)
    # training sees the window standardised by its lookback's statistics
    window = torch.randn(3, 12, 2, dtype=torch.float64)
    g = torch.Generator
    # (equal up to the variance epsilon of the normalisation)
    torch.testing.assert_close(net.loss(3.0 * window - 7.0, g().manual_seed(0)), net.loss(window, g().manual_seed(0)),
                               rtol=1e-4, atol=0)


def test_s4d_starts_at_s4d_lin():
    # S4D-Lin: A_n = -1/2 + i pi n for the d_state / 2 modes of every channel
    layer = S4D(3, 8)
    torch.testing.assert_close(-torch.exp(layer.log_A_real.detach()), torch.full((3, 4), -0.5))
    torch.testing.assert_close(layer.A_imag.detach(), math.pi * torch.arange(4.0).repeat(3, 1))


@pytest.mark.parametrize("mode", ["nplr", "diag"])
def test_an_s4_unit_is_the_layer_then_gelu_then_a_glu_output_map(mode):
    from tsrec.nn.s4 import S4Unit

    torch.manual_seed(0)
    unit = S4Unit(4, 4, mode=mode, l_max=16)
    u = torch.randn(2, 10, 4)
    torch.testing.assert_close(unit(u), torch.nn.functional.glu(unit.out(torch.nn.functional.gelu(unit.ssm(u))), -1))


@pytest.mark.parametrize("mode, layer_type", [("nplr", "S4NPLR"), ("diag", "S4D")])
def test_every_s4_layer_of_ls4_is_of_the_mode_asked_and_nplr_kernels_span_the_window(mode, layer_type):
    # prior, posterior, both latent heads and the decoder; an NPLR kernel's C_tilde is relative to l_max,
    # the training windows' length lookback + horizon
    net = LS4(n_channels=2, horizon=3, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=2, lookback=10,
              s4_mode=mode)
    layers = [m for m in net.modules() if type(m).__name__ in ("S4NPLR", "S4D")]
    assert len(layers) >= 5 and {type(m).__name__ for m in layers} == {layer_type}
    assert {m.l_max for m in layers if hasattr(m, "l_max")} == ({13} if mode == "nplr" else set())


class _FixedLogSigma(torch.nn.Module):
    """Stands in for the log-sigma S4 unit: log sigma -50 on the first latent, +50 on the second."""

    def _out(self, p: torch.Tensor) -> torch.Tensor:
        return torch.tensor([-50.0, 50.0]).expand(p.shape)

    def forward(self, p, return_state=False):
        return (self._out(p), "state") if return_state else self._out(p)

    def step(self, p, state):
        return self._out(p), state


def test_the_latent_log_sigma_is_clamped_to_minus_9_and_5_in_forward_and_step():
    # [inferred; for stability] sigma = exp(clamp(log sigma, -9, 5)): no 0 or inf in the KL or the draws
    from tsrec.nn.ls4_blocks import GaussianHead

    head = GaussianHead(d_model=4, z_dim=2, d_state=4, s4_mode="diag")
    head.log_sigma = _FixedLogSigma()
    expected = torch.tensor([math.exp(-9.0), math.exp(5.0)])
    (_, sigma), states = head(torch.randn(3, 5, 4), return_state=True)
    torch.testing.assert_close(sigma, expected.expand(3, 5, 2))
    torch.testing.assert_close(head(torch.randn(3, 5, 4))[1], expected.expand(3, 5, 2))
    (_, sigma_t), _ = head.step(torch.randn(3, 4), states)
    torch.testing.assert_close(sigma_t, expected.expand(3, 2))


def test_forward_in_training_with_gradients_warns_to_train_through_loss():
    # a plain training loop's backward failed with "element 0 of tensors does not require grad"
    net = small_net(n_samples=2).train()
    x = torch.randn(2, 8, 2, dtype=torch.float64)
    advice = r"LS4\.forward samples forecasts without gradients .* net\.loss\(window\)"
    with pytest.warns(UserWarning, match=advice) as seen:
        out = net(x)
    assert seen[0].filename == __file__  # the caller's line, through nn.Module's call wrappers
    assert not out.requires_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.eval()(x)  # forecasting: no word
        with torch.no_grad():
            net.train()(x)


def test_ls4_sample_with_mean_checks_its_generator_as_sample_does():
    # a seed passed as the generator failed inside torch.randn ("received an invalid combination of arguments")
    torch.manual_seed(0)
    net, x = LS4(3, 2, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=3).eval(), torch.randn(2, 6, 3)
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator or None \(not a seed\), got int"):
        net.sample_with_mean(x, 3, 2, 5, steps=[1])


@pytest.mark.parametrize("call", [lambda net, x: net.sample(x, 3, 0, None),
                                  lambda net, x: net.sample_mean(x, 3, 0, None),
                                  lambda net, x: net.sample_with_mean(x, 3, 0, None, steps=[1])])
def test_ls4_sample_with_mean_checks_n_samples_as_sample_does(call):
    torch.manual_seed(0)
    net, x = LS4(3, 2, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=3).eval(), torch.randn(2, 6, 3)
    with pytest.raises(ValueError, match="n_samples"):
        call(net, x)


def test_ls4_a_bool_generator_is_not_called_a_seed():
    # True is an int to Python, but nobody means it as a seed: "(not a seed)" would mislead
    torch.manual_seed(0)
    net, x = LS4(3, 2, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=3).eval(), torch.randn(2, 6, 3)
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator or None, got bool"):
        net.sample(x, 2, 2, True)
