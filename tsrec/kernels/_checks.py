"""Input checks shared by the kernel ops: each failure names the argument and the fix."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch

from ._autograd import refuse_vmap
from ._memory import physical_memory

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
COMPLEX_DTYPES = (torch.complex64, torch.complex128)
HALF_DTYPES = (torch.float16, torch.bfloat16)


def check_tensor(
    name: str,
    x: object,
    ndim: int | Sequence[int] | None = None,
    allow_complex: bool = False,
    layout: str | None = None,
) -> torch.Tensor:
    """Check that ``x`` is a dense floating tensor of the given rank and return it.

    Its values are not read: each op checks all its inputs for NaN/inf in one :func:`check_finite`
    (one host read instead of one per tensor). ``layout`` (e.g. ``"(batch, time, channels)"``)
    names the axes a wrong rank is told to have.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.layout != torch.strided:  # sparse tensors lack the ops the scans use, and fail deep inside torch
        raise TypeError(f"{name} must be a dense tensor, got layout {x.layout}; pass {name}.to_dense()")
    allowed = FLOAT_DTYPES + (COMPLEX_DTYPES if allow_complex else ())
    if x.dtype not in allowed:
        kinds = "floating or complex" if allow_complex else "floating"
        raise TypeError(f"{name} must be a {kinds} tensor, got dtype {x.dtype}; {_cast_hint(x, allow_complex)}")
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in ranks:
            wanted = " or ".join(map(str, ranks))
            raise ValueError(f"{name} must have {wanted} dims{_layout_fix(name, x, ranks, layout)}")
    return x


def _layout_fix(name: str, x: torch.Tensor, ranks: tuple[int, ...], layout: str | None) -> str:
    """The rank message's end: the axes wanted, the shape given, and the usual fix."""
    if layout is None:
        return f", got shape {tuple(x.shape)}"
    text = f" {layout}, got shape {tuple(x.shape)}"
    if layout.startswith("(batch,") and x.ndim + 1 in ranks:
        text += f"; for a single series add the batch axis: {name}.unsqueeze(0)"
        axes = layout.strip("()").split(", ")
        if axes[1] == "time" and " or " not in layout:  # (batch, time) of one channel, as accelerated-scan takes it
            text += f"; if its axes are ({', '.join(axes[:-1])}), add the last one: {name}.unsqueeze(-1)"
        return text
    return text + f"; reshape it to {layout}"


def _cast_hint(x: torch.Tensor, allow_complex: bool = False) -> str:
    """The fix for a dtype an op refuses; never a cast of complex to real, which drops the imaginary part."""
    if x.is_complex() and allow_complex:  # complex32: the op takes complex, not in half precision
        return "half-precision complex is not supported; cast it with .to(torch.complex64)"
    if x.is_complex():
        return ("complex input is not supported here (a real cast would drop the imaginary part); "
                "pass the real and imaginary parts (.real, .imag) as separate real inputs")
    return "cast it to the floating dtype of the other inputs, e.g. .float()"


def check_finite(**tensors: torch.Tensor | None) -> None:
    """Raise, naming the first offender, if a tensor (None skipped) holds NaN or inf.

    A finite sum proves every element finite (NaN/inf propagate) and costs ~20x less than an
    elementwise ``isfinite``; only a non-finite sum (or an overflow) needs the exact check. The
    sums' verdicts are read in one go per device: on a GPU every read of a value waits for the
    device, so an op checks all its inputs with one wait instead of one per tensor. Tensors on
    the ``meta`` device carry shapes and no values, so there is nothing to check (and shape
    inference on them must not fail).
    """
    refuse_vmap(*tensors.values())
    by_device: dict[torch.device, list] = {}
    for name, x in tensors.items():
        if x is not None and not x.is_meta:
            by_device.setdefault(x.device, []).append((name, x))
    for group in by_device.values():
        if not bool(finite_verdict(*(x for _, x in group))):
            raise_non_finite(dict(group))


def finite_verdict(*tensors: torch.Tensor) -> torch.Tensor:
    """A 0-dim bool tensor, True when every tensor's sum is finite; not read, so no wait."""
    return torch.stack([torch.isfinite(x.detach().sum()) for x in tensors]).all()


#: the message's end for NaN or inf in an op's input; the estimators recognise a kernel's refusal by it. A
#: tsrec.nn network passes the kernels its inner tensors, whose names its user does not know: hence the last part
NON_FINITE = ("contains NaN or inf; clean the input before calling the kernel (called by a tsrec.nn network, it is "
              "an inner tensor: check the network's input and its parameters, which a diverged training leaves NaN)")


def raise_non_finite(tensors: dict[str, torch.Tensor | None]) -> None:
    """The exact check after a non-finite verdict: raise naming the first tensor with NaN or inf."""
    for name, x in tensors.items():
        if x is not None and not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} {NON_FINITE}")


def check_finite_and_valid(tensors: dict[str, torch.Tensor | None], invalid: torch.Tensor, message: str) -> None:
    """Refuse NaN/inf in ``tensors`` and a True 0-dim ``invalid`` (raising ``message``) with one read.

    Skipped when ``invalid`` is a ``meta`` tensor (computed from meta inputs): there are no values.
    """
    refuse_vmap(*tensors.values())
    if invalid.is_meta:
        return
    if not bool(finite_verdict(*(t for t in tensors.values() if t is not None)) & ~invalid):
        raise_non_finite(tensors)
        if bool(invalid):  # else a sum only overflowed: the values are fine
            raise ValueError(message)


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a ``str`` or ``float`` for a count): a ``TypeError`` that is also
    the ``ValueError`` these checks raised before, as scikit-learn's ``InvalidParameterError`` is both."""


def check_length(L: object, meaning: str = "the kernel length", name: str = "L") -> int:
    """A positive integer length or count (NumPy integers too, e.g. from a parameter grid) as an int."""
    if isinstance(L, bool) or not isinstance(L, numbers.Integral):
        whole = not isinstance(L, bool) and isinstance(L, numbers.Real) and float(L).is_integer()
        hint = f"; pass int({L!r})" if whole else ""
        raise ArgumentTypeError(f"{name} must be a positive int ({meaning}), got {L!r} of type "
                                f"{type(L).__name__}{hint}")
    if L < 1:
        raise ValueError(f"{name} must be a positive int ({meaning}), got {L!r}")
    return int(L)


#: bytes below which no call is checked: far less than any machine or GPU torch trains on
ALWAYS_FITS = 2**28


def check_fits_in_memory(ref: torch.Tensor, n_values: int, dtype: torch.dtype, L: int, what: Callable[[], str]) -> None:
    """Refuse a length ``L`` whose call would hold ``n_values`` values of ``dtype`` at once (``what()`` names them),
    more than the memory of ``ref``'s device.

    ``what`` is called only to refuse: under ``torch.compile`` a size is symbolic after a shape change, and
    formatting it (``f"{L:,}"``) on every call failed inside Dynamo.

    ``companion_kernel(a, b, c, L=10**9)`` ran for minutes and grew to many GB before failing, or swapped the
    machine to a halt. The count is a lower bound of a call's peak (the builders count their largest tensors),
    and the check is arithmetic on sizes: it allocates and reads nothing.
    """
    need = n_values * dtype.itemsize
    if need <= ALWAYS_FITS:  # a network's every forward builds a kernel: no cgroup files read for those
        return
    memory, where = device_memory(ref.device)
    if memory is not None and need > memory:
        raise ValueError(f"L={L:,} needs at least {need / 2**30:.3g} GiB for {what()}, more than the "
                         f"{memory / 2**30:.3g} GiB of memory {where}; pass a shorter L (called by a tsrec.nn "
                         "network, L is the length of its input or of the horizon asked for)")


def device_memory(device: torch.device) -> tuple[int | None, str]:
    """(bytes, where) of the memory tensors on ``device`` may take: the process's for the CPU, the GPU's own
    for CUDA; None for meta tensors (shapes only, nothing allocated) and devices that do not tell."""
    if device.type == "cpu":
        return physical_memory(), "this process may use"
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory, f"{device} has"
    return None, ""


def check_same_shape(**tensors: torch.Tensor) -> None:
    """Check that all given tensors have one shape; the first one given is the reference."""
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    first, expected = next(iter(shapes.items()), (None, None))
    for name, shape in shapes.items():
        if shape != expected:
            raise ValueError(f"{name} has shape {shape} but {first} has {expected}; "
                             f"{_and(list(shapes))} must have the same shape")


def _and(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: the names as a message lists them."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_shape(name: str, x: torch.Tensor, expected: tuple[int, ...], hint: str = "") -> None:
    """Check that ``x`` has exactly the ``expected`` shape; ``hint`` names the shape's meaning."""
    if tuple(x.shape) != tuple(expected):
        meaning = f" {hint}" if hint else ""
        raise ValueError(f"{name} must have shape {tuple(expected)}{meaning}, got {tuple(x.shape)}")


def check_like(reference: str, ref: torch.Tensor, **tensors: torch.Tensor | None) -> None:
    """Check that the given tensors (None skipped) share ``ref``'s dtype and device."""
    _check_dtype_device(reference, ref, (ref.dtype,), tensors)


def check_mixed_precision_like(reference: str, ref: torch.Tensor, **tensors: torch.Tensor | None) -> None:
    """Like :func:`check_like`, but the tensors may mix ``ref``'s dtype and half precision with
    float32, the dtype the kernels accumulate half-precision input in anyway.

    Under mixed precision ``torch.autocast`` makes some activations half precision and leaves
    parameters in float32; on a GPU it also computes ops such as LayerNorm and softplus in float32,
    so the reference itself may be float32 beside half-precision inputs (Chimera's scan2d: x from
    a LayerNorm, B and C from a Linear).
    """
    accepted = (ref.dtype, compute_dtype(ref.dtype))
    if torch.float32 in accepted:
        accepted += HALF_DTYPES
    _check_dtype_device(reference, ref, accepted, tensors)
    _check_one_half_dtype(reference, ref, tensors)


def _check_one_half_dtype(reference: str, ref: torch.Tensor, tensors: dict) -> None:
    """float16 and bfloat16 in one call: no autocast mixes them, and the kernels would compute in
    float32 and return one of them, so the other's rounding would pass unnoticed."""
    named = [(reference, ref), *((name, x) for name, x in tensors.items() if x is not None)]
    halves = [(name, x.dtype) for name, x in named if x.dtype in HALF_DTYPES]
    other = next(((name, dtype) for name, dtype in halves if dtype != halves[0][1]), None)
    if other is not None:
        first = halves[0]
        raise TypeError(f"{other[0]} has dtype {other[1]} but {first[0]} has {first[1]}: one call takes one "
                        f"half-precision dtype; cast it with .to({first[0]}.dtype)")


def check_flag(name: str, value: object) -> bool:
    """True or False (NumPy's bool too) as a bool: a string such as "no" would read as True.

    Its own, not ``tsrec._checks``'s (which raises tsrec's FlagError): the kernels import nothing
    else of tsrec.
    """
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_device(reference: str, ref: torch.Tensor, **tensors: torch.Tensor | None) -> None:
    """Check that the given tensors (None skipped) are on ``ref``'s device, for ops that leave dtypes free."""
    for name, x in tensors.items():
        if x is not None and x.device != ref.device:
            raise ValueError(
                f"{name} is on {x.device} but {reference} is on {ref.device}; move it with .to({reference}.device)"
            )


def _check_dtype_device(reference: str, ref: torch.Tensor, dtypes: tuple, tensors: dict) -> None:
    for name, x in tensors.items():
        if x is not None and x.dtype not in dtypes:
            raise TypeError(f"{name} has dtype {x.dtype} but {reference} has {ref.dtype}; "
                            + _match_dtype_hint(name, x, reference, ref))
    check_device(reference, ref, **tensors)


def _match_dtype_hint(name: str, x: torch.Tensor, reference: str, ref: torch.Tensor) -> str:
    """How to give ``x`` ``ref``'s dtype: when only ``x`` is complex, cast ``ref`` up to it instead,
    since casting ``x`` to a real dtype would drop its imaginary part."""
    if x.is_complex() and not ref.is_complex():
        return f"cast {reference} to the complex dtype with {reference}.to({name}.dtype)"
    if ref.dtype in HALF_DTYPES and x.dtype == torch.float64:  # float32 beside half precision keeps more of it
        return f"cast it with .float() (float32 is taken beside {reference}'s half precision) or .to({reference}.dtype)"
    return f"cast it with .to({reference}.dtype)"


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype kernels accumulate in: float32 for half precision, the input's dtype otherwise."""
    return dtype if dtype in (torch.float64,) + COMPLEX_DTYPES else torch.float32
