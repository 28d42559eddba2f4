"""A saved network rebuilt: its outline checked against the saved tensors, then built and loaded."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import torch
from torch.nn.modules.module import register_module_parameter_registration_hook

from tsrec.estimators._folder import WEIGHTS
from tsrec.estimators._seeding import seeded
from tsrec.estimators.errors import LoadError


def network_with_weights(build: Callable[[], torch.nn.Module], weights: dict, owner: str) -> torch.nn.Module:
    """The network ``build`` makes, holding the saved ``weights``, in eval mode.

    ``build`` runs first on PyTorch's meta device, which records shapes and allocates nothing, and
    the saved tensors are checked against that outline: a config.json naming sizes its weights do
    not have (damaged, or forged to name a network of many GB) is refused before anything of that
    size is allocated. The outline's modules are Python objects all the same (about 90 KB a layer):
    one that registers far more parameters than the file holds (a layer count forged to 2**20) is
    stopped while it is being built.
    """
    with seeded(0), torch.device("meta"), _parameters_at_most(2 * len(weights) + 64, owner, len(weights)):
        outline = build()
    _check_weight_kinds(outline, weights)
    _check_weight_shapes(outline, weights, owner)
    with seeded(0):  # its random initial weights are replaced: draw none of the caller's
        network = build()
    load_network_weights(network, weights, owner)
    return network


@contextlib.contextmanager
def _parameters_at_most(limit: int, owner: str, saved: int) -> Iterator[None]:
    """Stop a build in this thread once it has registered more than ``limit`` parameters."""
    thread, count = threading.get_ident(), 0

    def counted(module, name, param):
        nonlocal count
        if param is not None and threading.get_ident() == thread:  # other threads build their own models
            count += 1
            if count > limit:
                raise LoadError(_weights_do_not_fit(
                    owner, f"the saved parameters build more than {limit} parameter tensors, the file holds {saved}"))

    handle = register_module_parameter_registration_hook(counted)
    try:
        yield
    finally:
        handle.remove()


def _check_weight_shapes(outline: torch.nn.Module, weights: dict, owner: str) -> None:
    built = {name: tuple(tensor.shape) for name, tensor in outline.state_dict().items()}
    saved = {name: tuple(tensor.shape) for name, tensor in weights.items()}
    problems = [f"missing {name}" for name in built.keys() - saved.keys()]
    problems += [f"unexpected {name}" for name in saved.keys() - built.keys()]
    problems += [f"{name} is saved as {saved[name]} but built as {built[name]}"
                 for name in built.keys() & saved.keys() if saved[name] != built[name]]
    if problems:
        shown = "; ".join(sorted(problems)[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise LoadError(_weights_do_not_fit(owner, shown))


def _weights_do_not_fit(owner: str, detail: str) -> str:
    return (f"saved weights do not fit {owner} with the saved parameters: config.json was edited, or the folder was "
            f"saved by an earlier tsrec whose network was built differently (such as SpaceTime before its encoder "
            f"followed the official layout), which must be refitted and saved again: {detail}")


def load_network_weights(network, weights: dict, owner: str) -> None:
    """Load saved weights into a freshly built network, in their saved dtype, and set it to eval."""
    _check_weight_kinds(network, weights)
    dtypes = {v.dtype for v in weights.values() if v.is_floating_point()}
    if len(dtypes) == 1:  # precision="64-true" saved float64 weights; loading must not round them
        network.to(dtypes.pop())
    try:
        network.load_state_dict(weights)
    except RuntimeError as err:
        raise LoadError(_weights_do_not_fit(owner, str(err))) from None
    network.eval()


def _check_weight_kinds(network, weights: dict) -> None:
    """Refuse a saved tensor of another kind than the network's (load_state_dict would cast an
    integer tensor into a float parameter, or truncate floats into an integer buffer, silently)."""
    expected = network.state_dict()
    for name, saved in weights.items():
        own = expected.get(name)
        if own is not None and (saved.is_floating_point(), saved.is_complex()) != (own.is_floating_point(),
                                                                                   own.is_complex()):
            raise weights_error(f"the saved tensor network.{name} is {saved.dtype}, where the network holds "
                                f"{own.dtype}; the file was not written by tsrec")


def weights_error(message: str) -> LoadError:
    """A LoadError about the tensors themselves, which ``tsrec.load`` says are in weights.safetensors
    (its other errors name config.json, whose parameters build the network)."""
    error = LoadError(message)
    error.file = WEIGHTS
    return error
