"""Admin API clients ("Enable the Access Gateway API"): an RSA key pair per client, of which
only the public half is kept; the private key is handed out once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ostiary.access_gateway.admin.scopes import ALL_SCOPES, DEFAULT_CLIENT_SCOPES
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import tables
from ostiary.jose.signing_keys import generate_signing_key


class UnknownScope(ValueError):
    pass


async def create_api_client(runtime: GatewayRuntime, name: str, scopes: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON ``api-client create`` prints: ``client_id``, ``private_key_pem``, ``kid``,
    ``token_url``, ``audience``, ``scopes``."""
    granted = list(dict.fromkeys(scopes)) or list(DEFAULT_CLIENT_SCOPES)
    unknown = [scope for scope in granted if scope not in ALL_SCOPES]
    if unknown:
        raise UnknownScope(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(ALL_SCOPES))}")
    key = generate_signing_key("RS256")
    client_id = str(uuid.uuid4())
    async with runtime.engine.begin() as conn:
        await conn.execute(
            insert(tables.api_clients).values(
                id=client_id,
                name=name,
                kid=key.kid,
                public_jwk=key.public_jwk(),
                scopes=granted,
                created=int(runtime.clock()),
            )
        )
    origin = runtime.config.origin
    return {
        "client_id": client_id,
        "private_key_pem": key.private_pem().decode("ascii"),
        "kid": key.kid,
        "token_url": f"{origin}/api/v2/oauth/token",
        "audience": origin,
        "scopes": granted,
    }


async def find_client(engine: AsyncEngine, client_id: str) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(tables.api_clients).where(tables.api_clients.c.id == client_id))
        ).first()
    return dict(row._mapping) if row else None
