"""Guard for the hand-written backward passes (torch and Triton) that have first derivatives only."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch

FIRST_ORDER_ONLY = (
    "tsrec's hand-written kernel backward has first derivatives only (backward was called with "
    "create_graph=True, e.g. for a Hessian); use backend='naive' for higher-order gradients"
)


#: forward-mode AD through a written-out backward: PyTorch's message said to implement ``jvp``
NO_FORWARD_AD = ("tsrec's kernel ops with a written-out backward have no forward-mode AD (torch.func.jvp, jacfwd, "
                 "torch.autograd.forward_ad, gradcheck's check_forward_ad); use backend='naive' there (plain "
                 "autograd, slower), or reverse mode (torch.autograd.grad)")


class HandWrittenBackward(torch.autograd.Function):
    """An autograd Function with a written-out backward and no forward mode: ``jvp`` refuses with the way out."""

    @staticmethod
    def jvp(ctx, *tangents):  # noqa: D102 - autograd protocol
        raise RuntimeError(NO_FORWARD_AD)


def first_order_only(backward):
    """Wrap an autograd ``backward`` whose adjoint autograd cannot differentiate correctly.

    A Triton kernel is invisible to autograd, and the torch backwards recompute from states they
    saved as constants (or write into buffers in place), so with ``create_graph=True`` (e.g.
    ``torch.autograd.functional.hessian``) second derivatives would come back incomplete, zero or
    as an unrelated internal error; they are refused instead. The naive backends are plain
    autograd and have them.
    """

    @functools.wraps(backward)
    def checked(ctx, *grads):
        if torch.is_grad_enabled():  # autograd runs backward in grad mode exactly when create_graph=True
            raise RuntimeError(FIRST_ORDER_ONLY)
        with batched_grads_explained(grads):
            return backward(ctx, *grads)

    return checked


#: the fix where a backward failed on output gradients batched by autograd's own vmap
BATCHED_GRADS = ("tsrec's hand-written kernel backward cannot run on batched output gradients (torch.autograd.grad's "
                 "is_grads_batched=True, torch.autograd.functional.jacobian or hessian with vectorize=True, "
                 "gradcheck's check_batched_grad=True); pass vectorize=False there, or use backend='naive' (plain "
                 "autograd, slower)")


@contextlib.contextmanager
def batched_grads_explained(grads: tuple) -> Iterator[None]:
    """Re-raise a backward's failure on gradients batched by autograd's vmap (``is_grads_batched=True``, which
    ``vectorize=True`` uses) with the fix: the written-out backwards write into buffers (``out=``, in place),
    which that vmap cannot batch, and PyTorch named only the op ("Batching rule not implemented for
    aten::addcmul.out"). A backward that runs batched (some inputs' gradients do) is left to run."""
    try:
        yield
    except RuntimeError as err:
        functorch = getattr(torch._C, "_functorch", None)
        if functorch is None or not any(functorch.is_legacy_batchedtensor(g) for g in grads
                                        if isinstance(g, torch.Tensor)):
            raise
        raise RuntimeError(f"{BATCHED_GRADS} (PyTorch: {str(err).splitlines()[0][:200]})") from None


def empty_result(shape: tuple[int, ...], *inputs: torch.Tensor) -> torch.Tensor:
    """Zeros of ``shape`` (which holds no element, or whose inputs had none) that stay in the inputs'
    autograd graph: a backward gives each input a zero gradient instead of leaving it out."""
    return inputs[0].new_zeros(shape) + sum(t.sum() for t in inputs) * 0


def _functorch_levels(x: torch.Tensor) -> list[str]:
    """The torch.func wrappers around ``x``, outermost first: "vmap" for a batched tensor, "grad" for one
    that a grad, jacrev or vjp transform tracks; none for a plain tensor."""
    # torch.compile traces no torch.func wrappers here, and would break its graph on these calls
    functorch = None if torch.compiler.is_compiling() else getattr(torch._C, "_functorch", None)
    levels = []
    while functorch is not None and functorch.is_functorch_wrapped_tensor(x):
        levels.append("vmap" if functorch.is_batchedtensor(x) else "grad")
        x = functorch.get_unwrapped(x)
    return levels


def refuse_vmap(*tensors: torch.Tensor | None) -> None:
    """Refuse inputs of ``torch.func.vmap``: the ops read their inputs' finiteness on the host, which vmap
    cannot batch, and it failed with PyTorch's "data-dependent control flow" message."""
    if any("vmap" in _functorch_levels(x) for x in tensors if x is not None):
        raise RuntimeError("tsrec's kernel ops do not run under torch.func.vmap (they check their inputs for NaN "
                           "and inf, a value vmap cannot batch); every op takes a batch dimension: stack the "
                           "inputs and call it once")


def refuse_functorch(op: str, *tensors: torch.Tensor | None) -> None:
    """Refuse torch.func transforms for an op whose torch path has a hand-written backward (an autograd
    Function without ``setup_context``); PyTorch's own message named neither the op nor a way out."""
    if any(_functorch_levels(x) for x in tensors if x is not None):
        raise RuntimeError(f"{op}'s torch path (a hand-written backward) does not run under torch.func transforms "
                           f"(grad, jacrev, vjp, vmap); use backend='naive' there (plain autograd, slower), or "
                           "torch.autograd.grad; a network of tsrec.nn takes no backend argument: set the "
                           "environment variable TSREC_KERNEL_BACKEND=naive (read at each call) for the same")
