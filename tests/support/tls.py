"""A throwaway CA and a localhost certificate, so real clients can talk https to test servers."""

from __future__ import annotations

from pathlib import Path

from ostiary.testing.tls import write_tls_files

TEST_ORGS = ("orga", "orgb")
"""Orgs the tests serve over TLS at ``{org}.localhost`` (OpenSSL takes no ``*.localhost``
wildcard: it wants two labels after the star)."""


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """Write ``ca.pem``, ``cert.pem`` and ``key.pem``; return their paths (ca, cert, key)."""
    return write_tls_files(directory, tuple(f"{org}.localhost" for org in TEST_ORGS))
