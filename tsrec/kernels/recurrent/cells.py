"""The fused RNN cell family shared by every backend of :func:`tsrec.kernels.rnn_scan`.

The input projection is done by the caller (one big matmul over all time steps); only the
recurrent product ``h_{t-1} @ W`` stays inside the loop, as in FlashRNN.

``"tanh"``  (K = 1): ``h_t = tanh(x_t + h_{t-1} W)``
``"gated"`` (K = 2): ``[p, q] = x_t + h_{t-1} W``; ``s = sigmoid(p)``;
``h_t = (1 - s) * h_{t-1} + s * tanh(q)`` -- a CfC-like interpolation between the old state and
a candidate, with a learned gate.
"""

from __future__ import annotations

import torch

from .._launch import HOPPER_BLOCK_SHARED

CELLS = {"tanh": 1, "gated": 2}
# The shared memory (bytes) a launch of the fused Triton kernel asks per cell and padded H (the larger
# of forward and backward, float32 or float64; sm_80 and sm_90 ask the same; the larger of Triton 3.6's
# (the GPU machines') and 3.9's, whose float64 backward asks up to 18% less). A GPU runs
# the largest H whose figure fits its block (an H100/H200's 227 KiB: tanh 128, gated 64; an A100's
# 163 KiB: 64 and 64); an H200 refused the gated cell at 128. tests/kernels/test_triton_compile.py
# holds every launch the rule admits to its figure here and to the GPU's block.
TRITON_SHARED_BYTES = {
    "tanh": {16: 14336, 32: 32768, 64: 81920, 128: 229376},
    "gated": {16: 18432, 32: 53248, 64: 139264, 128: 376832},
}


def triton_hidden_limit(cell: str, block_shared: int = HOPPER_BLOCK_SHARED) -> int:
    """The largest H the fused Triton kernel runs ``cell`` with on a GPU whose block has ``block_shared``
    bytes of shared memory (0: none; :func:`tsrec.kernels._launch.block_shared_memory` reads it)."""
    return max((h for h, asked in TRITON_SHARED_BYTES[cell].items() if asked <= block_shared), default=0)


def cell_step(cell: str, x_t: torch.Tensor, h: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """One step of ``cell``: ``x_t`` ``(batch, K*H)``, ``h`` ``(batch, H)``, ``W`` ``(H, K*H)``."""
    pre = torch.addmm(x_t, h, W)
    if cell == "tanh":
        return torch.tanh(pre)
    p, q = pre.chunk(2, dim=-1)
    s = torch.sigmoid(p)
    return torch.lerp(h, torch.tanh(q), s)
