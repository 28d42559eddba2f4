"""The launch-guard case of ``triton_interpret_check.py``: every Triton launch runs inside
``on_device_of``. Import it after ``_interpret_cases`` (which sets ``TRITON_INTERPRET`` first).
"""

import contextlib
import importlib
from unittest import mock

from _interpret_cases import check_cfc, check_linear, check_ltc, check_rnn, check_scan2d, check_selective

import torch  # noqa: E402


#: every module that launches Triton kernels, and its kernels
LAUNCHERS = {"linear.triton_impl": ("_scan_kernel", "_chain_kernel"),
             **{m: ("_fwd_kernel", "_bwd_kernel") for m in ("selective.triton_impl", "scan2d.triton_impl",
                                                            "recurrent.triton_impl", "recurrent.ltc_triton",
                                                            "recurrent.cfc_triton")}}


class _GuardProbe:
    """Stands in for ``on_device_of`` (counting how deep a launch runs in it) and for each kernel
    (recording whether it was launched inside it), then launches the real kernel."""

    def __init__(self):
        self.depth, self.launches = 0, {}

    @contextlib.contextmanager
    def guard(self, tensor):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def kernel(self, name, real):
        probe = self

        class Launcher:
            def __getitem__(self, grid):
                def launch(*args, **kwargs):
                    probe.launches.setdefault(name, []).append(probe.depth > 0)
                    return real[grid](*args, **kwargs)
                return launch
        return Launcher()


def check_launches_guarded(gen) -> bool:
    """Triton launches on the current CUDA device, not the tensors': every launch of every kernel
    must run inside ``on_device_of`` (it once ran none, so inputs on cuda:1 met a kernel on cuda:0)."""
    probe = _GuardProbe()
    with contextlib.ExitStack() as stack:
        for path, kernels in LAUNCHERS.items():
            module = importlib.import_module(f"tsrec.kernels.{path}")
            stack.enter_context(mock.patch.object(module, "on_device_of", probe.guard, create=True))
            for k in kernels:
                stack.enter_context(mock.patch.object(module, k, probe.kernel(f"{path}.{k}", getattr(module, k))))
        f64 = torch.float64
        ran = [check_linear(f64, False, True, gen), check_selective(f64, 2, True, gen),
               check_rnn(f64, "gated", True, gen), check_ltc(f64, gen), check_cfc(f64, gen),
               check_scan2d(f64, True, False, True, True, gen=gen)]
        with mock.patch.object(importlib.import_module("tsrec.kernels.linear.triton_impl"), "CHAINED", True):
            ran.append(check_linear(torch.float32, False, True, torch.Generator().manual_seed(3), shape=(2, 70, 5)))
    ok = all(ran)
    for name in (f"{path}.{k}" for path, kernels in LAUNCHERS.items() for k in kernels):
        inside = probe.launches.get(name, [])
        good = bool(inside) and all(inside)
        print(f"{'ok  ' if good else 'FAIL'} {name}: {sum(inside)}/{len(inside)} launches inside on_device_of",
              flush=True)
        ok &= good
    return ok
