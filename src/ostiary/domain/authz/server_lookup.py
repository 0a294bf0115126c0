"""Authorization servers: the org AS and ``default`` exist in every org; issuers derive from the org URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeAlias

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.errors import NotFound
from ostiary.store.db import Database
from ostiary.store.models import AuthorizationServer
from ostiary.timeutil import utcnow

ORG_SERVER_ID = "$org"
DEFAULT_SERVER_ID = "default"
ORG, DEFAULT, CUSTOM = "ORG", "DEFAULT", "CUSTOM"


@dataclass(frozen=True, slots=True)
class ServerRecord:
    """An authorization server as the OAuth endpoints see it (a plain snapshot of the row,
    cached by :class:`ServerCache`)."""

    org_id: str
    id: str
    kind: str
    name: str
    status: str
    audiences: tuple[str, ...]
    signing_alg: str
    settings: Mapping[str, Any]


def server_record(row: AuthorizationServer) -> ServerRecord:
    return ServerRecord(
        org_id=row.org_id,
        id=row.id,
        kind=row.kind,
        name=row.name,
        status=row.status,
        audiences=tuple(row.audiences),
        signing_alg=row.signing_alg,
        settings=MappingProxyType(dict(row.settings or {})),
    )


AnyServer: TypeAlias = AuthorizationServer | ServerRecord
"""A server row (management) or its record (the OAuth endpoints)."""


def issuer(server: AnyServer, org_url: str) -> str:
    """``{org}`` for the org AS, ``{org}/oauth2/{id}`` for every other server."""
    return org_url if server.kind == ORG else f"{org_url}/oauth2/{server.id}"


def audiences(server: AnyServer, org_url: str) -> list[str]:
    """The org AS mints tokens for the org itself (Okta's APIs); others for their audiences."""
    return [org_url] if server.kind == ORG else list(server.audiences)


def not_found(server_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {server_id} (AuthorizationServer)", code="E0000007")


async def ensure_builtin(session: AsyncSession, org_id: str) -> None:
    """Create the org AS and the ``default`` server of an org when missing."""
    existing = set(
        (
            await session.scalars(
                select(AuthorizationServer.id).where(
                    AuthorizationServer.org_id == org_id,
                    AuthorizationServer.id.in_([ORG_SERVER_ID, DEFAULT_SERVER_ID]),
                )
            )
        ).all()
    )
    now = utcnow()
    if ORG_SERVER_ID not in existing:
        session.add(
            AuthorizationServer(
                org_id=org_id,
                id=ORG_SERVER_ID,
                kind=ORG,
                name="Org Authorization Server",
                description="Issues tokens for Okta-compatible management APIs",
                audiences=[],
                issuer_mode="ORG_URL",
                status="ACTIVE",
                signing_alg="RS256",
                rotation_mode="AUTO",
                settings={},
                created=now,
                last_updated=now,
            )
        )
    if DEFAULT_SERVER_ID not in existing:
        session.add(
            AuthorizationServer(
                org_id=org_id,
                id=DEFAULT_SERVER_ID,
                kind=DEFAULT,
                name="default",
                description="Default Authorization Server for your Applications",
                audiences=["api://default"],
                issuer_mode="ORG_URL",
                status="ACTIVE",
                signing_alg="RS256",
                rotation_mode="AUTO",
                settings={},
                created=now,
                last_updated=now,
            )
        )
    await session.flush()


async def any_server(session: AsyncSession, org_id: str, server_id: str) -> AuthorizationServer:
    """A server of the org of any kind, the org AS included (key rotation); compare
    ``server_admin.manageable_server``, which the management API uses."""
    server = await session.get(AuthorizationServer, (org_id, server_id))
    if server is None:
        raise not_found(server_id)
    return server


MAX_SERVER_ID_LENGTH = 32
"""The id column's length (``store.types.id_type``): a longer id from a URL names no server and
is neither looked up nor cached (cached misses would hold keys of up to ~80 KB each)."""


class ServerCache:
    """Authorization servers by (org, id) for the OAuth hot path; writes call ``invalidate``.

    Entries expire after ``ttl`` seconds so that changes made by other processes show up. The
    id comes from the request URL, so unknown ids are cached too (as ``None``) but the cache
    holds at most ``max_size`` entries, least recently used dropped first.
    """

    def __init__(self, db: Database, ttl: float = 10.0, max_size: int = 4096) -> None:
        self.db = db
        self._entries: BoundedTTLCache[tuple[str, str], ServerRecord | None] = BoundedTTLCache(max_size, ttl)

    @property
    def ttl(self) -> float:
        return self._entries.ttl

    @ttl.setter
    def ttl(self, value: float) -> None:
        self._entries.ttl = value

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, org_id: str, server_id: str) -> ServerRecord | None:
        """The server, or None; a read that an invalidation overtakes is not kept."""
        if len(server_id) > MAX_SERVER_ID_LENGTH:
            return None
        found, server = self._entries.lookup((org_id, server_id))
        if found:
            return server
        return await self._entries.get_or_load((org_id, server_id), lambda: self._load(org_id, server_id))

    async def _load(self, org_id: str, server_id: str) -> ServerRecord | None:
        async with self.db.session() as session:
            row = await session.get(AuthorizationServer, (org_id, server_id))
        return server_record(row) if row is not None else None

    def clear(self) -> None:
        self._entries.clear()

    def invalidate(self, org_id: str, server_id: str | None = None) -> None:
        if server_id is None:
            self._entries.discard_where(lambda key: key[0] == org_id)
        else:
            self._entries.pop((org_id, server_id))
