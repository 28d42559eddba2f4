"""Backend choice for every kernel op.

Each public op calls :func:`resolve_backend` once, outside autograd, and then runs the
implementation of that backend. The choice is, in order: the ``backend`` argument when it is not
``"auto"``, the ``TSREC_KERNEL_BACKEND`` environment variable, then ``"triton"`` for CUDA tensors
when a Triton the kernels support imports (:data:`MIN_TRITON`; with an older one, a warning) and
``"torch"`` everywhere else. ``triton`` from the environment variable is a default for every op,
so a call that has no Triton kernel (an op without one, complex input, sizes too large to keep on
chip, CPU tensors outside the interpreter) runs ``"torch"`` instead; the ``backend="triton"`` argument
is a demand, and such a call refuses it, saying why. Triton is never imported here unless a
Triton backend is actually asked for or chosen.

When Triton is chosen, ``triton`` is imported here, once: a Triton that is installed but fails to
import (a broken install, a missing CUDA library) then costs an automatic choice (``"auto"``, or
``triton`` from the variable) a warning and the torch path, and a demand raises. Only the import of
``triton`` itself is guarded: an error in tsrec's own kernel modules or inside a kernel launch is a
bug and is never caught.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import sys
import warnings
from functools import lru_cache

import torch

BACKENDS = ("auto", "torch", "triton", "naive")
ENV_VAR = "TSREC_KERNEL_BACKEND"


#: the oldest Triton the kernels were compiled and tested with (pyproject's dev extra); torch pins its
#: Triton, and 2.10 is the first torch with 3.6 (2.4 brings 3.0, whose language refuses these kernels)
MIN_TRITON = (3, 6)


@lru_cache(maxsize=1)
def triton_version() -> tuple[int, ...] | None:
    """The installed ``triton``'s (major, minor), or None without one (read without importing it)."""
    if importlib.util.find_spec("triton") is None:
        return None
    try:
        release = importlib.metadata.version("triton")
    except importlib.metadata.PackageNotFoundError:  # importable but not installed as a package: a checkout
        return MIN_TRITON
    return tuple(int(part) for part in re.findall(r"\d+", release)[:2])


def triton_available() -> bool:
    """Whether a ``triton`` the kernels support (:data:`MIN_TRITON` or newer) can be imported."""
    version = triton_version()
    return version is not None and version >= MIN_TRITON


def _old_triton_text() -> str:
    found = ".".join(map(str, triton_version()))
    return (f"tsrec's Triton kernels need triton >= {'.'.join(map(str, MIN_TRITON))}, found {found} (torch pins "
            f"its triton: torch >= 2.10 brings 3.6)")


#: the values of TRITON_INTERPRET that turn Triton's interpreter on, in any case (Triton's getenv_bool;
#: "2" and " 1" do not)
_INTERPRET_ON = ("1", "true", "on", "yes", "y")


def triton_interpreting() -> bool:
    """Whether Triton kernels run in the CPU interpreter (``TRITON_INTERPRET=1``, or ``true``, ``on``, ``yes``, ``y``
    in any case: what Triton reads as on)."""
    return os.environ.get("TRITON_INTERPRET", "0").lower() in _INTERPRET_ON


def env_backend() -> str:
    """The backend :data:`ENV_VAR` asks for (read at each call, case-blind; unset or empty: ``"auto"``),
    refused with the value as set where it names none."""
    given = os.environ.get(ENV_VAR, "auto")
    backend = given.strip().lower() or "auto"
    if backend not in BACKENDS:
        raise ValueError(f"{ENV_VAR}={given!r} is not a kernel backend; set it to one of {BACKENDS} (any case) or "
                         "unset it")
    return backend


def resolve_backend(
    backend: str, *tensors: torch.Tensor, no_triton: str | None = None, triton_fits: bool = True
) -> str:
    """Return the concrete backend (``"torch"``, ``"triton"`` or ``"naive"``) for an op call.

    Parameters
    ----------
    backend : str
        The caller's choice, one of ``"auto"``, ``"torch"``, ``"triton"``, ``"naive"``.
    *tensors : torch.Tensor
        The op's tensor inputs; their device decides the automatic choice.
    no_triton : str or None
        Why this call has no Triton kernel (e.g. ``"complex inputs have no Triton kernel"``), None
        when it has one. ``"auto"`` then never picks Triton, ``"triton"`` from the environment
        variable takes ``"torch"`` (as ops whose GPU path is torch do), and an explicit
        ``"triton"`` raises with this reason.
    triton_fits : bool
        False when this call's sizes exceed what the op's Triton kernel keeps on chip; ``"auto"``
        and ``"triton"`` from the environment variable then take ``"torch"``, and an explicit
        ``"triton"`` is returned for the caller to refuse with its own size message.

    When Triton is chosen but ``import triton`` fails, ``"auto"`` and ``"triton"`` from the
    environment variable take ``"torch"`` with a ``RuntimeWarning`` saying why, and an explicit
    ``"triton"`` raises.
    """
    if backend not in BACKENDS:
        # the environment variable is read case-blind; the argument is not, as every other string option
        lowered = backend.lower() if isinstance(backend, str) else None
        lower = f" (lower case: {lowered!r})" if lowered in BACKENDS else ""
        raise ValueError(f"unknown kernel backend {backend!r}; use one of {BACKENDS}{lower}")
    from_env = backend == "auto"
    if from_env:
        backend = env_backend()
    if backend == "auto":
        on_cuda = any(t.is_cuda for t in tensors if isinstance(t, torch.Tensor))
        usable = on_cuda and no_triton is None and triton_fits and triton_available()
        if on_cuda and not usable and triton_version() is not None and not triton_available():
            # once per call site (Python's default filter): a GPU run on the slower torch path should say why
            warnings.warn(f"{_old_triton_text()}; running the torch path on the GPU instead", RuntimeWarning,
                          stacklevel=caller_level())
        return _imported_or_torch(demanded=False) if usable else "torch"
    if backend == "triton":
        # the variable sets a default for every op: where this call has no kernel (CPU tensors have
        # none outside the interpreter), torch serves, so a model moved to the CPU still runs
        if from_env and (no_triton is not None or not triton_fits or not _triton_can_take(tensors)):
            return "torch"
        _check_triton_usable(no_triton, tensors, from_env)
        return _imported_or_torch(demanded=not from_env)
    return backend


@lru_cache(maxsize=1)
def triton_import_error() -> Exception | None:
    """The error ``import triton`` raises (its traceback dropped), None when it imports.

    Tried once per process: a failed import leaves nothing in ``sys.modules``, so it would be
    retried, and warned about, on every call.
    """
    try:
        importlib.import_module("triton")
    # what a broken triton raises on import: a missing or mismatched library (ImportError, OSError
    # from a shared object) or its own checks of the CUDA set-up (RuntimeError)
    except (ImportError, OSError, RuntimeError) as error:
        return error.with_traceback(None)  # the frames would be kept alive for the whole process
    return None


def _imported_or_torch(demanded: bool) -> str:
    """``"triton"`` when ``triton`` imports; else ``"torch"`` with a warning for an automatic
    choice, and a ``ValueError`` for a demand."""
    error = triton_import_error()
    if error is None:
        return "triton"
    why = f"importing triton failed ({type(error).__name__}: {error})"
    if demanded:
        raise ValueError(f"backend='triton': {why}; repair the triton install (python -c 'import triton' shows the "
                         "error) or use backend='torch'") from error
    warnings.warn(f"{why}; running the torch path instead", RuntimeWarning, stacklevel=caller_level())
    return "torch"


def caller_level(inside: tuple[str, ...] = ("tsrec.kernels",)) -> int:
    """The ``stacklevel`` that names the first frame outside the modules ``inside`` (by name prefix) for a
    ``warnings.warn`` in the function calling this one: a warning should point at the line that called
    the op (through the op's wrappers, which a fixed count missed), where a warnings filter by module
    can match it."""
    frame, level = sys._getframe(1), 1  # the function that warns: stacklevel 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def _triton_can_take(tensors: tuple) -> bool:
    """Whether Triton kernels can run on ``tensors``: CUDA ones, or any under the interpreter."""
    return triton_interpreting() or all(t.is_cuda for t in tensors if isinstance(t, torch.Tensor))


def _check_triton_usable(no_triton: str | None, tensors: tuple, from_env: bool) -> None:
    if no_triton is not None:
        raise ValueError(f"{no_triton}; use backend='torch' or 'naive'")
    asked, instead = (f"{ENV_VAR}=triton", "unset it") if from_env else ("backend='triton'", "use backend='torch'")
    if triton_version() is None:
        raise ValueError(f"{asked} needs the triton package; install it (pip install triton) or {instead}")
    if not triton_available():
        raise ValueError(f"{asked}: {_old_triton_text()}; upgrade torch or {instead}")
    if not _triton_can_take(tensors):
        raise ValueError(
            f"{asked} needs CUDA tensors (or TRITON_INTERPRET=1 set before triton is "
            f"imported, for tests); move the inputs to a GPU or {instead}"
        )
