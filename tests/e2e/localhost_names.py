"""``*.localhost`` → loopback in this test process only (RFC 6761 §6.3).

Browsers and curl resolve every ``*.localhost`` name to loopback themselves; Python's resolver
asks the system, which may not. Tests that reach an org at ``{org}.localhost`` patch
``socket.getaddrinfo`` here instead of editing the machine's hosts file (docs/orgs.md has the
hosts-file line for other clients)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def _is_localhost_name(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else host
    return isinstance(name, str) and name.rstrip(".").lower().endswith(".localhost")


@contextmanager
def localhost_subdomains() -> Iterator[None]:
    """Resolve ``*.localhost`` to 127.0.0.1 while the context lasts."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if _is_localhost_name(host) else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = real  # type: ignore[assignment]


@pytest.fixture(scope="module")
def localhost_names() -> Iterator[None]:
    with localhost_subdomains():
        yield
