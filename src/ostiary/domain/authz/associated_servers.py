"""Trusted associations between authorization servers (``…/{authServerId}/associatedServers``).

A server trusts other custom or ``default`` servers of the org (Okta's "trusted servers", used
for token exchange between them). The trusted ids are kept in the server's ``settings`` under
``trustedServers``, so no table is needed; servers deleted since are left out of every answer.
``trusted=false`` lists the servers that could be trusted and are not (neither itself nor
already trusted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ostiary.domain.audit.log import record
from ostiary.domain.authz.server_admin import MANAGEABLE, invalid, manageable_server, target
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.store.models import AuthorizationServer
from ostiary.timeutil import utcnow

KEY = "trustedServers"


def not_found(server_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {server_id} (AssociatedServer)", code="E0000007")


def _trusted_ids(server: AuthorizationServer) -> list[str]:
    value = (server.settings or {}).get(KEY)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


async def _servers(tx: Tx) -> list[AuthorizationServer]:
    stmt = select(AuthorizationServer).where(
        AuthorizationServer.org_id == tx.org_id, AuthorizationServer.kind.in_(MANAGEABLE)
    )
    return list((await tx.session.scalars(stmt.order_by(AuthorizationServer.id))).all())


def _matches(server: AuthorizationServer, q: str | None) -> bool:
    if not q:
        return True
    needle = q.lower()
    return needle in server.name.lower() or any(needle in a.lower() for a in server.audiences)


async def list_associated(
    tx: Tx, server_id: str, *, trusted: bool, q: str | None
) -> tuple[AuthorizationServer, list[AuthorizationServer]]:
    server = await manageable_server(tx, server_id)
    ids = set(_trusted_ids(server))
    found = [
        other
        for other in await _servers(tx)
        if other.id != server.id and (other.id in ids) == trusted and _matches(other, q)
    ]
    return server, found


async def associate(tx: Tx, server_id: str, body: Mapping[str, Any]) -> list[AuthorizationServer]:
    """Trust the servers of ``body["trusted"]``; the answer is those servers."""
    server = await manageable_server(tx, server_id)
    wanted = body.get("trusted")
    if not isinstance(wanted, list) or not all(isinstance(v, str) for v in wanted):
        raise invalid("trusted", "must be a list of authorization server ids")
    by_id = {other.id: other for other in await _servers(tx)}
    for other_id in wanted:
        if other_id == server.id:
            raise invalid("trusted", "an authorization server cannot trust itself")
        if other_id not in by_id:
            raise invalid("trusted", f"{other_id} is not an authorization server of this org")
    ids = list(dict.fromkeys([*_trusted_ids(server), *wanted]))
    server.settings = {**(server.settings or {}), KEY: ids}
    server.last_updated = utcnow()
    await tx.session.flush()
    record(tx, "oauth2.as.associated.add", "Trust authorization servers", [target(server)])
    return [by_id[other_id] for other_id in dict.fromkeys(wanted)]


async def dissociate(tx: Tx, server_id: str, associated_id: str) -> None:
    server = await manageable_server(tx, server_id)
    ids = _trusted_ids(server)
    if associated_id not in ids:
        raise not_found(associated_id)
    server.settings = {**(server.settings or {}), KEY: [i for i in ids if i != associated_id]}
    server.last_updated = utcnow()
    await tx.session.flush()
    record(tx, "oauth2.as.associated.remove", "Remove a trusted authorization server", [target(server)])
