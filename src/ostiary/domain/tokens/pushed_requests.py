"""Pushed authorization requests (RFC 9126): a client's authorization parameters kept for one
``/authorize`` that names them by ``request_uri``.

The ``request_uri`` is ``urn:ietf:params:oauth:request_uri:`` + 32 random bytes (base64url),
stored only as its SHA-256 digest; it lives :data:`LIFETIME` seconds, is bound to the client
and server that pushed it, and is used once: :func:`take` deletes it whether or not it is still
valid, and only the request that deleted the row gets the parameters.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models.pushed_requests import PushedRequest
from ostiary.timeutil import utcnow

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
LIFETIME = 60


def _digest(request_uri: str) -> str:
    return hashlib.sha256(request_uri.encode()).hexdigest()


async def push(
    session: AsyncSession, *, org_id: str, server_id: str, client_id: str, params: dict[str, str]
) -> str:
    """Keep ``params``; the ``request_uri`` naming them."""
    request_uri = URN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    await session.execute(delete(PushedRequest).where(PushedRequest.expires_at < now))
    session.add(
        PushedRequest(
            uri_hash=_digest(request_uri),
            org_id=org_id,
            server_id=server_id,
            client_id=client_id,
            params=dict(params),
            expires_at=now + timedelta(seconds=LIFETIME),
        )
    )
    await session.flush()
    return request_uri


async def take(
    session: AsyncSession, *, org_id: str, server_id: str, client_id: str, request_uri: str
) -> dict[str, str] | None:
    """The parameters pushed as ``request_uri`` by this client to this server, once; None when
    unknown, expired, already used or another client's."""
    if not request_uri.startswith(URN_PREFIX):
        return None
    key = _digest(request_uri)
    row = (await session.scalars(select(PushedRequest).where(PushedRequest.uri_hash == key))).first()
    if row is None or row.org_id != org_id:
        return None
    result = await session.execute(delete(PushedRequest).where(PushedRequest.uri_hash == key))
    if getattr(result, "rowcount", 0) != 1:  # another request took it first
        return None
    if row.server_id != server_id or row.client_id != client_id or row.expires_at <= utcnow():
        return None
    return dict(row.params)
