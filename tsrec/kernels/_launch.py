"""What every Triton launch needs from the GPU it runs on (no triton import: the unit tests use it without one).

- The device guard: a Triton kernel launches on the *current* CUDA device, not on its arguments':
  with the inputs on ``cuda:1`` and ``cuda:0`` current it reads memory of another GPU (an illegal
  address, or garbage).
- The shared memory one block may use, which differs by GPU (an A100 gives 163 KiB, an H100/H200
  227 KiB): a launch that asks more is refused by the driver (``OutOfResources``), so the size
  limits of the fused kernels are read against the GPU the tensors are on.
- The launch grid: CUDA takes up to ``2**31 - 1`` programs on axis 0 but only 65535 on axes 1 and
  2, so kernels whose program count grows with the input run a flat 1-D grid.
"""

from __future__ import annotations

import contextlib
import math

import torch

#: the shared memory one block may opt in to (cudaDevAttrMaxSharedMemoryPerBlockOptin), in bytes:
#: an H100/H200 (sm_90) and an A100 (sm_80); the CUDA programming guide's 227 KiB and 163 KiB
HOPPER_BLOCK_SHARED, AMPERE_BLOCK_SHARED = 232448, 166912
#: the programs a CUDA grid takes on axis 0 (axes 1 and 2: 65535)
MAX_GRID_PROGRAMS = 2**31 - 1


def on_device_of(tensor: torch.Tensor) -> contextlib.AbstractContextManager:
    """``torch.cuda.device(tensor.device)`` for a CUDA tensor, else a no-op context: the interpreter's
    tensors are on the CPU, where ``torch.cuda.device`` would fail without a GPU."""
    if tensor.device.type == "cuda":
        return torch.cuda.device(tensor.device)
    return contextlib.nullcontext()


def block_shared_memory(tensor: torch.Tensor) -> int:
    """The shared memory in bytes one block may use on ``tensor``'s GPU.

    Off CUDA (the CPU interpreter, which has no such limit) an H100/H200's, the most of the GPUs
    the kernels are compiled for, so the interpreter runs every size a GPU may run.
    """
    if not tensor.is_cuda:
        return HOPPER_BLOCK_SHARED
    props = torch.cuda.get_device_properties(tensor.device)
    optin = getattr(props, "shared_memory_per_block_optin", None)
    # ROCm's properties have no opt-in figure: the plain one is all a block gets there
    return props.shared_memory_per_block if optin is None else optin


def shared_memory_text(tensor: torch.Tensor) -> str:
    """``"the 163 KiB of shared memory a block has on cuda:0"``: the limit and the device, for refusals."""
    return f"the {block_shared_memory(tensor) / 1024:g} KiB of shared memory a block has on {tensor.device}"


def flat_grid(*counts: int) -> tuple[int]:
    """A 1-D launch grid of ``counts[0] * counts[1] * ...`` programs.

    The kernel splits its program id again, ``counts[0]`` fastest (the order a 3-D grid runs in);
    on axes 1 and 2 a count above 65535 (the channel blocks of a wide layer) would fail to launch.
    """
    programs = math.prod(counts)
    if programs > MAX_GRID_PROGRAMS:
        raise ValueError(f"this call needs {programs} Triton programs ({' x '.join(map(str, counts))}), more than "
                         f"the {MAX_GRID_PROGRAMS} a CUDA grid launches; split the batch or use backend='torch'")
    return (programs,)


def cdiv(n: int, d: int) -> int:
    """``ceil(n / d)`` for launch sizes on the host: ``triton.cdiv`` costs ~3 us a call there (a
    ``ConstexprFunction``), several a launch, against a kernel of tens of microseconds."""
    return -(-n // d)


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= ``n`` (0 for 0, as Triton's), on the host, as :func:`cdiv` and for its reason."""
    return 1 << (n - 1).bit_length() if n > 0 else 0
