"""API tokens (``Authorization: SSWS <token>``): created by the CLI, stored as SHA-256 digests.

As Okta's, a token expires when it has not been used for ``TOKEN_WINDOW`` (30 days):
``expiresAt`` moves to 30 days after each use (written at most once per ``EXPIRY_STEP``, not on
every request). Its ``network`` condition can only be ``ANYWHERE``: Ostiary has no network
zones, so a ``ZONE`` condition is refused when set, and a token that carries any other
condition (stored before this rule) is refused when used, never ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.caches import caches_of
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.store.models import ApiToken
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

_ALPHABET = ids.ALPHABET + "-_"
TOKEN_WINDOW = timedelta(days=30)
TOKEN_WINDOW_ISO = "P30D"
EXPIRY_STEP = timedelta(hours=1)
ANYWHERE = "ANYWHERE"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return "00" + "".join(secrets.choice(_ALPHABET) for _ in range(40))


def not_found(token_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {token_id} (ApiToken)", code="E0000007")


def target(token: ApiToken) -> Target:
    return Target(token.id, "ApiToken", token.name, token.name)


async def create_token(
    tx: Tx, name: str, *, user_id: str | None = None, plaintext: str | None = None
) -> tuple[ApiToken, str]:
    """Return the stored token and its plaintext value, which is shown only this once.
    ``plaintext`` (``ostiary apply`` only) fixes the value, so a test knows its SSWS token."""
    if not name.strip():
        raise Invalid("Api validation failed: name", code="E0000001", causes=["name: cannot be blank"])
    plaintext = plaintext or _new_token()
    now = utcnow()
    token = ApiToken(
        id=ids.new_id(ids.API_TOKEN),
        org_id=tx.org_id,
        name=name.strip(),
        user_id=user_id,
        token_hash=digest(plaintext),
        token_hint=plaintext[-4:],
        client_name="Okta API",
        network={"connection": ANYWHERE},
        token_window=TOKEN_WINDOW_ISO,
        created=now,
        last_updated=now,
        expires_at=now + TOKEN_WINDOW,
    )
    tx.session.add(token)
    await tx.session.flush()
    record(tx, "system.api_token.create", "Create API token", [target(token)])
    return token, plaintext


@dataclass(frozen=True, slots=True)
class KnownToken:
    """What authenticating a request needs of a stored token (cached, so no ORM row)."""

    id: str
    name: str
    user_id: str | None
    expires_at: datetime | None


async def authenticate(session: AsyncSession, org_id: str, plaintext: str) -> KnownToken | None:
    """The active token of this org whose digest matches, or None.

    Remembered by org and digest (``DomainCaches.api_tokens``) for at most 5 s: the ``SELECT``
    was a fifth of a user create's CPU on PostgreSQL (py-spy); with it a create costs 1.77 →
    1.52 ms of CPU (``bench/directory_scale.py --compare-src``, 4 rounds). A revocation, a
    network change or an expiry extension of any token clears the cache in every process at
    once (``store.directory_events``); the 5 s limit what the hooks cannot see (``psql``). A
    remembered token whose expiry is due to move is read again, so the extension is written
    as before."""
    if not plaintext or len(plaintext) > 200:
        return None
    wanted = digest(plaintext)
    cache = caches_of(session).api_tokens
    now = utcnow()
    known = cache.get((org_id, wanted))
    if known is not None and not _extension_due(known.expires_at, now):
        return known
    generation = cache.generation
    stmt = select(ApiToken).where(ApiToken.token_hash == wanted, ApiToken.org_id == org_id)
    token = (await session.scalars(stmt)).first()
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not allows_every_network(token.network):
        return None
    known = KnownToken(token.id, token.name, token.user_id, token.expires_at)
    if _extension_due(token.expires_at, now):
        _extend(token, now)  # the flush announces it, which clears the cache anyway
    else:
        cache.put((org_id, wanted), known, generation)
    return known


def allows_every_network(network: object) -> bool:
    """Whether a stored ``network`` condition lets the token be used from any address."""
    return (
        isinstance(network, Mapping)
        and network.get("connection") == ANYWHERE
        and not network.get("include")
        and not network.get("exclude")
    )


def _extension_due(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a use at ``now`` moves ``expires_at`` (at most once per :data:`EXPIRY_STEP`;
    tokens made before expiry existed, with ``expires_at`` None, start their window at their
    next use)."""
    return expires_at is None or now + TOKEN_WINDOW - expires_at >= EXPIRY_STEP


def _extend(token: ApiToken, now: datetime) -> None:
    """Move ``expires_at`` to a full window from now."""
    token.expires_at = now + TOKEN_WINDOW
    token.token_window = TOKEN_WINDOW_ISO


async def get_token(tx: Tx, token_id: str) -> ApiToken:
    stmt = select(ApiToken).where(ApiToken.org_id == tx.org_id, ApiToken.id == token_id)
    token = (await tx.session.scalars(stmt)).first()
    if token is None:
        raise not_found(token_id)
    return token


async def list_tokens(tx: Tx, *, after: str | None, limit: int, q: str | None = None) -> Page[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.org_id == tx.org_id)
    if q:
        stmt = stmt.where(ApiToken.name.startswith(q, autoescape=True))
    return await fetch_page(tx.session, stmt, ApiToken.id, after=after, limit=limit)


async def update_token(tx: Tx, token_id: str, body: Mapping[str, Any]) -> ApiToken:
    """PUT /api-tokens/{id}: name and network may change; the secret never does."""
    token = await get_token(tx, token_id)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("Api validation failed: name", code="E0000001", causes=["name: cannot be blank"])
    network = _network(body["network"]) if "network" in body else token.network
    token.name = name.strip()
    token.network = network
    token.last_updated = utcnow()
    record(tx, "system.api_token.update", "Update API token", [target(token)])
    return token


def _network(value: object) -> dict[str, Any]:
    """The ``network`` of a PUT: ``ANYWHERE`` (or absent); zones do not exist here."""
    if value is None:
        return {"connection": ANYWHERE}
    if not isinstance(value, Mapping):
        raise _invalid_network("network: must be an object")
    connection = value.get("connection", ANYWHERE)
    if connection == "ZONE" or value.get("include") or value.get("exclude"):
        raise _invalid_network(
            "network.connection: ZONE is not supported: this server has no network zones; use ANYWHERE"
        )
    if connection != ANYWHERE:
        raise _invalid_network("network.connection: must be ANYWHERE")
    return {"connection": ANYWHERE}


def _invalid_network(cause: str) -> Invalid:
    return Invalid("Api validation failed: network", code="E0000001", causes=[cause])


async def revoke_token(tx: Tx, token_id: str) -> None:
    token = await get_token(tx, token_id)
    await tx.session.delete(token)
    record(tx, "system.api_token.revoke", "Revoke API token", [target(token)])
