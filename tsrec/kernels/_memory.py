"""The memory this process may use: what checks before a large allocation compare it with.

tsrec's one copy of it, here because the kernels import nothing else of tsrec: the kernel builders, the
estimators and the data loaders all read it from this module (it imports no torch).
"""

from __future__ import annotations

import os

#: a cgroup's memory limit (v2, then v1): a container may hold far less than its host
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def physical_memory() -> int | None:
    """The memory this process may use, in bytes: the machine's, or its container's limit if
    lower; None where the system does not tell."""
    try:
        sizes = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    except (AttributeError, OSError, ValueError):  # not POSIX, or the name is unknown
        sizes = []
    for path in _CGROUP_LIMITS:
        try:
            with open(path) as limit:
                sizes.append(int(limit.read().strip()))  # "max" (no limit) is no number
        except (OSError, ValueError):
            continue
    return min(sizes) if sizes else None
