"""SSM convolution-kernel generators: SpaceTime's companion SSM, the S4D diagonal SSM and the S4 NPLR SSM."""

from .companion import closed_loop_rollout, companion_kernel
from .diagonal import s4d_kernel
from .nplr import nplr_discrete, nplr_kernel

__all__ = ["closed_loop_rollout", "companion_kernel", "nplr_discrete", "nplr_kernel", "s4d_kernel"]
