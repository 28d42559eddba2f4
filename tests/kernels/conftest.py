"""Kernel tests run on tiny shapes, where intra-op threads only add synchronisation overhead."""

from __future__ import annotations

import pytest
import torch

# scripts the tests run in subprocesses, not test modules: importing one parses its command line, and
# _interpret_cases.py then sets TRITON_INTERPRET=1 in the collecting process (here, relative to this
# file, so that a pytest started from another directory leaves them out too)
collect_ignore = [
    "triton_interpret_check.py", "_interpret_cases.py", "_guard_cases.py", "triton_compile_check.py", "_triton_aot.py",
]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread per test module (15x faster on a loaded 2-core box), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
