"""Writing ``weights.safetensors``: torch's writer, or NumPy's for the many small arrays of a panel.

safetensors' torch writer costs ~35 us a tensor (a NumPy view of each, and a check that no two
share memory), 0.6 s for a panel of 16,000 series' contexts; its NumPy writer takes the arrays as
they are. Both write the same file for the same names, dtypes, shapes and bytes. NumPy's is taken
only where it cannot differ: the network's tensors are dense, hold dtypes NumPy has, and share no
memory (torch's writer refuses tensors that do, and is left to refuse them).
"""

from __future__ import annotations

import numpy as np
import torch

_NUMPY_DTYPES = frozenset({torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
                           torch.int64, torch.uint8, torch.bool})


def as_tensors(tensors: dict) -> dict[str, torch.Tensor]:
    """``tensors`` for torch's writer: NumPy arrays as tensors of their own memory, tensors as tsrec wrote them."""
    return {k: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v.detach().cpu().contiguous()
            for k, v in tensors.items()}


def as_arrays(tensors: dict) -> dict[str, np.ndarray] | None:
    """``tensors`` (torch tensors and C-contiguous NumPy arrays) as NumPy arrays for NumPy's writer,
    or None where torch's writer must write them: no NumPy arrays among them (nothing to gain), or
    tensors it would write otherwise (see the module's notes).

    Parameters
    ----------
    tensors : dict of str to torch.Tensor or numpy.ndarray
        The tensors of ``weights.safetensors``, by name.

    Returns
    -------
    dict of str to numpy.ndarray or None
        The same names, each tensor's values as a NumPy array (a view of a tensor's memory).
    """
    if not any(isinstance(v, np.ndarray) for v in tensors.values()):
        return None
    torch_tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items() if isinstance(v, torch.Tensor)}
    if any(v.layout != torch.strided or v.dtype not in _NUMPY_DTYPES for v in torch_tensors.values()):
        return None
    storages = [v.untyped_storage().data_ptr() for v in torch_tensors.values() if v.untyped_storage().nbytes()]
    arrays = {k: v for k, v in tensors.items() if isinstance(v, np.ndarray)}
    if len(set(storages)) != len(storages) or len(arrays) + len(torch_tensors) != len(tensors) \
            or not all(a.flags.c_contiguous and a.dtype.isnative for a in arrays.values()):
        return None
    return {k: torch_tensors[k].numpy() if k in torch_tensors else v for k, v in tensors.items()}
