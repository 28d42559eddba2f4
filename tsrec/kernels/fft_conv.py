"""Causal long convolution ``y_t = sum_{j<=t} k_j u_{t-j} (+ D u_t)``, by direct conv or rFFT.

Backends
--------
``naive``
    float64 loop over output time steps; the specification the tests compare against.
``torch``
    a depthwise ``conv1d`` for kernels shorter than :data:`FFT_THRESHOLD` taps, otherwise a
    zero-padded ``rfft``/``irfft`` product of size ``n >= T + L_k - 1`` (so no circular
    wrap-around reaches the kept outputs). The FFT always runs in float32 or wider: half-precision
    FFTs need power-of-two sizes on cuFFT and lose too many bits for long kernels.
``triton``
    there is no Triton FFT. On CUDA tensors the torch path *is* the GPU path (cuFFT / cuDNN), so
    ``backend="triton"`` runs the torch path there rather than raising (for CPU tensors it is
    refused, as for every op), ``TSREC_KERNEL_BACKEND=triton`` runs it on any device, and
    ``"auto"`` takes it; a hand-written Triton FFT would not beat cuFFT at these sizes.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from ._autocast import without_autocast
from ._autograd import empty_result
from ._checks import check_device, check_finite, check_tensor
from ._dispatch import resolve_backend

#: Shortest kernel (after truncation to the input length) that uses the rFFT; shorter ones convolve directly.
#: Chosen on forward+backward cost, not forward alone: on a CPU the depthwise ``conv1d``'s backward
#: costs 5-10x its forward (at 32-96 taps), the rFFT's about 2x. In
#: ``benchmarks/results/kernels.md`` (96 steps, both paths forced) the rFFT is faster forward+backward
#: from 16 taps with one output per channel (1.4x; 2.1x at 32, 3.2x at 96), while with 8 heads over
#: a batch of 350 the two tie at 16 (1.02x; 1.4x at 32, 2.3x at 96; an earlier run had 0.9x at 16);
#: 32 is the shortest measured kernel at which it wins clearly in both, its forward no slower. The
#: rule reads the kernel length alone, for
#: simplicity; the FFT's complex intermediates take more memory than the direct conv's output
#: (about twice, transiently), which matters most for many heads over a large batch.
#: Measured on CPU only; not timed on a GPU.
FFT_THRESHOLD = 32
METHODS = ("auto", "direct", "fft")


def route_to_torch(backend: str, *tensors: torch.Tensor | None) -> str:
    """Resolve ``backend`` for an op whose GPU path is plain torch (cuFFT/cuBLAS), not Triton.

    Returns ``"torch"`` or ``"naive"``. ``backend="triton"`` demands the GPU path, which for these
    ops is torch on CUDA tensors, and is refused for CPU tensors as every op refuses it;
    ``TSREC_KERNEL_BACKEND=triton`` is a default for every op, so here it takes torch on any device.
    """
    no_triton = None if backend == "triton" else "the GPU path of this op is torch (cuFFT/cuBLAS)"
    chosen = resolve_backend(backend, *[t for t in tensors if t is not None], no_triton=no_triton)
    return "naive" if chosen == "naive" else "torch"


@without_autocast
def fft_conv(
    u: torch.Tensor,
    k: torch.Tensor,
    *,
    D: torch.Tensor | None = None,
    method: Literal["auto", "direct", "fft"] = "auto",
    backend: str = "auto",
) -> torch.Tensor:
    """Causal convolution of every channel of ``u`` with its own long kernel.

    ``y[b, t, (h,) c] = sum_{j=0}^{min(t, L_k-1)} k[(h,) c, j] * u[b, t-j, c]  (+ D[(h,) c] u[b, t, c])``.
    Tap ``k_0`` multiplies the current input, so there is no one-step delay.

    Parameters
    ----------
    u : torch.Tensor
        Input of shape ``(batch, time, channels)``.
    k : torch.Tensor
        Kernel of shape ``(channels, L_k)``, or ``(heads_out, channels, L_k)`` for several
        outputs per input channel (e.g. SpaceTime's bank of state kernels ``A^j b``). ``L_k`` may
        be shorter or longer than ``time``; taps beyond ``time`` never contribute.
    D : torch.Tensor, optional
        Skip weight, shape ``(channels,)``, or also ``(heads_out, channels)`` for a 3-D ``k``.
    method : {"auto", "direct", "fft"}
        Torch-path algorithm; ``"auto"`` picks ``"direct"`` when ``min(L_k, time) <``
        :data:`FFT_THRESHOLD`. Ignored by the naive backend.
    backend : {"auto", "torch", "triton", "naive"}
        See the module docstring; ``"triton"`` runs the torch (cuFFT) path.

    Returns
    -------
    torch.Tensor
        ``(batch, time, channels)`` for a 2-D ``k``; ``(batch, time, heads_out, channels)`` for a
        3-D ``k``, contiguous. The dtype is the promoted dtype of ``u``, ``k`` (and ``D``).
    """
    u, k3, D = _validate(u, k, D, method)
    chosen = route_to_torch(backend, u, k3, D)
    out_dtype = _out_dtype(u, k3, D)
    work = torch.float64 if (chosen == "naive" or out_dtype == torch.float64) else torch.float32
    uw, kw = u.to(work), k3.to(work)
    if chosen == "naive":
        y = _conv_naive(uw, kw)
    else:
        y = _conv_torch(uw, kw, method)
    if D is not None:
        y = y + D.to(work) * uw.unsqueeze(2)
    y = y.to(out_dtype)
    return y.squeeze(2) if k.ndim == 2 else y


def _validate(
    u: object, k: object, D: object, method: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    u = check_tensor("u", u, ndim=3, layout="(batch, time, channels)")
    k = check_tensor("k", k, ndim=(2, 3), layout="(channels, L_k) or (heads, channels, L_k)")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    batch, time, channels = u.shape
    if time < 1 or k.shape[-1] < 1:  # no channels is an empty result, as in the scans
        raise ValueError(f"u needs time >= 1 and k needs L_k >= 1; got u {tuple(u.shape)}, k {tuple(k.shape)}")
    if k.shape[-2] != channels:
        raise ValueError(
            f"k must have {channels} channels on its second-to-last axis to match u of shape "
            f"{tuple(u.shape)} (batch, time, channels); got k of shape {tuple(k.shape)}"
        )
    k3 = k if k.ndim == 3 else k.unsqueeze(0)
    if D is not None:
        D = check_tensor("D", D, ndim=(1, 2))
        allowed = {(channels,), tuple(k3.shape[:2])} if k.ndim == 3 else {(channels,)}
        if tuple(D.shape) not in allowed:
            wanted = " or ".join(map(str, sorted(allowed)))
            raise ValueError(f"D must have shape {wanted}, got {tuple(D.shape)}")
    check_device("u", u, k=k, D=D)
    check_finite(u=u, k=k, D=D)
    return u, k3, D


def _out_dtype(*tensors: torch.Tensor | None) -> torch.dtype:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t is not None:
            dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def _conv_naive(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """float64 reference: one sum over the visible taps per output step -> (B, T, Ho, C)."""
    time, taps = u.shape[1], k.shape[-1]
    steps = []
    for t in range(time):
        m = min(t + 1, taps)
        window = u[:, t - m + 1 : t + 1].flip(1)  # u_{t-j} for j = 0..m-1
        steps.append(torch.einsum("bjc,hcj->bhc", window, k[..., :m]))
    return torch.stack(steps, dim=1)


def _conv_torch(u: torch.Tensor, k: torch.Tensor, method: str) -> torch.Tensor:
    """Fast path -> (B, T, Ho, C); taps past the input length are dropped first (they are unused)."""
    k = k[..., : u.shape[1]]
    if u.numel() == 0 or k.numel() == 0:  # no batch or no heads: MKL's FFT and conv1d refuse empty axes
        return empty_result((u.shape[0], u.shape[1], k.shape[0], u.shape[2]), u, k)
    if method == "auto":
        method = auto_method(u.shape[1], k.shape[-1])
    y = _conv_direct(u, k) if method == "direct" else _conv_fft(u, k)
    # both paths compute along time and return a permuted view; elementwise ops and their
    # backward on such a view run several times slower on a CPU than on the copy
    return y.contiguous()


def auto_method(time: int, taps: int) -> str:
    """``method="auto"``'s choice for an input of ``time`` steps and a kernel of ``taps`` taps.

    ``"direct"`` when ``min(taps, time) <`` :data:`FFT_THRESHOLD` (taps past the input never
    contribute, so they are dropped before the choice), else ``"fft"``; see :data:`FFT_THRESHOLD`.
    """
    return "direct" if min(taps, time) < FFT_THRESHOLD else "fft"


def _conv_direct(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    heads, channels, taps = k.shape
    batch, time, _ = u.shape
    x = F.pad(u.transpose(1, 2), (taps - 1, 0))  # left padding makes the conv causal
    # conv1d correlates, so flip the taps; group c owns output channels c*Ho .. c*Ho+Ho-1.
    weight = k.flip(-1).transpose(0, 1).reshape(channels * heads, 1, taps)
    y = F.conv1d(x, weight, groups=channels)
    return y.view(batch, channels, heads, time).permute(0, 3, 2, 1)


def _conv_fft(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    n = fast_fft_len(u.shape[1] + k.shape[-1] - 1)
    # transforms along the contiguous last axis: ~1.4x faster fwd+bwd on CPU than along time (dim 1)
    y = _FFTConv.apply(u.transpose(1, 2), k, n)[0]  # (B, Ho, C, T)
    return y.permute(0, 3, 1, 2)


class _FFTConv(torch.autograd.Function):
    """``irfft(rfft(u) rfft(k))`` over ``n >= T + L_k - 1`` points, with its adjoint written out.

    The adjoint of a causal convolution is the correlation with the same kernel, so with ``G = rfft(g)``
    the gradients are ``irfft(sum_h G conj(K))[:T]`` for ``u`` and ``irfft(sum_b G conj(U))[:L_k]`` for
    ``k``: one rFFT and two inverse ones, reusing the forward's spectra. Autograd's own backward of the
    padded transforms built and zero-filled full-length buffers for each (``fill_`` alone was 17-19% of
    a SpaceTime or LS4 fit). Written in ``setup_context`` form with a ``jvp`` and a generated vmap rule,
    so torch.func's transforms (grad, jacrev, jvp, jacfwd, hessian) and forward-mode AD run it.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(u_t: torch.Tensor, k: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
        uf = torch.fft.rfft(u_t, n=n, dim=-1)  # (B, C, F)
        kf = torch.fft.rfft(k, n=n, dim=-1)  # (Ho, C, F)
        y = torch.fft.irfft(uf.unsqueeze(1) * kf, n=n, dim=-1)[..., : u_t.shape[-1]]  # (B, Ho, C, T)
        return y, uf, kf  # the spectra are outputs only to be saved (setup_context sees no intermediates)

    @staticmethod
    def setup_context(ctx, inputs: tuple, output: tuple) -> None:
        u_t, k, n = inputs
        _, uf, kf = output
        ctx.mark_non_differentiable(uf, kf)
        ctx.save_for_backward(u_t, k, uf, kf)
        ctx.save_for_forward(uf, kf)
        ctx.n, ctx.time = n, u_t.shape[-1]

    @staticmethod
    def jvp(ctx, du: torch.Tensor | None, dk: torch.Tensor | None, _dn: object) -> tuple[torch.Tensor | None, ...]:
        """The product rule: ``irfft(rfft(du) K + U rfft(dk))``, the convolution being bilinear in ``u`` and ``k``."""
        uf, kf = ctx.saved_tensors
        spectrum = 0
        if du is not None:
            spectrum = spectrum + torch.fft.rfft(du, n=ctx.n, dim=-1).unsqueeze(1) * kf
        if dk is not None:
            spectrum = spectrum + uf.unsqueeze(1) * torch.fft.rfft(dk, n=ctx.n, dim=-1)
        if isinstance(spectrum, int):
            return None, None, None
        return torch.fft.irfft(spectrum, n=ctx.n, dim=-1)[..., : ctx.time], None, None

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor, _uf: object, _kf: object) -> tuple[torch.Tensor | None, ...]:
        u_t, k, uf, kf = ctx.saved_tensors
        n, time, taps = ctx.n, u_t.shape[-1], k.shape[-1]
        if torch.is_grad_enabled():  # create_graph=True: spectra of the inputs themselves, for second derivatives
            uf, kf = torch.fft.rfft(u_t, n=n, dim=-1), torch.fft.rfft(k, n=n, dim=-1)
        gf = torch.fft.rfft(grad_y, n=n, dim=-1)  # (B, Ho, C, F)
        grad_u = grad_k = None
        if ctx.needs_input_grad[0]:
            # one head (SpaceTime's decoder): its product is the sum; .sum(1) would zero-fill and add a copy
            spectrum = gf[:, 0] * kf[0].conj() if kf.shape[0] == 1 else (gf * kf.conj()).sum(1)
            grad_u = torch.fft.irfft(spectrum, n=n, dim=-1)[..., :time]
        if ctx.needs_input_grad[1]:
            grad_k = torch.fft.irfft((gf * uf.conj().unsqueeze(1)).sum(0), n=n, dim=-1)[..., :taps]
        return grad_u, grad_k, None


def fast_fft_len(n: int) -> int:
    """Smallest even ``m >= n`` whose only prime factors are 2, 3 and 5 (fast sizes for pocketfft/cuFFT).

    Even, because a real FFT of odd length is markedly slower on a CPU: of the 54 needs ``2T - 1``
    (T = 48..4096) where the smallest 2,3,5-smooth length is odd, ``rfft`` + ``irfft`` at that odd
    length took 1.23-3.30x as long as at the even one used instead (675 points against 720: 1.28x
    and 2.12x); all together 1.68x (``python benchmarks/fft_conv_paths.py``,
    ``benchmarks/results/fft_conv_paths.md``, one thread; an earlier run had 0.94x at one length). ``n <= 1`` gives 1.
    """
    m = max(int(n), 1)
    if m == 1:
        return 1
    # every even 2,3,5-smooth number is 3^b 5^c 2^k with k >= 1: the least k for each (b, c) below 2m. A
    # search upwards by 2 took minutes where such numbers thin out (n near 1e12, a meta-tensor kernel)
    best, five = 2 * m, 1
    while five < 2 * m:
        odd = five
        while odd < 2 * m:
            size = 2 * odd
            while size < m:
                size *= 2
            best = min(best, size)
            odd *= 3
        five *= 5
    return best


def has_small_factors(m: int) -> bool:
    """Whether ``m >= 1`` has no prime factor other than 2, 3 and 5."""
    for p in (2, 3, 5):
        while m % p == 0:
            m //= p
    return m == 1
