"""Under torch.autocast a network takes its parameters' dtype or autocast's half precision, nothing else.

Autocast excused every floating input: float64 (NumPy's) then failed deep in torch ("mat1 and mat2 must
have the same dtype"), where outside autocast it gets the message naming the cast.
"""

from __future__ import annotations

import pytest
import torch

from tsrec.nn import ARNet, SMamba
from tsrec.nn.tpgn import TPGN

NETWORKS = {
    "ARNet": lambda: ARNet(6, 2),
    "SMamba": lambda: SMamba(6, 2, 3, d_model=8, d_ff=8),
    "TPGN": lambda: TPGN(lookback=24, horizon=6, n_channels=3, period=6),
}


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_a_dtype_autocast_does_not_mix_is_refused_with_the_cast_to_make(name, dtype):
    net = NETWORKS[name]()
    x = torch.randn(2, 24 if name == "TPGN" else 6, 3, dtype=dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.raises(TypeError) as err:
        net(x)
    message = f"x has dtype {dtype} but the network's parameters are torch.float32: cast x with x.float()"
    assert message in str(err.value)


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_float32_and_the_autocast_dtype_run_under_autocast(name, dtype):
    net = NETWORKS[name]()
    x = torch.randn(2, 24 if name == "TPGN" else 6, 3, dtype=dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(x)
    assert out.shape[0] == 2 and torch.isfinite(out.float()).all()


def test_a_zero_dim_x_mark_for_a_network_without_time_features_is_named():
    # it raised IndexError from reading the last axis of a 0-dim tensor
    net = SMamba(6, 2, 3, d_model=8, d_ff=8)
    for mark in (torch.tensor(0.0), [[0.0]]):
        with pytest.raises(ValueError, match=r"x_mark given but the network was built with n_time_features=0: build "
                                             r"it with n_time_features=<its number of features> or drop x_mark"):
            net(torch.randn(2, 6, 3), mark)
