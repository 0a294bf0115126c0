"""Ostiary as a test double for Okta: the pytest plugin (``ostiary.testing.pytest_plugin``) and
the pieces it is made of, usable without pytest too (``start_org``).

A client over HTTP only: nothing here imports the org server's code, so a test process stays
light and the server runs as it does for users (``ostiary serve --memory --testing``). Names are
imported on first use: pytest loads the plugin in every run of an environment that has ostiary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ostiary.testing.faults import Faults
    from ostiary.testing.org import OstiaryOrg, start_org

__all__ = ["Faults", "OstiaryOrg", "start_org"]


def __getattr__(name: str) -> Any:
    if name == "Faults":
        from ostiary.testing.faults import Faults

        return Faults
    if name in ("OstiaryOrg", "start_org"):
        from ostiary.testing import org

        return getattr(org, name)
    raise AttributeError(name)
