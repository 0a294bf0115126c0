"""Ostiary as a test double for Okta: the pytest plugin (``ostiary.testing.pytest_plugin``) and
the pieces it is made of, usable without pytest too.

A client over HTTP only: nothing here imports the org server's code, so a test process stays
light and the server runs as it does for users (``ostiary serve --memory --testing``).
"""

from ostiary.testing.faults import Faults
from ostiary.testing.org import OstiaryOrg, start_org

__all__ = ["Faults", "OstiaryOrg", "start_org"]
