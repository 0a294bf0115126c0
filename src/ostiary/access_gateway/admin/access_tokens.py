"""Access tokens of the admin API: opaque, stored as SHA-256 digests, 300 seconds, and the
single-use record of client assertions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary.access_gateway.store import tables

LIFETIME = 300


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Grant:
    client_id: str
    scopes: frozenset[str]


async def issue(engine: AsyncEngine, client_id: str, scopes: list[str], now: float) -> str:
    token = "oag." + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(delete(tables.access_tokens).where(tables.access_tokens.c.expires_at <= int(now)))
        await conn.execute(
            insert(tables.access_tokens).values(
                digest=digest(token), client_id=client_id, scopes=scopes, expires_at=int(now) + LIFETIME
            )
        )
    return token


async def lookup(engine: AsyncEngine, token: str, now: float) -> Grant | None:
    table = tables.access_tokens
    async with engine.connect() as conn:
        row = (await conn.execute(select(table).where(table.c.digest == digest(token)))).first()
    if row is None or row.expires_at <= now:
        return None
    return Grant(row.client_id, frozenset(row.scopes))


async def spend_assertion(engine: AsyncEngine, key: str, expires_at: float, now: float) -> bool:
    """Record an assertion as used until it expires; False when it was used before."""
    table = tables.used_assertions
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(table).where(table.c.expires_at < int(now)))
            await conn.execute(insert(table).values(digest=digest(key), expires_at=int(expires_at) + 1))
    except IntegrityError:
        return False
    return True
