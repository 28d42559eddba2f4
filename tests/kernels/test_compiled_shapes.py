"""The SSM kernel builders under torch.compile: a second input shape recompiles with symbolic sizes."""

from __future__ import annotations

import pytest
import torch

from tsrec.kernels import closed_loop_rollout, companion_kernel, fft_conv, s4d_kernel

_G = torch.Generator().manual_seed(0)
A, B, C, K = (torch.randn(3, 4, generator=_G) * 0.2 for _ in range(4))
LOG_DT, A_REAL, A_IMAG, C_DIAG = torch.full((3,), -2.0), -0.5 * torch.ones(3, 2), torch.ones(3, 2), torch.ones(3, 2)

LAYERS = {  # each with the shapes of its inputs: the batch of a roll-out's states, the length of a convolution
    "closed_loop_rollout": (lambda s0: closed_loop_rollout(A, B, C, K, s0, 5), [(2, 3, 4), (3, 3, 4), (5, 3, 4)]),
    "s4d_kernel": (lambda u: fft_conv(u, s4d_kernel(LOG_DT, A_REAL, A_IMAG, C_DIAG, u.shape[1])),
                   [(2, 8, 3), (2, 9, 3), (2, 11, 3)]),
    "companion_kernel": (lambda u: fft_conv(u, companion_kernel(A, B, C, u.shape[1])), [(2, 8, 3), (2, 9, 3)]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_compiled_builder_takes_a_second_shape(name):
    # the memory check formatted its sizes on every call ("{L:,}"), which a symbolic size cannot take:
    # "InternalTorchDynamoError: ValueError: Cannot specify ',' with 's'" on the first smaller batch
    import torch._dynamo

    torch._dynamo.reset()
    layer, shapes = LAYERS[name]
    compiled = torch.compile(layer, backend="eager")
    for shape in shapes:
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape) + shape[0] + shape[1]))
        torch.testing.assert_close(compiled(x), layer(x))
