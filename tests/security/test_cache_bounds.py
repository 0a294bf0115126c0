"""Caches are the runtime's, and every one is bounded (issue 15, item 4).

Before: four caches were module globals (``POLICY_SETS``, ``client_cache.CACHE``,
``trusted_origins.CACHE``, ``grants._GRANTED``), and several held plain dicts that grow with
every key ever seen: the policy set cache's generation and lock tables (every server id ever
invalidated or loaded), the key rings' five tables, ``Runtime.server_contexts``, the trusted
origins per org; memo dicts sat inside frozen snapshots (``ServerPolicySet.memo``, keyed by
client-chosen scope lists, and ``ServerContext._endpoints``)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest
from sqlalchemy import text

import ostiary
from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.authz.policy_sets import ServerPolicySet
from ostiary.http.oauth.server_context import ServerContext
from tests.conftest import Server

_SKIP = ("ostiary.store.migrations.",)  # alembic's env runs only under alembic


def _modules() -> list[Any]:
    names = [m.name for m in pkgutil.walk_packages(ostiary.__path__, "ostiary.")]
    return [importlib.import_module(n) for n in names if not n.startswith(_SKIP)]


def test_no_module_keeps_a_cache() -> None:
    """A module-level cache object, or a mutable container that starts empty (something is
    meant to fill it while serving), is a hidden global; caches belong to the runtime."""
    found = []
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, type) or name.startswith("__"):
                continue
            is_cache = isinstance(value, BoundedTTLCache) or type(value).__name__.endswith("Cache")
            empty_container = isinstance(value, dict | set | list) and not value
            if is_cache or empty_container:
                found.append(f"{module.__name__}.{name}")
    assert found == []


def _holders(server: Server) -> dict[str, Any]:
    rt = server.rt
    return {
        "servers": rt.servers,
        "rings": rt.rings,
        "caches": rt.caches,
        "clients": rt.caches.clients,
        "policy_sets": rt.caches.policy_sets,
    }


async def test_every_runtime_cache_is_bounded(server: Server) -> None:
    rt = server.rt
    assert isinstance(rt._org_cache, BoundedTTLCache)
    assert isinstance(rt.server_contexts, BoundedTTLCache)
    for holder_name, holder in _holders(server).items():
        attributes = vars(holder)
        unbounded = [n for n, v in attributes.items() if isinstance(v, dict | set | list)]
        assert unbounded == [], holder_name
        assert any(isinstance(v, BoundedTTLCache) for v in attributes.values()), holder_name


@pytest.mark.parametrize("snapshot", [ServerPolicySet, ServerContext])
def test_frozen_snapshots_hold_no_memo(snapshot: type) -> None:
    mutable = [f.name for f in dataclasses.fields(snapshot) if f.default_factory in (dict, set, list)]
    assert mutable == []


async def test_a_session_carries_its_runtimes_caches_without_being_opened(server: Server) -> None:
    """The token path reads caches through a lazy session: reaching them must not create it."""
    from ostiary.domain.caches import caches_of

    async with server.rt.db.lazy_session() as lazy:
        assert caches_of(lazy) is server.rt.caches
        assert lazy.created is None
    async with server.rt.db.session() as session:
        await session.execute(text("SELECT 1"))
        assert caches_of(session) is server.rt.caches
