"""Shared sequence kernels (scans, convolutions, SSM kernels) with naive/torch/triton backends.

Every op validates its inputs, and every sequence op and kernel builder dispatches on
``backend="auto" | "torch" | "triton" | "naive"`` (environment override ``TSREC_KERNEL_BACKEND``);
the one-step updates (``linear_scan_step``, ``selective_scan_step``) and ``nplr_discrete`` are plain
torch and take no ``backend``. This package imports nothing else of tsrec,
and importing it never imports triton: Triton kernels load on first use.
"""

from .linear import linear_scan, linear_scan_step
from .recurrent import cfc_scan, ltc_scan, recurrent_scan, rnn_scan
from .selective import selective_scan, selective_scan_step

__all__ = [
    "cfc_scan",
    "linear_scan",
    "linear_scan_step",
    "ltc_scan",
    "recurrent_scan",
    "rnn_scan",
    "selective_scan",
    "selective_scan_step",
]

# --- convolution and SSM-kernel ops (fft_conv, companion_kernel, s4d_kernel, nplr_kernel,
# --- closed_loop_rollout, scan2d): add their imports and __all__ entries below this line.
# The functions fft_conv and scan2d replace their modules as attributes of this package, so a
# module's other names resolve by import (from tsrec.kernels.scan2d import SWEEP_MAX_VARIATES_PER_ROW),
# not by attribute path; docstrings cite them in the import form.
from .fft_conv import fft_conv  # noqa: E402
from .scan2d import scan2d  # noqa: E402
from .ssm_kernels import closed_loop_rollout, companion_kernel, nplr_discrete, nplr_kernel, s4d_kernel  # noqa: E402

__all__ += ["closed_loop_rollout", "companion_kernel", "fft_conv", "nplr_discrete", "nplr_kernel", "s4d_kernel",
            "scan2d"]
