"""S4's NPLR layer (Gu et al., ICLR 2022) with HiPPO-LegS initialisation, as LS4's configs use it.

Each of ``H`` channels is a single-input SSM with ``N = d_state`` real states, held as ``M = N/2``
complex modes of the normal-plus-low-rank form ``A = Lambda - P P^*`` (see
:func:`tsrec.kernels.nplr_kernel`), bilinear-discretised with a learned step per channel. The
output vector is learned as S4's ``C_tilde``, relative to a fixed length ``l_max``; the underlying
system (``C = (I - A_bar^l_max)^{-T} C_tilde``) is the same whatever the input length, so inputs
shorter than ``l_max`` use the leading part of the ``l_max`` kernel, longer ones convert
``C_tilde`` to their length, and the recurrent step reads ``C``.

Initialisation (S4, ``measure=legs``, rank 1): HiPPO-LegS
``A_nk = -sqrt(2n+1) sqrt(2k+1)`` (n > k), ``-(n+1)`` (n = k), ``B_n = sqrt(2n+1)``; with
``P_n = sqrt(n + 1/2)`` the matrix ``A + P P^T`` is ``-1/2 I`` plus a skew-symmetric matrix, whose
eigenvectors give ``Lambda = -1/2 + i mu`` and the modes' ``P`` and ``B`` (one mode per conjugate
pair). ``log dt ~ U[log 1e-3, log 1e-1]``, ``D ~ N(0, 1)``. ``C_tilde`` is drawn complex normal
(variance 1/2 per part) directly: our choice, since S4's code draws ``C`` so and derives
``C_tilde = C (I - A_bar^l_max)`` at its first call; the kernels' norms agree where ``dt`` is not
tiny (ratio 1.0 for dt >= 0.07, up to about 2 at dt = 1e-3, measured at ``l_max`` 192, N 64).
``Lambda``, ``P`` and ``B`` are trained per channel; the real part of
``Lambda`` is kept negative as ``-exp(log_A_real)``, which with the tied ``P`` keeps ``A``
dissipative, so the recurrence is stable.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tsrec.kernels import fft_conv, nplr_discrete, nplr_kernel
from tsrec.nn._checks import check_dt_range, check_input, check_ints, check_shape

Step = tuple[torch.Tensor, tuple]  # (state of the M modes, S4NPLR.step_constants())


def legs_nplr(d_state: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """HiPPO-LegS in NPLR form: ``(Lambda, P, B)`` of ``d_state // 2`` modes, complex128.

    Examples
    --------
    >>> Lambda, P, B = legs_nplr(4)
    >>> Lambda.real.tolist()
    [-0.5, -0.5]
    """
    n = torch.arange(2 * max(1, d_state // 2), dtype=torch.float64)
    s = torch.sqrt(n + 0.5)
    skew = torch.outer(s, s) * torch.sign(n.unsqueeze(0) - n.unsqueeze(1))  # +above, -below the diagonal
    mu, V = torch.linalg.eigh(-1j * skew.to(torch.complex128))  # skew v = i mu v
    # one of each conjugate pair: eigenvalues +-mu, none 0 for an even size, ascending, so the
    # positive half is the last (a slice, not a mask: a mask needs values, which a meta outline lacks)
    half = len(n) // 2
    V_h = V[:, half:].conj().transpose(0, 1)
    Lambda = torch.complex(torch.full_like(mu[half:], -0.5), mu[half:])
    return Lambda, V_h @ s.to(torch.complex128), V_h @ torch.sqrt(2 * n + 1).to(torch.complex128)


class S4NPLR(nn.Module):
    """The NPLR S4 system of the module docstring on (batch, time, channels).

    Parameters
    ----------
    channels : int
        Channels ``H`` of the input and output, each with its own SSM.
    d_state : int, default=64
        State size ``N``: each channel has ``d_state // 2`` complex modes (at least one).
    l_max : int, default=1024
        Length that the learned ``C_tilde`` is defined relative to; any input length works.
    dt_min, dt_max : float, default=1e-3, 1e-1
        Range of the initial step sizes, drawn log-uniformly per channel.

    Examples
    --------
    >>> import torch
    >>> S4NPLR(channels=3, d_state=8, l_max=10)(torch.randn(2, 10, 3)).shape
    torch.Size([2, 10, 3])
    """

    def __init__(self, channels: int, d_state: int = 64, l_max: int = 1024, dt_min: float = 1e-3,
                 dt_max: float = 1e-1) -> None:
        super().__init__()
        channels, d_state, l_max = check_ints(channels=channels, d_state=d_state, l_max=l_max)
        dt_min, dt_max = check_dt_range(dt_min, dt_max)
        Lambda, P, B = legs_nplr(d_state)
        self.l_max = l_max
        log_dt = torch.rand(channels) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        real = torch.get_default_dtype()  # HiPPO is built in float64, the parameters in the module's dtype
        self.log_A_real = nn.Parameter(torch.log(-Lambda.real).to(real).repeat(channels, 1))
        self.A_imag = nn.Parameter(Lambda.imag.to(real).repeat(channels, 1))
        self.P = nn.Parameter(torch.view_as_real(P).to(real).repeat(channels, 1, 1))
        self.B = nn.Parameter(torch.view_as_real(B).to(real).repeat(channels, 1, 1))
        self.C = nn.Parameter(torch.randn(channels, len(Lambda), 2) * math.sqrt(0.5))  # C_tilde at l_max
        self.D = nn.Parameter(torch.randn(channels))

    def ssm_parameters(self) -> list[nn.Parameter]:
        """Step size, ``Lambda``, ``P`` and ``B``: trained at S4's capped learning rate (:mod:`tsrec.nn.optim`)."""
        return [self.log_dt, self.log_A_real, self.A_imag, self.P, self.B]

    def _modes(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(Lambda, P, B) as complex tensors of shape (channels, M)."""
        check_complex_ready(self.A_imag)
        Lambda = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        return Lambda, torch.view_as_complex(self.P), torch.view_as_complex(self.B)

    def _discrete(self) -> tuple[torch.Tensor, torch.Tensor]:
        return nplr_discrete(self.log_dt, *self._modes())

    def output_vector(self, length: int | None = None) -> torch.Tensor:
        """``C`` of the recurrence (``length=None``), or ``C_tilde`` relative to ``length``; (channels, M)."""
        A_bar, _ = self._discrete()
        eye = torch.eye(A_bar.shape[-1], dtype=A_bar.dtype, device=A_bar.device)
        c_tilde = torch.view_as_complex(self.C)
        full = torch.cat([c_tilde, c_tilde.conj()], dim=-1)
        c = torch.linalg.solve((eye - torch.linalg.matrix_power(A_bar, self.l_max)).transpose(-1, -2), full)
        if length is not None:
            c = ((eye - torch.linalg.matrix_power(A_bar, length)).transpose(-1, -2) @ c.unsqueeze(-1)).squeeze(-1)
        return c[..., : c_tilde.shape[-1]]

    def kernel(self, length: int) -> torch.Tensor:
        """The real convolution kernel (channels, length)."""
        Lambda, P, B = self._modes()
        if length <= self.l_max:
            c_tilde = torch.view_as_complex(self.C)
            return nplr_kernel(self.log_dt, Lambda, P, B, c_tilde, self.l_max)[:, :length]
        return nplr_kernel(self.log_dt, Lambda, P, B, self.output_vector(length), length)

    def forward(self, u: torch.Tensor, return_state: bool = False) -> torch.Tensor | tuple[torch.Tensor, Step]:
        """``y`` (batch, time, channels); with ``return_state`` also the :meth:`step` state after the last step."""
        check_input("u", u, ("batch", "time", ("channels", self.D.shape[0], "channels")))
        y = fft_conv(u, self.kernel(u.shape[1]), D=self.D)
        if not return_state:
            return y
        A_bar, B_bar = self._discrete()
        # x_T = sum_j A_bar^(T-1-j) B_bar u_j; the columns A_bar^l B_bar by doubling (log T products)
        columns, power = B_bar.unsqueeze(-1), A_bar
        while columns.shape[-1] < u.shape[1]:
            columns = torch.cat([columns, power @ columns], dim=-1)
            power = power @ power
        columns = columns[..., : u.shape[1]].flip(-1)[:, : B_bar.shape[-1] // 2]  # (H, M, T), the modes
        state = torch.einsum("bth,hmt->bhm", u.to(columns.dtype), columns)
        return y, (state, self.step_constants())

    def step_constants(self) -> tuple[torch.Tensor, ...]:
        """What :meth:`step` needs of the parameters, computed once per roll-out.

        With ``h = dt/2``, ``r = 1/(1 - h Lambda)`` and ``a = r (1 + h Lambda)`` (the diagonal part
        of ``A_bar``), the rank-1 term ``A x = Lambda x - 2 P Re(P^* x)`` and Woodbury's solve of
        ``(I - h A)`` give

            x' = a x - 2h r P (s_x + s) + 2h r B u,   s_x = Re(P^* x),
            s = g (Re((conj(a) P)^* x) - 2h k_P s_x + 2h k_B u),
            g = 1 / (1 + 2h k_P),   k_P = Re(P^* r P),   k_B = Re(P^* r B),

        so a step reads ``x`` twice (one product with two probes) and writes it once.
        """
        Lambda, P, B = self._modes()
        h = (torch.exp(self.log_dt) / 2).unsqueeze(-1)
        r = 1.0 / (1.0 - h * Lambda)
        a = r * (1.0 + h * Lambda)
        g = 1.0 / (1.0 + 2 * h * _re_dot(P, r * P))
        probes = torch.stack([P, a.conj() * P], dim=1).conj()  # (H, 2, M): rows give P^* x and (a* P)^* x
        feedback = torch.cat([-2 * h * _re_dot(P, r * P) * g, 2 * h * _re_dot(P, r * B) * g, g], dim=-1)  # (H, 3)
        return self.output_vector(), a, -2 * h * r * P, 2 * h * r * B, probes, feedback

    def step(self, u: torch.Tensor, state: Step) -> tuple[torch.Tensor, Step]:
        """One bilinear step ``u`` (batch, channels) -> (y, new state) in ``O(M)`` per channel.

        ``state`` is ``(x, constants)`` as ``forward(..., return_state=True)`` returns it; see
        :meth:`step_constants` for the update.
        """
        if not (isinstance(state, tuple) and len(state) == 2):
            raise TypeError("state must be the (x, constants) pair that forward(u, return_state=True) or step returns, "
                            f"got {type(state).__name__}: pass the state those calls return")
        check_step(u, state[0], self.D.shape[0], self.C.shape[1], "state[0]")
        x, constants = state
        c, a, w, b, probes, feedback = constants
        s_x, t = torch.einsum("bhm,hkm->bhk", x, probes).real.unbind(-1)
        s = feedback[:, 2] * t + feedback[:, 0] * s_x + feedback[:, 1] * u
        x = a * x + w * (s_x + s).unsqueeze(-1) + b * u.unsqueeze(-1)
        return 2.0 * (c * x).sum(-1).real + self.D * u, (x, constants)


def check_complex_ready(param: torch.Tensor) -> None:
    """Refuse half-precision S4 parameters: the complex SSM arithmetic needs float32 or float64.

    One dtype comparison, made wherever the layers build their complex parameters.
    """
    if param.dtype in (torch.float16, torch.bfloat16):
        raise TypeError(f"LS4's S4 layers need float32 or float64 parameters, got {param.dtype} (complex arithmetic "
                        "has no half-precision kernels on every device): keep the module in float32 and use "
                        "torch.autocast for mixed precision")


def check_step(u: torch.Tensor, x: torch.Tensor, channels: int, modes: int, name: str = "state") -> None:
    """One step's complex state ``x`` (batch, channels, modes), then its input ``u`` (batch, channels).

    ``name`` is what the message calls ``x``; the state's dtype is not compared with the parameters'.
    """
    if not (isinstance(x, torch.Tensor) and x.is_complex()):
        got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"{name} must be the complex state (batch, {channels}, {modes}) that forward(u, "
                        f"return_state=True) or step returns, got {got}: pass the state those calls return")
    check_shape(name, x, ("batch", ("channels", channels, "channels"), ("modes", modes)))
    check_input("u", u, (("batch", x.shape[0]), ("channels", channels, "channels")))


def _re_dot(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``Re(p^* x)`` over the modes, kept as a trailing axis of size 1."""
    return (p.conj() * x).sum(-1, keepdim=True).real
