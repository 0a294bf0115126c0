"""How many CPUs this process may use: the one fact both the wiring (``ostiary serve``'s
signing processes) and the library (``jose.signer``'s threads) size themselves by."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """CPUs this process may run on (a container's cpuset, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
