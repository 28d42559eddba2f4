"""Argument and input checks shared by the networks: each failure says what is wrong, what was given and
how to fix it.

Sizes take NumPy integers too (a parameter grid gives them) and are returned as ints; bools are no
counts. Every axis of an input needs size >= 1, the batch axis too: an empty batch or time axis is
refused here rather than failing inside torch or returning an empty forecast.

The input checks read shapes and dtypes only, never tensor values: a value read would make a GPU
wait on every forward. So NaN and inf are not refused here. The networks that run a kernel
(SpaceTime, S-Mamba, Chimera, LS4, the S4 layers' convolutions, the liquid networks' scans) get
NaN or inf refused by it (:mod:`tsrec.kernels`); the networks that use no kernel (ARNet, CycleNet,
PGN/TPGN and the classifier on PGN, InstanceNorm, and the one-step forms ``CfCCell(x_t, h)`` and
the S4 layers' ``step``) pass NaN and inf through to their output. The estimators refuse NaN and
inf in the data before any network sees it; whoever calls a network directly must clean its
input first.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# the package's argument checks (stdlib only, below every layer); check_dropout and check_flag are re-exported
from tsrec._checks import check_dropout, check_flag, check_float, check_int
from tsrec.errors import ParameterError

__all__ = ["check_choice", "check_device", "check_dropout", "check_dt_range", "check_dtype", "check_flag",
           "check_float", "check_input", "check_int", "check_ints", "check_marks", "check_position", "check_positive",
           "check_shape", "check_steps", "position_steps"]

_TIME_LABELS = ("lookback", "length", "time", "lag", "n_lags")
#: how to fix an empty axis, by label (any other: "it needs size >= 1")
_EMPTY = {**{label: "pass at least one step" for label in _TIME_LABELS},
          "batch": "pass at least one sample (skip the call when there is nothing to compute)",
          "tokens": "pass at least one token", **dict.fromkeys(("series", "variates"), "pass at least one series"),
          "channels": "pass at least one channel", "features": "pass at least one feature"}
_CASTS = {torch.float32: "float", torch.float64: "double", torch.float16: "half", torch.bfloat16: "bfloat16"}


def check_ints(minimum: int = 1, **values: object) -> list[int]:
    """:func:`check_int` of every keyword, in order: ``lookback, horizon = check_ints(lookback=..., horizon=...)``."""
    return [check_int(name, value, minimum) for name, value in values.items()]


def check_steps(steps: object, horizon: int) -> int:
    """A forecast length: ``horizon`` for None, else an integer >= 1 (0 is refused, not read as None)."""
    return horizon if steps is None else check_int("steps", steps, hint=f" (or None for horizon={horizon})")


def check_positive(name: str, value: object, hint: str = "") -> float:
    """A finite number > 0 as a float; ``hint`` (how to fix it) follows the message."""
    return check_float(name, value, 0.0, strict=True, hint=hint)


def check_dt_range(dt_min: object, dt_max: object) -> tuple[float, float]:
    """Initial step-size bounds: both > 0 and ``dt_min <= dt_max``."""
    dt_min, dt_max = check_positive("dt_min", dt_min), check_positive("dt_max", dt_max)
    if dt_min > dt_max:
        raise ParameterError(f"dt_min must be <= dt_max, got dt_min={dt_min!r} > dt_max={dt_max!r}; swap them")
    return dt_min, dt_max


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """One of ``choices``, spelled exactly."""
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_input(name: str, x: object, dims: Sequence, ref: torch.Tensor | None = None,
                device_of: torch.Tensor | None = None) -> torch.Tensor:
    """Refuse ``x`` unless it is a floating tensor of the shape ``dims`` describes, in ``ref``'s dtype and device.

    Each entry of ``dims`` names an axis: a label alone (any size >= 1, the batch axis too),
    ``(label, size)`` or ``(label, size, arg)``, a size fixed by the network's argument ``arg``, or
    ``(label, size, arg, builds)`` where ``builds(n)`` tells whether ``arg=n`` would build the network
    (a width that must be a multiple of another argument): the message suggests ``arg`` only then.
    ``ref`` is the parameter ``x`` meets first (None: any floating dtype); under autocast another
    floating dtype passes. ``device_of`` is the parameter whose device ``x`` needs where ``ref`` is None
    (a network that takes any floating dtype). The message is built only on a failure.

    Shapes, dtypes and devices only: values are never read, so NaN and inf pass (see the module docstring:
    the kernels refuse them, the networks without a kernel pass them through, and the estimators
    refuse them in the data before a network sees it).
    """
    check_dtype(name, check_shape(name, x, dims), ref)
    check_device(name, x, ref if device_of is None else device_of)
    return x


def check_device(name: str, x: torch.Tensor, ref: torch.Tensor | None) -> None:
    """Refuse ``x`` off ``ref``'s device: torch's own error names no argument, and a CPU op given a ``meta``
    tensor can even return a CPU tensor of garbage (``torch.bmm``)."""
    if ref is not None and x.device != ref.device:
        raise ValueError(f"{name} is on {x.device} but the network's parameters are on {ref.device}: move {name} "
                         f"with {name}.to('{ref.device}') or the network with .to('{x.device}')")


def check_shape(name: str, x: object, dims: Sequence) -> torch.Tensor:
    """Refuse ``x`` unless it is a tensor of the shape ``dims`` describes (as in :func:`check_input`), any dtype."""
    if not (isinstance(x, torch.Tensor) and x.ndim == len(dims)
            and all(_fits(dim, n) for dim, n in zip(dims, x.shape))):
        _raise_shape(name, x, [(d, None, None, None) if isinstance(d, str) else (*d, None, None)[:4] for d in dims])
    return x


def _fits(dim: str | tuple, n: int) -> bool:
    size = None if isinstance(dim, str) else dim[1]
    return n == size if size is not None else n >= 1


#: the last axes that a 2-D (batch, time) input of one series may be missing
_CHANNEL_LABELS = ("channels", "variates", "features", "series")
#: last axes of steps, along which one value per sample can be repeated
_STEP_LABELS = ("time", "length", "steps")


def _rank_fix(name: str, specs: list[tuple], got: tuple) -> str:
    """The axis a tensor of one dim too few lacks: the batch axis, or (a (batch, time) input of one series)
    the last, channel-like one; both where the sizes the network fixes do not tell. A trailing axis of
    size 1 too many (a (batch, 1) column for a (batch,) tensor) is dropped with squeeze."""
    if len(got) == len(specs) + 1 and got[-1] == 1 and all(_fits(spec[:2], n) for spec, n in zip(specs, got)):
        return f"drop its trailing axis of size 1 with {name}.squeeze(-1)"
    if len(got) != len(specs) - 1:
        return f"pass a {len(specs)}-dim tensor"
    batch = f"add the batch axis ({name}.unsqueeze(0) for one sample)"
    last = specs[-1][0]
    lacks_batch = all(_fits(spec[:2], n) for spec, n in zip(specs[1:], got))
    lacks_last = all(_fits(spec[:2], n) for spec, n in zip(specs[:-1], got))
    if last not in _CHANNEL_LABELS:
        # one value per sample where one per step is needed (elapsed): features (d_model) are not repeated
        if last in _STEP_LABELS and lacks_last and specs[-1][1] is not None:
            sizes = ", ".join(str(n) for n in (*got, specs[-1][1]))
            steps = f"add the {last} axis: {name}.unsqueeze(-1).expand({sizes}) repeats each value along it"
            return f"{batch}, or {steps}" if lacks_batch else steps  # as many samples as steps: either
        return batch
    labels = ", ".join(label for label, *_ in specs[:-1])
    channel = f"add the {last} axis ({name}.unsqueeze(-1)) if its axes are ({labels})"
    if lacks_batch != lacks_last:
        return batch if lacks_batch else channel
    return f"{batch}, or {channel}"


def _tuple_text(items: Sequence[str]) -> str:
    """``items`` written as Python writes a tuple: ``(2,)`` for one, not ``(2)``."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _raise_shape(name: str, x: object, specs: list[tuple]) -> None:
    labels = _tuple_text([label for label, *_ in specs])
    want = _tuple_text([label if size is None else str(size) for label, size, *_ in specs])
    as_built = " as built" if any(arg for _, _, arg, _ in specs) else ""
    described = want + (f" {labels}" if labels != want else "") + as_built
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {described}, got {type(x).__name__}: "
                        f"convert it with torch.as_tensor({name})")
    got = tuple(x.shape)
    if x.ndim != len(specs):
        raise ValueError(f"{name} must have shape {described}; got {got}, {x.ndim} dims: {_rank_fix(name, specs, got)}")
    fixes = []
    for (label, size, arg, builds), n in zip(specs, got):
        arg = arg if builds is None or builds(n) else None
        if not _fits((label, size), n):
            amount = (f"of {size} step{'s' if size != 1 else ''}" if label in _TIME_LABELS else
                      f"with {size} {label}" if label.endswith("s") else f"with {label} {size}")
            empty = _EMPTY.get(label, "it needs size >= 1")
            fixes.append(f"the {label} axis is empty: {empty}" if size is None else
                         f"pass {arg}={n} when building, or {name} {amount}" if arg and n > 0 else
                         f"pass {name} {amount}")
    raise ValueError(f"{name} must have shape {described}; got {got}: " + "; ".join(fixes))


def check_dtype(name: str, x: torch.Tensor, ref: torch.Tensor | None = None) -> None:
    """Refuse a non-floating ``x``, or one whose dtype is not ``ref``'s (outside autocast)."""
    if x.is_floating_point() and (ref is None or x.dtype == ref.dtype or x.dtype == _autocast_dtype(x)):
        return
    want = torch.float32 if ref is None else ref.dtype
    cast = f"cast {name} with {name}.{_CASTS.get(want, f'to({want})')}()"
    if not x.is_floating_point():
        what = "the network computes in floating point" if ref is None else f"the network's parameters are {want}"
        raise TypeError(f"{name} has dtype {x.dtype} but {what}: {cast}")
    raise TypeError(f"{name} has dtype {x.dtype} but the network's parameters are {want}: {cast} "
                    f"or the network with .{_CASTS.get(x.dtype, f'to({x.dtype})')}()")


def _autocast_dtype(x: torch.Tensor) -> torch.dtype | None:
    """The half precision autocast runs in on ``x``'s device (it mixes such activations with float32
    weights), None where it is off: any other dtype (float64 from NumPy) would fail deep in torch."""
    try:
        if not torch.is_autocast_enabled(x.device.type):
            return None
    except RuntimeError:  # a device type autocast does not know (e.g. meta)
        return None
    if hasattr(torch, "get_autocast_dtype"):  # torch >= 2.4 (2.4.0 has it; the range starts there)
        return torch.get_autocast_dtype(x.device.type)
    return torch.get_autocast_cpu_dtype() if x.device.type == "cpu" else torch.get_autocast_gpu_dtype()


def check_marks(x_mark: object, x: torch.Tensor, lookback: int, n_time_features: int) -> None:
    """Time features ``x_mark`` (batch, lookback, n_time_features) for an ``x`` already checked:
    required when the network was built with ``n_time_features > 0``, refused when with 0."""
    n = n_time_features
    if n == 0:
        if x_mark is not None:
            shape = getattr(x_mark, "shape", None)
            width = shape[-1] if shape is not None and len(shape) > 0 else "<its number of features>"
            raise ValueError("x_mark given but the network was built with n_time_features=0: build it with "
                             f"n_time_features={width} or drop x_mark")
        return
    if x_mark is None:
        raise ValueError(f"x_mark is required: the network was built with n_time_features={n}; pass x_mark of "
                         f"shape ({x.shape[0]}, {lookback}, {n}) or build with n_time_features=0")
    dims = (("batch", x.shape[0]), ("lookback", lookback, "lookback"), ("features", n, "n_time_features"))
    check_input("x_mark", x_mark, dims, x)


def check_position(position: object, batch: int | None, name: str = "position", n_steps: int | None = None
                   ) -> torch.Tensor:
    """An integer tensor: ``(batch,)``, the absolute step index of each window's first step, or
    ``(batch, >= n_steps)``, the index of each of its steps (with ``n_steps`` given).

    Step by step, a window's indices need not rise by one: wall-clock positions of time-zone-aware
    stamps skip or repeat one at a daylight-saving change. ``batch=None`` (no valid x to take it
    from) checks the leading axis against nothing.
    """
    if not isinstance(position, torch.Tensor):
        raise TypeError(f"{name} must be an integer tensor of shape (batch,), the absolute index of each window's "
                        f"first step, got {type(position).__name__}: pass torch.as_tensor(positions)")
    if position.is_floating_point() or position.is_complex() or position.dtype == torch.bool:
        raise TypeError(f"{name} must hold whole step indices, got dtype {position.dtype}: pass {name}.long()")
    per_step = n_steps is not None and position.ndim == 2 and position.shape[1] >= n_steps
    if (position.ndim != 1 and not per_step) or batch not in (None, position.shape[0]):
        rows = "batch" if batch is None else batch
        steps = "" if n_steps is None else f", or ({rows}, {n_steps}) indices of every step"
        raise ValueError(f"{name} must have shape ({rows},), one index per window of x{steps}; got "
                         f"{tuple(position.shape)}")
    return position


def position_steps(position: torch.Tensor, n_steps: int) -> torch.Tensor:
    """The absolute indices ``(batch, n_steps)`` of a window's first ``n_steps`` steps from a checked
    ``position``: its first step advanced by whole steps, or its own per-step indices."""
    if position.ndim == 2:
        return position[:, :n_steps].long()
    return position.long()[:, None] + torch.arange(n_steps, device=position.device)
