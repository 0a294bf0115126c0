"""Clients as the token, introspect and revoke endpoints see them: immutable snapshots of an
app with its active secrets and parsed public keys, cached in memory (the runtime's
``DomainCaches.clients``, reached through the session: ``domain.caches``).

The hot path (one lookup per token request) must not hit the database every time, and a
change must take effect at once in this process:

- every write to an app, its secrets or its keys calls :func:`invalidate_client`, which
  drops the entry now and again right after the writing transaction commits or rolls back
  (a concurrent request could otherwise re-cache the state it read before the commit);
- a snapshot loaded while an invalidation happened is not stored (a generation counter);
- the write is announced to the other processes sharing a PostgreSQL database
  (``store.cache_events``); entries also expire after ``TTL_SECONDS``, which bounds how long
  another process may serve a stale client where there is no such channel (SQLite).

Concurrent misses on one client wait for the first one's load (:meth:`ClientCache.load_once`)
instead of each reading the app. Why: when an entry expires, every token request in flight for
that client misses at once. ``bench/footprint.py`` (64 connections on ``serve --memory``) failed
with 503s (``the database did not answer in time``): 64 requests each read the app, its secrets
and keys (3 queries) in turn on the memory server's one connection, 4.4 s for a burst of 64
under a load average of 10, past the 5 s pool timeout under ``wrk``'s steady load. With it, one
load per expiry (1 connection checkout instead of 64 in that burst). Waiters take the loaded
client from the cache, so a load that an invalidation overtook (not stored) is not handed to
them: they load for themselves, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.caches import caches_of
from ostiary.jose.signing_keys import InvalidJwk, PublicKey, public_jwk_from_dict
from ostiary.store import cache_events
from ostiary.store.models import AppJwk
from ostiary.store.repositories.clients import app_with_credentials

log = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000
MAX_CLIENT_ID_LENGTH = 100


@dataclass(frozen=True)
class SecretRecord:
    """An active client secret: its SHA-256 digest, and the encrypted secret for
    ``client_secret_jwt`` apps (``None`` otherwise)."""

    id: str
    digest: str
    encrypted: str | None


@dataclass(frozen=True)
class ClientKey:
    """An active public key of a ``private_key_jwt`` client, pinned to one algorithm."""

    id: str
    kid: str | None
    alg: str
    key: PublicKey


@dataclass(frozen=True)
class Client:
    """An app as a client. Attribute names follow ``store.models.App``."""

    id: str
    org_id: str
    name: str
    label: str
    status: str
    application_type: str
    token_endpoint_auth_method: str
    pkce_required: bool
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    response_types: tuple[str, ...]
    grant_types: tuple[str, ...]
    settings: Mapping[str, Any]
    secrets: tuple[SecretRecord, ...]
    keys: tuple[ClientKey, ...]

    @property
    def client_id(self) -> str:
        return self.id

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


class ClientCache:
    """``client_id → Client`` (bounded, TTL'd), and the scopes granted to each client
    (``grants.granted_scopes_for``), which go with the client's entry."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: BoundedTTLCache[str, Client] = BoundedTTLCache(max_entries, ttl)
        self.grants: BoundedTTLCache[tuple[str, str, str], frozenset[str]] = BoundedTTLCache(MAX_ENTRIES, ttl)

    @property
    def ttl(self) -> float:
        return self.entries.ttl

    @property
    def generation(self) -> int:
        return self.entries.generation

    def get(self, org_id: str, client_id: str) -> Client | None:
        client = self.entries.get(client_id)
        return client if client is not None and client.org_id == org_id else None

    def put(self, client: Client, generation: int) -> None:
        """Store ``client`` unless an invalidation happened since ``generation`` was read."""
        self.entries.put(client.id, client, generation)

    @property
    def loads_in_flight(self) -> int:
        return self.entries.loads_in_flight

    async def load_once(
        self, org_id: str, client_id: str, load: Callable[[], Awaitable[Client | None]]
    ) -> Client | None:
        """The cached client, else ``load()``'s, stored unless an invalidation overtook it; one
        load at a time per ``client_id``: the others wait, then look in the cache again (and load
        for themselves when the first load found nothing or was not stored)."""
        async with self.entries.loading(client_id):
            client = self.get(org_id, client_id)
            if client is not None:
                return client
            generation = self.generation
            client = await load()
            if client is not None:
                self.put(client, generation)
            return client

    def invalidate(self, client_id: str | None = None) -> None:
        self.entries.invalidate(client_id)
        if client_id is None:
            self.grants.invalidate()
        else:
            self.grants.invalidate_where(lambda key: key[1] == client_id)


def invalidate_client(client_id: str, session: AsyncSession) -> None:
    """Forget ``client_id`` now and again when the writing ``session`` ends; tell the other
    processes when it commits."""
    cache_events.forget_after_commit(session, caches_of(session).clients, client_id)
    cache_events.announce(session, "client", client_id)


async def get_active_client(session: AsyncSession, org_id: str, client_id: str) -> Client | None:
    """The ACTIVE app ``client_id`` of ``org_id`` as a client, or ``None``."""
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        return None
    cache = caches_of(session).clients
    client = cache.get(org_id, client_id)
    if client is None:
        client = await cache.load_once(org_id, client_id, lambda: load_client(session, org_id, client_id))
        if client is None:
            return None
    return client if client.is_active else None


async def load_client(session: AsyncSession, org_id: str, client_id: str) -> Client | None:
    """Read the app and its active secrets and keys from the database (no cache)."""
    found = await app_with_credentials(session, org_id, client_id)
    if found is None:
        return None
    app, secrets, jwks = found.app, found.secrets, found.jwks
    return Client(
        id=app.id,
        org_id=app.org_id,
        name=app.name,
        label=app.label,
        status=app.status,
        application_type=app.application_type,
        token_endpoint_auth_method=app.token_endpoint_auth_method,
        pkce_required=app.pkce_required,
        redirect_uris=tuple(app.redirect_uris),
        post_logout_redirect_uris=tuple(app.post_logout_redirect_uris),
        response_types=tuple(app.response_types),
        grant_types=tuple(app.grant_types),
        settings=MappingProxyType(dict(app.settings)),
        secrets=tuple(SecretRecord(s.id, s.secret_hash, s.secret_encrypted) for s in secrets),
        keys=tuple(key for key in (_client_key(row) for row in jwks) if key is not None),
    )


def _client_key(row: AppJwk) -> ClientKey | None:
    try:
        pinned = public_jwk_from_dict(row.jwk)
    except InvalidJwk as exc:
        log.warning("client %s: stored key %s is not usable: %s", row.app_id, row.id, exc)
        return None
    return ClientKey(id=row.id, kid=row.kid, alg=pinned.alg, key=pinned.key)


class CachedClients:
    """:class:`~ostiary.domain.tokens.storage.ClientDirectory` over a session, through the
    runtime's client cache (:func:`get_active_client`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_client(self, org_id: str, client_id: str) -> Client | None:
        return await get_active_client(self.session, org_id, client_id)
