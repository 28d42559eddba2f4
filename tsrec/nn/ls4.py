"""LS4 (Zhou et al., "Deep Latent State Space Models for Time-Series Generation", ICML 2023).

A sequence VAE with a latent ``z_t`` (``z_dim`` values) at every time step, in the form the
paper's released configurations train (``aux_channels: 0``):

- posterior ``q(z_t | x_<=t)``: ``Linear(C -> d_model)``, an :class:`~tsrec.nn.s4.S4Stack`, and a
  ``split`` Gaussian head;
- prior ``p(z_t | z_<t)``: the same kind of stack over ``[z*, z_1, ..., z_{T-1}]`` (``z*`` a learned
  start vector; teacher-forced on posterior samples in training);
- decoder ``p(x_t | z_<=t) = N(mean_t, sigma^2)``: a stack over ``z`` and ``Linear(d_model -> C)``,
  with a fixed observation ``sigma``.

The ``split`` head is ``Linear(d_model -> z_dim)`` followed by two separate S4 units (an S4 layer:
NPLR, or S4D with ``s4_mode="diag"``; GELU; Linear + GLU), one giving ``mu`` and one ``log sigma``.
The loss is the paper code's average, not
the summed ELBO: the closed-form Gaussian KL averaged over time and latent dimensions plus the
Gaussian NLL averaged over time and summed over channels, both averaged over the batch.

Departures and inferred choices:

- The S4 layers are the released configs' NPLR S4 (HiPPO-LegS, rank 1, bilinear, Cauchy kernel with
  a Woodbury correction: :class:`~tsrec.nn.s4_nplr.S4NPLR` on :func:`tsrec.kernels.nplr_kernel`),
  with ``Lambda``, ``P`` and ``B`` per channel and ``C_tilde`` relative to the training window
  (``l_max``, lookback + horizon); ``s4_mode="diag"`` swaps in diagonal S4D layers (S4D-Lin init,
  :func:`tsrec.kernels.s4d_kernel`). No U-Net pooling (the PhysioNet/USHCN configs use none either).
- Forecasting conditions on the lookback through the latent path [inferred]: the posterior
  encodes the observed lookback, the prior and decoder run over those latents, and the future
  latents are sampled from the prior step by step (ancestral sampling in the recurrent form of
  every S4 layer, ``O(d_state)`` per channel and step).
- ``condition_on_x=True`` gives the paper's general factorisation ``p(z_t | z_<t, x_<t)``,
  ``p(x_t | z_<=t, x_<t)`` in a simplified form [inferred]: ``x_{t-1}`` (zeros before the first
  step) is concatenated to the prior's and the decoder's inputs, so it enters the first S4 layer
  of each stack through the input map (the paper's ``S4DJoint`` layer adds a separate ``E x``
  input to every layer's state). Sampling then draws ``x_t ~ N(mean_t, sigma^2)`` and feeds it
  back at the next step.
- Sample paths add the observation noise ``sigma`` to the decoder mean (they are draws of
  ``p(x | z)``) [inferred; the paper's generation returns the decoder mean]; the point forecast is
  the mean of the decoder means over the sample paths.
- ``log sigma`` of the latent heads is clamped to [-9, 5] before ``exp`` [inferred; for stability].
- Training is tsrec's shared loop. As in the paper's code the SSM parameters (step, ``A``, ``P``,
  ``B``) train at ``min(1e-3, lr)`` without weight decay (:func:`tsrec.nn.optim.optimizer_groups`);
  there is no ReduceLROnPlateau. The paper's EMA of the weights (decay 0.999 from step 200,
  validated and kept) is the estimators' ``ema_decay`` / ``ema_start_step``, off by default.
- Optional instance normalisation (``instance_norm=True``, off by default) [inferred]: each window
  is standardised with the mean and std of its first ``lookback`` steps (the part a forecast
  sees), and sample paths are mapped back. The paper standardises each whole series
  (``normalize_per_seq``), which a forecaster cannot do with the future unseen.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from tsrec.kernels._dispatch import caller_level
from tsrec.nn._checks import check_choice, check_dropout, check_flag, check_input, check_int, check_ints, check_positive
from tsrec.nn._sampling import check_generator, check_seed, wanted_steps
from tsrec.nn.normalization import InstanceNorm
from tsrec.nn.ls4_blocks import GaussianHead, LS4Encoder
from tsrec.nn.s4 import S4_MODES

def gaussian_kl(mu_q: torch.Tensor, sigma_q: torch.Tensor, mu_p: torch.Tensor, sigma_p: torch.Tensor) -> torch.Tensor:
    """Elementwise ``KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))``."""
    return (torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5)


class LS4(nn.Module):
    """The LS4 sequence VAE of the module docstring on (batch, time, channels).

    ``forward(x)`` is the point forecast of ``horizon`` steps after ``x``: the mean of
    ``n_samples`` decoder-mean paths drawn with a generator seeded by ``seed`` (so in eval mode it
    is deterministic; in train mode, the torch default, dropout > 0 still acts and two calls
    differ); :meth:`loss` is the training objective and :meth:`sample` draws paths. The draws
    depend on the dtype (torch draws other normals in float64 than in float32), so a ``.double()``
    copy samples other paths: deterministic within one dtype, not across them.

    Parameters
    ----------
    n_channels : int
        Variates of the series (the last axis of ``x``).
    horizon : int
        Steps that ``forward`` forecasts.
    z_dim : int, default=5
        Latent size per time step.
    d_model : int, default=64
        Width of the posterior, prior and decoder S4 stacks.
    d_state : int, default=64
        State size of each S4 channel (``d_state // 2`` complex modes).
    n_layers : int, default=4
        Residual block pairs per stack.
    dropout : float, default=0.0
        Dropout inside the stacks.
    sigma : float, default=0.1
        Fixed standard deviation of the Gaussian observation model ``p(x_t | z_<=t)``.
    n_samples : int, default=100
        Sample paths whose mean is ``forward``'s point forecast.
    seed : int, default=0
        Seed of the generator ``forward`` samples with (:meth:`generator`), from ``-2**63`` to
        ``2**64 - 1`` (what :meth:`torch.Generator.manual_seed` takes).
    instance_norm : bool, default=False
        Standardise each window with the mean and std of its first ``lookback`` steps (in
        :meth:`loss`) or of the whole input (in :meth:`sample`), and map paths back.
    lookback : int or None, default=None
        Lookback of the training windows: with ``horizon`` it gives the NPLR layers' ``l_max``,
        and :meth:`loss` normalises by its first ``lookback`` steps. None counts as 0 for
        ``l_max`` and normalises by the whole window.
    condition_on_x : bool, default=False
        Feed ``x_{t-1}`` to the prior and the decoder (the paper's ``p(z_t | z_<t, x_<t)``,
        simplified; see the module docstring).
    s4_mode : {"nplr", "diag"}, default="nplr"
        NPLR S4 (HiPPO-LegS, the paper's configs) or diagonal S4D layers.

    Examples
    --------
    >>> import torch
    >>> net = LS4(n_channels=2, horizon=3, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=5)
    >>> net.loss(torch.randn(4, 10, 2)).shape, net.eval()(torch.randn(4, 10, 2)).shape
    (torch.Size([]), torch.Size([4, 3, 2]))
    """

    uses_position = False

    def __init__(self, n_channels: int, horizon: int, z_dim: int = 5, d_model: int = 64, d_state: int = 64,
                 n_layers: int = 4, dropout: float = 0.0, sigma: float = 0.1, n_samples: int = 100,
                 seed: int = 0, instance_norm: bool = False, lookback: int | None = None,
                 condition_on_x: bool = False, s4_mode: str = "nplr") -> None:
        super().__init__()
        n_channels, horizon, z_dim, n_samples = check_ints(n_channels=n_channels, horizon=horizon, z_dim=z_dim,
                                                           n_samples=n_samples)
        sigma, dropout, seed = check_positive("sigma", sigma), check_dropout(dropout), check_seed(seed)
        lookback = None if lookback is None else check_int("lookback", lookback, hint=" or None")
        self.horizon, self.sigma, self.n_samples, self.seed = horizon, sigma, n_samples, seed
        self.condition_on_x = check_flag("condition_on_x", condition_on_x)
        instance_norm, s4_mode = check_flag("instance_norm", instance_norm), check_choice("s4_mode", s4_mode, S4_MODES)
        self.norm, self.lookback = InstanceNorm(unbiased=False, enabled=instance_norm), lookback
        aux = n_channels if condition_on_x else 0
        s4 = {"s4_mode": s4_mode, "l_max": horizon + (lookback or 0)}  # the training windows' length
        self.posterior = LS4Encoder(n_channels, d_model, n_layers, d_state, dropout, **s4)
        self.posterior_head = GaussianHead(d_model, z_dim, d_state, **s4)
        self.z_start = nn.Parameter(torch.zeros(z_dim))
        self.prior = LS4Encoder(z_dim + aux, d_model, n_layers, d_state, dropout, **s4)
        self.prior_head = GaussianHead(d_model, z_dim, d_state, **s4)
        self.decoder = LS4Encoder(z_dim + aux, d_model, n_layers, d_state, dropout, **s4)
        self.readout = nn.Linear(d_model, n_channels)

    # ---- training ------------------------------------------------------------------------------
    def _shifted(self, z: torch.Tensor) -> torch.Tensor:
        """The prior's inputs ``[z*, z_1, ..., z_{T-1}]``."""
        start = self.z_start.expand(z.shape[0], 1, -1).to(z.dtype)
        return torch.cat([start, z[:, :-1]], dim=1)

    def _with_x(self, inputs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``inputs`` joined with ``[0, x_1, ..., x_{T-1}]`` when conditioning on past x."""
        if not self.condition_on_x:
            return inputs
        return torch.cat([inputs, torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)], dim=-1)

    def _step_input(self, z: torch.Tensor, x_prev: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, x_prev], dim=-1) if self.condition_on_x else z

    def terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Per-step pieces of the objective: posterior, prior, decoder mean, ``kl`` and ``nll``.

        Parameters
        ----------
        x : torch.Tensor
            Training windows, (batch, time, n_channels), already normalised if wanted (:meth:`loss`
            normalises; this method does not).
        generator : torch.Generator or None, default=None
            Generator of the posterior draw of ``z``; None uses torch's global one.

        Returns
        -------
        dict of str to torch.Tensor
            ``"z"``, ``"mu_q"``, ``"sigma_q"``, ``"mu_p"``, ``"sigma_p"`` and ``"kl"``, each
            (batch, time, z_dim); ``"mean"`` and ``"nll"``, each (batch, time, n_channels).
        """
        self._check_x(x)  # else a wrong channel count got the posterior encoder's message, naming no LS4 argument
        check_generator(generator)
        mu_q, sigma_q = self.posterior_head(self.posterior(x))
        eps = torch.randn(mu_q.shape, generator=generator, device=x.device, dtype=mu_q.dtype)
        z = mu_q + sigma_q * eps
        mu_p, sigma_p = self.prior_head(self.prior(self._with_x(self._shifted(z), x)))
        mean = self.readout(self.decoder(self._with_x(z, x)))
        nll = 0.5 * ((x - mean) / self.sigma) ** 2 + math.log(self.sigma) + 0.5 * math.log(2 * math.pi)
        return {"z": z, "mu_q": mu_q, "sigma_q": sigma_q, "mu_p": mu_p, "sigma_p": sigma_p, "mean": mean,
                "kl": gaussian_kl(mu_q, sigma_q, mu_p, sigma_p), "nll": nll}

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """KL averaged over time and latent dims plus NLL averaged over time, summed over channels.

        Parameters
        ----------
        x : torch.Tensor
            Training windows (lookback then horizon), (batch, time, n_channels).
        generator : torch.Generator or None, default=None
            Generator of the posterior draw; None uses torch's global one.

        Returns
        -------
        torch.Tensor
            The loss averaged over the batch, a scalar.
        """
        self._check_x(x)
        check_generator(generator)
        if self.norm.enabled:  # the statistics of the part a forecast sees
            _, (mean, std) = self.norm.normalize(x[:, : self.lookback])
            x = (x - mean) / std
        t = self.terms(x, generator)
        return t["kl"].mean(dim=(1, 2)).mean() + t["nll"].mean(dim=1).sum(dim=-1).mean()

    # ---- forecasting ---------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, x: torch.Tensor, n_steps: int, n_samples: int, generator: torch.Generator | None,
               noise: bool = False, steps: Sequence[int] | None = None) -> torch.Tensor:
        """Paths (n_samples, batch, steps, channels) of the ``n_steps`` after ``x``.

        The posterior encodes ``x``; the prior and decoder run over those latents by
        convolution and then step by step, each new latent drawn from the prior. The paths are
        the decoder means, or with ``noise`` draws of ``N(decoder mean, sigma^2)`` (the same
        latents either way). A path's first ``k`` steps do not depend on ``n_steps >= k``.

        Parameters
        ----------
        x : torch.Tensor
            Contexts, (batch, time, n_channels).
        n_steps : int
            Steps to sample after ``x``, >= 1.
        n_samples : int
            Paths per series, >= 1.
        generator : torch.Generator or None
            Generator of every draw (e.g. :meth:`generator`); path ``s`` of every series in the
            batch takes the same draws. None uses torch's global one.
        noise : bool, default=False
            Return draws of the observation model instead of the decoder means.
        steps : sequence of int, optional
            The steps to return (1-based, increasing, at most ``n_steps``); by default all
            ``n_steps``. Only these are held in memory, and they are the same numbers as in the
            full paths: every step is still sampled.

        Returns
        -------
        torch.Tensor
            The paths, (n_samples, batch, len(steps) or n_steps, n_channels), on the scale of ``x``.
        """
        n_steps, n_samples = check_ints(n_steps=n_steps, n_samples=n_samples)
        check_generator(generator)
        noise, wanted = check_flag("noise", noise), wanted_steps(n_steps, steps)
        kept = [draw if noise else mean for mean, draw in self._walk(x, n_steps, n_samples, generator, wanted)]
        return torch.cat(kept, dim=2)

    @torch.no_grad()
    def sample_mean(self, x: torch.Tensor, n_steps: int, n_samples: int,
                    generator: torch.Generator | None) -> torch.Tensor:
        """The mean over ``n_samples`` decoder-mean paths, (batch, n_steps, n_channels), in float64.

        The numbers of ``sample(x, n_steps, n_samples, generator).double().mean(dim=0)``, averaged
        step by step so that one step's paths are held at a time, not all ``n_samples`` paths.

        Parameters
        ----------
        x, n_steps, n_samples, generator
            As in :meth:`sample`: the contexts, the steps after them, the paths to average and
            the generator of every draw.

        Returns
        -------
        torch.Tensor
            The mean path, (batch, n_steps, n_channels), float64, on the scale of ``x``.
        """
        n_steps, n_samples = check_ints(n_steps=n_steps, n_samples=n_samples)
        check_generator(generator)
        every = [True] * n_steps
        return torch.cat([mean.double().mean(dim=0) for mean, _ in self._walk(x, n_steps, n_samples, generator, every)],
                         dim=1)

    @torch.no_grad()
    def sample_with_mean(self, x: torch.Tensor, n_steps: int, n_samples: int, generator: torch.Generator | None,
                         steps: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The noisy paths at ``steps`` and the mean path of every step, from one walk of the paths.

        A quantile forecast and a point forecast of the same contexts need both; one walk costs
        half of :meth:`sample` and :meth:`sample_mean` called in turn.

        Parameters
        ----------
        x, n_steps, n_samples, generator, steps
            As in :meth:`sample`.

        Returns
        -------
        tuple of torch.Tensor
            ``sample(x, n_steps, n_samples, generator, noise=True, steps=steps)`` and
            ``sample_mean(x, n_steps, n_samples, generator)``: the same numbers, from the same draws.
        """
        n_steps, n_samples = check_ints(n_steps=n_steps, n_samples=n_samples)
        check_generator(generator)
        wanted = wanted_steps(n_steps, steps)
        means, draws = [], []
        for k, (mean, draw) in enumerate(self._walk(x, n_steps, n_samples, generator, [True] * n_steps)):
            means.append(mean.double().mean(dim=0))
            if wanted[k]:
                draws.append(draw)
        return torch.cat(draws, dim=2), torch.cat(means, dim=1)

    def _walk(self, x: torch.Tensor, n_steps: int, n_samples: int, generator: torch.Generator | None,
              wanted: list[bool]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Ancestral sampling of :meth:`sample`: for each step ``k`` with ``wanted[k]``, its decoder
        means and noisy draws, each (n_samples, batch, 1, n_channels) on the scale of ``x``."""
        self._check_x(x)
        batch = x.shape[0]
        x, stats = self.norm.normalize(x)
        xs = x.repeat(n_samples, 1, 1)  # row s * batch + b is sample s of series b

        def normal(shape) -> torch.Tensor:
            # one draw per sample path, shared by all series of the batch: a series gets the same
            # paths whatever else is in the batch (a panel forecast equals the single-series one)
            eps = torch.randn((n_samples, 1, *shape[1:]), generator=generator, device=x.device, dtype=x.dtype)
            return eps.expand(n_samples, batch, *shape[1:]).reshape(shape)

        def on_scale(step: torch.Tensor) -> torch.Tensor:
            step = step.view(n_samples, batch, 1, -1)
            return step if stats is None else step * stats[1] + stats[0]

        # the posterior of a context is the same for all its sample paths: computed once, repeated
        mu_q, sigma_q = (t.repeat(n_samples, 1, 1) for t in self.posterior_head(self.posterior(x)))
        z = mu_q + sigma_q * normal(mu_q.shape)
        h, prior_states = self.prior(self._with_x(self._shifted(z), xs), return_state=True)
        _, head_states = self.prior_head(h, return_state=True)
        _, decoder_states = self.decoder(self._with_x(z, xs), return_state=True)
        z_t, x_t = z[:, -1], xs[:, -1]
        for k in range(n_steps):
            h, prior_states = self.prior.step(self._step_input(z_t, x_t), prior_states)
            (mu, sigma), head_states = self.prior_head.step(h, head_states)
            z_t = mu + sigma * normal(mu.shape)
            h, decoder_states = self.decoder.step(self._step_input(z_t, x_t), decoder_states)
            mean = self.readout(h)
            # drawn at every step, noise or not: the first k steps of a path then take the same
            # draws whatever n_steps >= k is asked for, and the decoder means are those of the
            # noisy paths
            draw = mean + self.sigma * normal(mean.shape)
            if self.condition_on_x:  # the next step reads a draw of x_t, not its mean
                x_t = draw
            if wanted[k]:
                yield on_scale(mean), on_scale(draw)

    def _check_x(self, x: torch.Tensor) -> None:
        embed = self.posterior.embed
        check_input("x", x, ("batch", "time", ("channels", embed.in_features, "n_channels")), embed.weight)

    def generator(self, device: torch.device | str = "cpu") -> torch.Generator:
        """A generator seeded with ``seed``: every call samples the same paths.

        Parameters
        ----------
        device : torch.device or str, default="cpu"
            Device of the generator (that of the tensors it draws).

        Returns
        -------
        torch.Generator
            A new generator seeded with ``seed``.
        """
        return torch.Generator(device=device).manual_seed(self.seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The point forecast of ``horizon`` steps: the mean of ``n_samples`` decoder-mean paths.

        Parameters
        ----------
        x : torch.Tensor
            Contexts, (batch, time, n_channels).

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, n_channels); deterministic in eval mode (:meth:`generator`;
            in train mode dropout > 0 acts).
        """
        self._check_x(x)  # before x.device is read: a list failed on "'list' object has no attribute 'device'"
        if self.training and torch.is_grad_enabled():  # a training loop's backward then failed on PyTorch's words
            warnings.warn("LS4.forward samples forecasts without gradients (its output has no grad_fn): train "
                          "through net.loss(window), the ELBO of (batch, lookback + horizon, n_channels) windows",
                          UserWarning, stacklevel=caller_level(("tsrec.nn", "torch.")))
        # meta tensors carry no values to draw (and torch has no meta generator): shapes only
        generator = None if x.device.type == "meta" else self.generator(x.device)
        return self.sample(x, self.horizon, self.n_samples, generator).mean(dim=0)
