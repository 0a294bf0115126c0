"""Signing keys per authorization server: lazy creation, rotation, the JWKS, and a key-ring cache.

Okta's cadence: a NEXT key is published before it signs anything, so verifiers that cache the
JWKS already know it when rotation makes it ACTIVE; the previous ACTIVE key becomes EXPIRED and
stays published for verification until tokens it signed have expired (``RETAIN``).
Keys are generated on first use, not at start-up (RSA generation costs tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz.server_lookup import any_server
from ostiary.domain.context import Tx
from ostiary.jose.key_encryption import KeyEncryptor, associated_data
from ostiary.jose.signing_keys import SigningAlg, SigningKey, generate_signing_key, load_signing_key
from ostiary.jose.verified_tokens import VerifiedTokens
from ostiary.jose.verify import KeySet
from ostiary.store import cache_events
from ostiary.store.db import Database
from ostiary.store.models import AuthorizationServer, SigningKeyRow
from ostiary.timeutil import utcnow

ACTIVE, NEXT, EXPIRED = "ACTIVE", "NEXT", "EXPIRED"
ROTATION_PERIOD = timedelta(days=90)
RETAIN = timedelta(days=2)
UNKNOWN_KID_REFRESH_INTERVAL = 10.0  # seconds between public-key reloads for unknown kids
MAX_RINGS = 4096
KEY_TTL = 3600.0
Key = tuple[str, str]


@dataclass(frozen=True)
class KeyRing:
    """What minting and verifying need of one server's keys, decrypted once."""

    active: SigningKey
    public: dict[str, dict[str, Any]]  # kid → public JWK of every published key
    jwks: dict[str, list[dict[str, Any]]]
    keyset: KeySet
    loaded_at: float


class KeyRings:
    """Process-wide cache of key rings with explicit invalidation and a short TTL.

    The TTL bounds how long another process's rotation stays unseen; within this process
    ``invalidate`` makes a rotation visible at once.

    Verification needs only public keys: :meth:`verification_keys` uses the cached ring when
    there is one and otherwise reads the published public JWKs (no private key is decrypted or
    validated). A token with an unknown ``kid`` may mean another process rotated; then
    :meth:`refresh_verification_keys` re-reads the public keys, at most once per
    ``refresh_interval`` per server, as the gateway's JWKS cache does, so forged kids cannot
    make every request pay for a reload.
    """

    def __init__(
        self,
        db: Database,
        encryptor: KeyEncryptor,
        ttl: float = 30.0,
        refresh_interval: float = UNKNOWN_KID_REFRESH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        max_size: int = MAX_RINGS,
    ) -> None:
        self.db = db
        self.encryptor = encryptor
        self.clock = clock
        self._rings: BoundedTTLCache[Key, KeyRing] = BoundedTTLCache(max_size, ttl, clock=self._now)
        self._public: BoundedTTLCache[Key, tuple[KeySet, float]] = BoundedTTLCache(
            max_size, ttl, clock=self._now
        )  # keyset, loaded at
        self._refreshed: BoundedTTLCache[Key, float] = BoundedTTLCache(
            max_size, refresh_interval, clock=self._now
        )  # last unknown-kid reload, kept for refresh_interval
        self._keys: BoundedTTLCache[Key, SigningKey] = BoundedTTLCache(max_size, KEY_TTL, clock=self._now)
        """(org, kid) → the decrypted key, so that a ring's reload after its TTL costs no
        decryption or key parsing."""
        self.verified = VerifiedTokens(clock=self._now)
        """Tokens whose signature a key of these rings verified (``jose.verified_tokens``): a hit
        needs the very key object the current key set holds, and any invalidation here clears it
        too, so a rotated-out or removed key never vouches for a token again."""
        self.generate: Callable[[SigningAlg], SigningKey] = generate_signing_key
        """Makes new keys (run on a thread); ``serve --memory`` puts a ``KeyPool``'s ``take`` here."""

    def _now(self) -> float:
        return self.clock()  # looked up at call time: tests replace ``clock``

    @property
    def ttl(self) -> float:
        return self._rings.ttl

    @ttl.setter
    def ttl(self, value: float) -> None:
        self._rings.ttl = value
        self._public.ttl = value

    @property
    def refresh_interval(self) -> float:
        return self._refreshed.ttl

    def invalidate(self, org_id: str, server_id: str) -> None:
        self._rings.invalidate((org_id, server_id))
        self._public.invalidate((org_id, server_id))
        self.verified.clear()

    def clear(self) -> None:
        self._rings.invalidate()
        self._public.invalidate()
        self._keys.invalidate()
        self.verified.clear()

    def cached(self, org_id: str, server_id: str) -> KeyRing | None:
        return self._rings.get((org_id, server_id))

    async def ring(self, org_id: str, server_id: str) -> KeyRing:
        """The server's keys; created or rotated (and committed) in a transaction of their own."""
        ring = self.cached(org_id, server_id)
        if ring is not None:
            return ring
        return await self._rings.get_or_load(
            (org_id, server_id),
            lambda: self.db.transaction(lambda session: self._load(session, org_id, server_id)),
        )

    async def verification_keys(
        self, org_id: str, server_id: str, session: AsyncSession | None = None
    ) -> KeySet:
        """The public keys to verify this server's tokens with; never loads a private key.

        A caller inside a transaction passes its ``session``, which then reads them: a session
        of their own would need a second connection (``serve --memory`` has one)."""
        public = self._public.get((org_id, server_id))
        ring = self.cached(org_id, server_id)
        if public is not None and (ring is None or ring.loaded_at <= public[1]):
            return public[0]
        if ring is not None:
            return ring.keyset
        return await self._load_public(org_id, server_id, session)

    async def refresh_verification_keys(
        self, org_id: str, server_id: str, session: AsyncSession | None = None
    ) -> KeySet:
        """The public keys after an unknown ``kid``: re-read unless read within the interval.

        Requests that arrive during a reload wait for it and get its result.
        """

        async def reload() -> float:
            await self._load_public(org_id, server_id, session)
            return self.clock()

        await self._refreshed.get_or_load((org_id, server_id), reload)
        return await self.verification_keys(org_id, server_id, session)

    async def _load_public(self, org_id: str, server_id: str, session: AsyncSession | None) -> KeySet:
        if session is not None:
            rows = await published_rows(session, org_id, server_id)
        else:
            async with self.db.session() as own:
                rows = await published_rows(own, org_id, server_id)
        keyset = KeySet.from_jwks({"keys": [r.public_jwk for r in rows]})
        self._public.set((org_id, server_id), (keyset, self.clock()))
        return keyset

    async def _load(self, session: AsyncSession, org_id: str, server_id: str) -> KeyRing:
        server = await any_server(session, org_id, server_id)
        rows = await published_rows(session, org_id, server_id)
        due = server.next_rotation is not None and server.next_rotation <= utcnow()
        if not any(r.status == ACTIVE for r in rows) or (due and server.rotation_mode == "AUTO"):
            await self._rotate_locked(session, server)
            rows = await published_rows(session, org_id, server_id)
        active = next(r for r in rows if r.status == ACTIVE)
        key = self._keys.get((org_id, active.kid))
        if key is None:  # a kid's key never changes: reloads reuse it (and signing processes keep it)
            pem = self.encryptor.decrypt(
                active.private_key, associated_data=associated_data(org_id, active.kid)
            )
            key = load_signing_key(pem, active.alg, active.kid, sealed=True)
            self._keys.set((org_id, active.kid), key)
        public = {r.kid: r.public_jwk for r in rows}
        jwks = {"keys": list(public.values())}
        return KeyRing(
            active=key, public=public, jwks=jwks, keyset=KeySet.from_jwks(jwks), loaded_at=self.clock()
        )

    async def rotate(self, org_id: str, server_id: str) -> None:
        async def rotate_now(session: AsyncSession) -> None:
            await self._rotate_locked(session, await any_server(session, org_id, server_id))

        await self.db.transaction(rotate_now)
        self.invalidate(org_id, server_id)

    async def rotate_in(self, session: AsyncSession, server: AuthorizationServer) -> None:
        """Rotate within the caller's transaction (what it records commits with the rotation);
        the cached ring is dropped once that transaction commits. :meth:`rotate` would need a
        second connection while the caller holds one, and ``serve --memory`` has only one."""
        await self._rotate_locked(session, server)
        org_id, server_id = server.org_id, server.id
        event.listen(
            session.sync_session, "after_commit", lambda _s: self.invalidate(org_id, server_id), once=True
        )

    async def _rotate_locked(self, session: AsyncSession, server: AuthorizationServer) -> None:
        """NEXT → ACTIVE, ACTIVE → EXPIRED (kept for verification), and a new NEXT."""
        await _lock_server(session, server)
        now = utcnow()
        rows = await published_rows(session, server.org_id, server.id)
        current = [r for r in rows if r.status == ACTIVE]
        upcoming = [r for r in rows if r.status == NEXT]
        for row in current:
            row.status, row.retire_after = EXPIRED, now + RETAIN
        if upcoming:
            promoted = upcoming[0]
        else:
            promoted = await self._new_row(server, ACTIVE, now)
            session.add(promoted)
        promoted.status, promoted.activated = ACTIVE, now
        session.add(await self._new_row(server, NEXT, now))
        server.last_rotated = now
        server.next_rotation = now + ROTATION_PERIOD
        await session.flush()
        cache_events.announce(session, "ring", server.org_id, server.id)

    async def _new_row(self, server: AuthorizationServer, status: str, now: datetime) -> SigningKeyRow:
        key = await asyncio.to_thread(self.generate, "ES256" if server.signing_alg == "ES256" else "RS256")
        sealed = self.encryptor.encrypt(
            key.private_pem(), associated_data=associated_data(server.org_id, key.kid)
        )
        return SigningKeyRow(
            kid=key.kid,
            org_id=server.org_id,
            server_id=server.id,
            alg=key.alg,
            status=status,
            private_key=sealed,
            public_jwk=key.public_jwk(),
            created=now,
            activated=None,
            retire_after=None,
        )


async def _lock_server(session: AsyncSession, server: AuthorizationServer) -> None:
    """Serialise rotations of one server across processes (PostgreSQL row lock)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(AuthorizationServer.id)
            .where(AuthorizationServer.org_id == server.org_id, AuthorizationServer.id == server.id)
            .with_for_update()
        )


async def published_rows(session: AsyncSession, org_id: str, server_id: str) -> list[SigningKeyRow]:
    """Keys on the JWKS: ACTIVE, NEXT, and EXPIRED ones still within their retention."""
    stmt = (
        select(SigningKeyRow)
        .where(SigningKeyRow.org_id == org_id, SigningKeyRow.server_id == server_id)
        .where(
            or_(
                SigningKeyRow.status.in_([ACTIVE, NEXT]),
                SigningKeyRow.retire_after > utcnow(),
            )
        )
        .order_by(SigningKeyRow.created)
    )
    return list((await session.scalars(stmt)).all())


async def rotate_with_audit(tx: Tx, rings: KeyRings, server_id: str) -> list[SigningKeyRow]:
    """Manual rotation (``/credentials/lifecycle/keyRotate``), in the caller's transaction."""
    await rings.rotate_in(tx.session, await any_server(tx.session, tx.org_id, server_id))
    record(
        tx,
        "app.oauth2.as.key.lifecycle.rotate",
        "Rotate authorization server key",
        [Target(server_id, "AuthorizationServer", server_id, server_id)],
    )
    return await published_rows(tx.session, tx.org_id, server_id)
