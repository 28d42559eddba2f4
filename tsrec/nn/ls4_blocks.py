"""The blocks of LS4 (:mod:`tsrec.nn.ls4`): the encoder (a linear map and an S4 stack) that every
LS4 path runs, and the ``split`` Gaussian head of the latents (two S4 units, ``mu`` and ``log
sigma``), each with a recurrent ``step`` for ancestral sampling.
"""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_choice, check_flag, check_input, check_ints
from tsrec.nn.s4 import S4_MODES, S4Stack, S4Unit, State

_LOG_SIGMA_RANGE = (-9.0, 5.0)  # log sigma of the latent heads, clamped before exp [inferred; for stability]


class LS4Encoder(nn.Module):
    """``Linear(in -> d_model)`` then an :class:`S4Stack`: (batch, time, in) -> (batch, time, d_model).

    With ``pool=True`` the output is the mean over time (batch, d_model), the classifier's encoder.

    Parameters
    ----------
    n_inputs : int
        Features per input step.
    d_model : int
        Width of the embedding and of the S4 stack.
    n_layers : int
        Number of residual (S4 unit, feed-forward) block pairs in the stack.
    d_state : int
        State size of each S4 channel (``d_state // 2`` complex modes, at least one).
    dropout : float, default=0.0
        Dropout on the output of every residual block.
    pool : bool, default=False
        Return the mean over time instead of every step.
    s4_mode : {"nplr", "diag"}, default="nplr"
        The S4 layers: NPLR S4 (HiPPO-LegS) or diagonal S4D (see :func:`tsrec.nn.s4.s4_layer`).
    l_max : int, default=1024
        Length that the NPLR layers' ``C_tilde`` is defined relative to (ignored by S4D); any
        input length works.

    Examples
    --------
    >>> import torch
    >>> LS4Encoder(3, d_model=8, n_layers=1, d_state=4, pool=True)(torch.randn(2, 7, 3)).shape
    torch.Size([2, 8])
    """

    def __init__(self, n_inputs: int, d_model: int, n_layers: int, d_state: int, dropout: float = 0.0,
                 pool: bool = False, s4_mode: str = "nplr", l_max: int = 1024) -> None:
        super().__init__()
        n_inputs, d_model = check_ints(n_inputs=n_inputs, d_model=d_model)
        s4_mode = check_choice("s4_mode", s4_mode, S4_MODES)
        self.embed = nn.Linear(n_inputs, d_model)
        self.stack = S4Stack(d_model, n_layers, d_state, dropout, mode=s4_mode, l_max=l_max)
        self.pool = check_flag("pool", pool)

    def forward(self, x: torch.Tensor, return_state: bool = False) -> torch.Tensor | tuple[torch.Tensor, State]:
        """(batch, time, n_inputs) -> (batch, time, d_model), or (batch, d_model) pooled.

        Parameters
        ----------
        x : torch.Tensor
            Inputs, (batch, time, n_inputs).
        return_state : bool, default=False
            Also return the stack's per-layer states after the last step, from which
            :meth:`step` continues; the output is then every step's, (batch, time, d_model),
            even with ``pool``.

        Returns
        -------
        torch.Tensor or tuple
            The output; with ``return_state``, the pair ``(output, states)``.
        """
        check_input("x", x, ("batch", "time", ("features", self.embed.in_features, "n_inputs")), self.embed.weight)
        if check_flag("return_state", return_state):  # a string such as "no" would read as True
            return self.stack(self.embed(x), return_state=True)
        h = self.stack(self.embed(x))
        return h.mean(dim=1) if self.pool else h

    def step(self, x: torch.Tensor, states: State) -> tuple[torch.Tensor, State]:
        """One step ``x`` (batch, n_inputs) from the stack's per-layer ``states`` -> (batch, d_model), new states.

        Parameters
        ----------
        x : torch.Tensor
            One input step, (batch, n_inputs).
        states : list
            The per-layer states that ``forward(..., return_state=True)`` or an earlier
            :meth:`step` returned.

        Returns
        -------
        output : torch.Tensor
            The step's output, (batch, d_model).
        states : list
            The states after the step.
        """
        check_input("x", x, ("batch", ("features", self.embed.in_features, "n_inputs")), self.embed.weight)
        _check_state_batch("x", x, states)
        return self.stack.step(self.embed(x), states)


def _check_state_batch(name: str, x: torch.Tensor, states: State) -> None:
    """Refuse a step input ``x`` whose batch is not that of ``states`` (the S4 layers' own check names
    their internal input ``u``). States of another form are left to the layers' messages."""
    first = states[0] if isinstance(states, (list, tuple)) and states else None
    first = first[0] if isinstance(first, tuple) and first else first  # an NPLR state is (x, constants)
    if isinstance(first, torch.Tensor) and first.ndim >= 1 and first.shape[0] != x.shape[0]:
        raise ValueError(f"{name} has batch {x.shape[0]} but states were computed for batch {first.shape[0]}: pass "
                         f"{name} with {first.shape[0]} rows, the batch of the forward(..., return_state=True) call "
                         "that returned states, or call forward on this batch for states of its own")


class GaussianHead(nn.Module):
    """LS4's ``split`` latent head: ``Linear(d_model -> z_dim)``, then one S4 unit each for mu and log sigma.

    ``forward(h)`` maps (batch, time, d_model) to ``(mu, sigma)``, each (batch, time, z_dim), with
    ``sigma = exp(log sigma)`` after clamping ``log sigma`` to [-9, 5]; ``return_state=True`` also
    gives the two units' states, from which :meth:`step` continues one time step at a time.

    Parameters
    ----------
    d_model : int
        Width of the input features ``h``.
    z_dim : int
        Latent size: the width of ``mu`` and ``sigma``.
    d_state : int
        State size of each S4 channel.
    s4_mode : {"nplr", "diag"}, default="nplr"
        The S4 layers: NPLR S4 (HiPPO-LegS) or diagonal S4D (see :func:`tsrec.nn.s4.s4_layer`).
    l_max : int, default=1024
        Length that the NPLR layers' ``C_tilde`` is defined relative to (ignored by S4D).

    Examples
    --------
    >>> import torch
    >>> head = GaussianHead(d_model=8, z_dim=2, d_state=4)
    >>> (mu, sigma), states = head(torch.randn(3, 6, 8), return_state=True)
    >>> mu.shape, sigma.shape
    (torch.Size([3, 6, 2]), torch.Size([3, 6, 2]))
    >>> (mu_t, sigma_t), states = head.step(torch.randn(3, 8), states)
    >>> mu_t.shape
    torch.Size([3, 2])
    """

    def __init__(self, d_model: int, z_dim: int, d_state: int, s4_mode: str = "nplr", l_max: int = 1024) -> None:
        super().__init__()
        d_model, z_dim = check_ints(d_model=d_model, z_dim=z_dim)
        s4_mode = check_choice("s4_mode", s4_mode, S4_MODES)
        self.proj = nn.Linear(d_model, z_dim)
        self.mu = S4Unit(z_dim, d_state, s4_mode, l_max)
        self.log_sigma = S4Unit(z_dim, d_state, s4_mode, l_max)

    def _check(self, h: torch.Tensor, dims: tuple) -> None:
        check_input("h", h, (*dims, ("d_model", self.proj.in_features, "d_model")), self.proj.weight)

    @staticmethod
    def _sigma(log_sigma: torch.Tensor) -> torch.Tensor:
        return torch.exp(log_sigma.clamp(*_LOG_SIGMA_RANGE))

    def forward(
        self, h: torch.Tensor, return_state: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor] | tuple[tuple[torch.Tensor, torch.Tensor], State]:
        """The latent Gaussian ``(mu, sigma)`` at every step of ``h``.

        Parameters
        ----------
        h : torch.Tensor
            Features, (batch, time, d_model).
        return_state : bool, default=False
            Also return the two units' states after the last step, from which :meth:`step` continues.

        Returns
        -------
        tuple
            ``(mu, sigma)``, each (batch, time, z_dim); with ``return_state``, the pair
            ``((mu, sigma), states)``, ``states`` the list of the two units' states.
        """
        self._check(h, ("batch", "time"))
        p = self.proj(h)
        if not check_flag("return_state", return_state):
            return self.mu(p), self._sigma(self.log_sigma(p))
        (mu, s_mu), (log_sigma, s_sigma) = self.mu(p, return_state=True), self.log_sigma(p, return_state=True)
        return (mu, self._sigma(log_sigma)), [s_mu, s_sigma]

    def step(self, h: torch.Tensor, states: State) -> tuple[tuple[torch.Tensor, torch.Tensor], State]:
        """One time step of :meth:`forward` from the two units' ``states``.

        Parameters
        ----------
        h : torch.Tensor
            One step's features, (batch, d_model).
        states : list
            The ``[mu, log sigma]`` unit states that ``forward(..., return_state=True)`` or an
            earlier :meth:`step` returned.

        Returns
        -------
        (mu, sigma) : tuple of torch.Tensor
            The step's latent Gaussian, each (batch, z_dim).
        states : list
            The states after the step.
        """
        self._check(h, ("batch",))
        if not isinstance(states, (list, tuple)) or len(states) != 2:
            error = ValueError if isinstance(states, (list, tuple)) else TypeError
            got = f"{len(states)} states" if error is ValueError else type(states).__name__
            raise error("states must be the [mu, log sigma] pair of unit states that forward(h, return_state=True) "
                        f"or step returns, got {got}: pass the states those calls return")
        _check_state_batch("h", h, states)
        p = self.proj(h)
        (mu, s_mu), (log_sigma, s_sigma) = self.mu.step(p, states[0]), self.log_sigma.step(p, states[1])
        return (mu, self._sigma(log_sigma)), [s_mu, s_sigma]
