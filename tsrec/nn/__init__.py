"""Networks: torch modules on (batch, time, channels), built only from tsrec.kernels and torch."""

from tsrec.nn.arnet import ARNet
from tsrec.nn.cyclenet import CycleNet
from tsrec.nn.normalization import InstanceNorm

__all__ = ["ARNet", "CycleNet", "InstanceNorm"]
