"""SSM convolution-kernel generators: SpaceTime's companion SSM and the S4D diagonal SSM."""

from .companion import closed_loop_rollout, companion_kernel
from .diagonal import s4d_kernel

__all__ = ["closed_loop_rollout", "companion_kernel", "s4d_kernel"]
