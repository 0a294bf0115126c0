"""The proxy's state in the gateway's own store, so several gateway processes (and a
restarted one) agree: sessions, the assertion signing key and the sign-in seal key.

- :class:`SqlSessionStore`: one row per session, keyed by the SHA-256 of the cookie value
  (a copy of the table hands out no usable cookie); the session itself (profile claims, the
  ID token kept for single logout) is sealed under the master key, bound to its row.
  ``created_at`` and ``last_seen`` are columns: the app's max and idle timeouts are checked
  against them on every request; activity is written at most every
  :data:`TOUCH_EVERY` seconds.
- :func:`load_proxy_keys`: the ES256 assertion key (its ``kid`` and JWKS survive a
  restart) and the HMAC key of sign-ins under way, each made once, sealed in
  ``oag_settings``; concurrent first starts agree on one.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ostiary.access_gateway.proxy.sessions import GatewaySession
from ostiary.access_gateway.runtime import GatewayRuntime
from ostiary.access_gateway.store import tables
from ostiary.jose.signing_keys import SigningKey, generate_signing_key, load_signing_key

TOUCH_EVERY: Final = 5.0
"""Idle time is measured to within this many seconds (one write per session at most as often)."""
MAX_AGE: Final = 7 * 24 * 3600
"""A session row goes after this long whatever the app's settings say."""
_REMEMBERED: Final = 100_000
ASSERTION_KEY: Final = "assertion_key"
SEAL_KEY: Final = "signin_seal_key"


class SqlSessionStore:
    """:class:`~ostiary.access_gateway.proxy.sessions.SessionStore` in ``oag_sessions``."""

    def __init__(self, runtime: GatewayRuntime, *, max_age: int = MAX_AGE) -> None:
        self._runtime = runtime
        self.max_age = max_age
        self._last_seen: dict[str, float] = {}
        """``last_seen`` as last read, so a recent one costs no write (not even a lock)."""

    def _seal(self, key: str, session: GatewaySession) -> str:
        document = {
            "app_id": session.app_id,
            "user_id": session.user_id,
            "login": session.login,
            "email": session.email,
            "groups": list(session.groups),
            "claims": dict(session.claims),
            "id_token": session.id_token,
            "public_id": session.public_id,
        }
        return self._runtime.secrets.seal(json.dumps(document, separators=(",", ":")), "sessions", key)

    async def save(self, key: str, session: GatewaySession) -> None:
        now = time.time()
        async with self._runtime.engine.begin() as conn:
            await conn.execute(delete(tables.sessions).where(tables.sessions.c.expires_at < int(now)))
            await conn.execute(
                insert(tables.sessions).values(
                    digest=key,
                    app_id=session.app_id,
                    document_encrypted=self._seal(key, session),
                    created_at=session.created_at,
                    last_seen=session.last_seen,
                    expires_at=int(session.created_at) + self.max_age,
                )
            )

    async def load(self, key: str) -> GatewaySession | None:
        async with self._runtime.engine.connect() as conn:
            row = (await conn.execute(select(tables.sessions).where(tables.sessions.c.digest == key))).first()
        if row is None:
            return None
        if len(self._last_seen) >= _REMEMBERED:
            self._last_seen.clear()
        self._last_seen[key] = float(row.last_seen)
        if row.expires_at <= time.time():
            await self.delete(key)
            return None
        try:
            document = json.loads(self._runtime.secrets.open(row.document_encrypted, "sessions", key))
        except ValueError:  # sealed under another master key, or altered: no session
            return None
        return GatewaySession(
            app_id=str(document["app_id"]),
            user_id=str(document["user_id"]),
            login=str(document["login"]),
            email=document.get("email"),
            groups=tuple(document.get("groups") or ()),
            claims=document.get("claims") or {},
            id_token=str(document.get("id_token") or ""),
            created_at=float(row.created_at),
            last_seen=float(row.last_seen),
            public_id=str(document["public_id"]),
        )

    async def touch(self, key: str, now: float) -> None:
        if now - self._last_seen.get(key, 0.0) < TOUCH_EVERY:
            return
        self._last_seen[key] = now
        async with self._runtime.engine.begin() as conn:
            await conn.execute(
                update(tables.sessions)
                .where(tables.sessions.c.digest == key, tables.sessions.c.last_seen < now - TOUCH_EVERY)
                .values(last_seen=now)
            )

    async def delete(self, key: str) -> None:
        self._last_seen.pop(key, None)
        async with self._runtime.engine.begin() as conn:
            await conn.execute(delete(tables.sessions).where(tables.sessions.c.digest == key))


class StoredAssertionKeys:
    """:class:`~ostiary.access_gateway.proxy.assertion.AssertionKeys` with the one stored key."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key

    def signing_key(self) -> SigningKey:
        return self._key

    def verification_keys(self) -> Sequence[SigningKey]:
        return (self._key,)


@dataclass(frozen=True)
class ProxyKeys:
    assertion: StoredAssertionKeys
    seal: bytes


async def _stored_secret(runtime: GatewayRuntime, name: str, make: Callable[[], str]) -> str:
    """The sealed setting ``name``, made by ``make`` if absent (the first writer wins)."""
    query = select(tables.settings.c.value).where(tables.settings.c.name == name)
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        try:
            async with runtime.engine.begin() as conn:
                sealed = runtime.secrets.seal(make(), "settings", name)
                await conn.execute(insert(tables.settings).values(name=name, value=sealed))
        except IntegrityError:
            pass
        async with runtime.engine.connect() as conn:
            row = (await conn.execute(query)).first()
    assert row is not None
    return runtime.secrets.open(str(row.value), "settings", name)


def _new_assertion_key() -> str:
    key = generate_signing_key("ES256")
    return json.dumps({"kid": key.kid, "pem": key.private_pem().decode("ascii")})


def _new_seal_key() -> str:
    return base64.b64encode(os.urandom(32)).decode("ascii")


async def load_proxy_keys(runtime: GatewayRuntime) -> ProxyKeys:
    stored: dict[str, Any] = json.loads(await _stored_secret(runtime, ASSERTION_KEY, _new_assertion_key))
    key = load_signing_key(stored["pem"].encode("ascii"), "ES256", stored["kid"])
    seal = base64.b64decode(await _stored_secret(runtime, SEAL_KEY, _new_seal_key))
    return ProxyKeys(StoredAssertionKeys(key), seal)
