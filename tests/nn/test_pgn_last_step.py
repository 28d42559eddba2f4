"""PGN's encoder with ``pool="last"`` computes its last layer at the final step only, as every step's
output and then the last one: the same values and gradients at a fifth of a training step's time."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn.heads import pool_over_time
from tsrec.nn.pgn import PGNEncoder, PGNLayer


def every_step_then_last(enc: PGNEncoder, x: torch.Tensor) -> torch.Tensor:
    """The encoder as it was: each layer at every step, then the last step."""
    h = x
    for i, (layer, norm) in enumerate(zip(enc.layers, enc.norms)):
        out = enc.dropout(layer(h))
        h = norm(out if i == 0 else h + out)
    return pool_over_time(h, "last")


@pytest.mark.parametrize("time", [1, 2, 9, 40, 300])  # 300: past the dense HIE's lengths, the convolution
@pytest.mark.parametrize("groups", [1, 2])
def test_a_layers_last_step_is_its_forward_at_the_last_step(time: int, groups: int) -> None:
    torch.manual_seed(0)
    layer = PGNLayer(4, 6, max_len=300, groups=groups).double()
    x = torch.randn(3, time, 4, dtype=torch.float64)
    torch.testing.assert_close(layer.last_step(x), layer(x)[:, -1:], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_layers", [1, 3])
@pytest.mark.parametrize("time", [1, 17])
def test_the_encoder_gives_the_last_steps_values_and_gradients(n_layers: int, time: int) -> None:
    torch.manual_seed(1)
    enc = PGNEncoder(3, 8, max_len=20, n_layers=n_layers, pool="last").double().eval()
    x = torch.randn(4, time, 3, dtype=torch.float64)
    outputs, grads = [], []
    for run in (enc, lambda x: every_step_then_last(enc, x)):
        enc.zero_grad()
        out = run(x)
        out.square().sum().backward()
        outputs.append(out)
        grads.append([None if p.grad is None else p.grad.clone() for p in enc.parameters()])  # T = 1: no taps
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-12, atol=1e-12)
    for got, expected in zip(*grads):
        assert (got is None) == (expected is None)
        if got is not None:
            torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_a_last_step_is_checked_as_forward_is() -> None:
    layer = PGNLayer(2, 4, max_len=5)
    with pytest.raises(ValueError, match="outside 1..max_len=5"):
        layer.last_step(torch.randn(1, 6, 2))
