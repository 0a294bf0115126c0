"""Gateway sessions: server-side, behind an opaque random cookie of which only the SHA-256
is kept (a copy of the store hands out no usable cookie).

:class:`SessionStore` is the seam (a SQL store can be added); :class:`MemorySessionStore`
keeps at most ``max_sessions`` (least recently used go first). The app's idle and maximum
timeouts are checked by :func:`is_live` on every use, so a change of the app's session
settings applies to the sessions already open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ostiary.access_gateway.proxy.config import SessionSettings
from ostiary.jose.b64 import b64url_decode, b64url_encode
from ostiary.randomness import token_urlsafe

COOKIE_BYTES = 32


@dataclass(frozen=True)
class GatewaySession:
    app_id: str
    user_id: str
    """``sub`` of the org's ID token: the user's id in the org."""
    login: str
    email: str | None
    groups: tuple[str, ...]
    claims: Mapping[str, Any]
    """The ID token's (and userinfo's) profile claims, for IDP attributes and rules."""
    id_token: str
    """Kept for the org's logout (``id_token_hint``); never logged nor forwarded."""
    created_at: float
    last_seen: float
    public_id: str = field(default_factory=lambda: token_urlsafe(12))
    """A non-secret id for logs and the ``sessionId`` AUTH_CONTEXT attribute."""


def is_live(session: GatewaySession, settings: SessionSettings, now: float) -> bool:
    if settings.max and settings.max_timeout > 0 and now - session.created_at >= settings.max_timeout:
        return False
    return not (settings.idle and now - session.last_seen >= settings.idle_timeout)


def digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


def new_cookie_value() -> str:
    return token_urlsafe(COOKIE_BYTES)


class SessionStore(Protocol):
    async def save(self, key: str, session: GatewaySession) -> None:
        """Store ``session`` under ``key`` (the SHA-256 hex of the cookie value)."""

    async def load(self, key: str) -> GatewaySession | None: ...

    async def touch(self, key: str, now: float) -> None:
        """Record activity (``last_seen``) for the idle timeout."""

    async def delete(self, key: str) -> None: ...


class MemorySessionStore:
    """Sessions in this process; bounded, and forgotten after ``max_age`` in any case."""

    def __init__(self, max_sessions: int = 100_000, max_age: float = 7 * 24 * 3600.0) -> None:
        self.max_sessions = max_sessions
        self.max_age = max_age
        self._sessions: OrderedDict[str, GatewaySession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    async def save(self, key: str, session: GatewaySession) -> None:
        self._sessions[key] = session
        self._sessions.move_to_end(key)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    async def load(self, key: str) -> GatewaySession | None:
        session = self._sessions.get(key)
        if session is None:
            return None
        if time.time() - session.created_at >= self.max_age:
            del self._sessions[key]
            return None
        self._sessions.move_to_end(key)
        return session

    async def touch(self, key: str, now: float) -> None:
        session = self._sessions.get(key)
        if session is not None:
            self._sessions[key] = replace(session, last_seen=now)

    async def delete(self, key: str) -> None:
        self._sessions.pop(key, None)


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in between the redirect to the org and the callback."""

    app_id: str
    verifier: str
    nonce: str
    return_to: str
    created_at: float


class SignInSeal:
    """Sign-ins under way, carried by the browser in the state cookie and sealed with
    HMAC-SHA256 under a key only this gateway knows: nothing is kept on the server, so no
    flood of sign-ins started elsewhere can push a real one out. A seal opens only with the
    ``state`` the org sends back, within ``ttl`` seconds; the code itself is single use at
    the org, so a replayed callback gets nothing."""

    def __init__(self, key: bytes | None = None, ttl: float = 600.0) -> None:
        self._key = key or os.urandom(32)
        self.ttl = ttl

    def _mac(self, payload: str) -> str:
        return b64url_encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def seal(self, state: str, pending: PendingSignIn) -> str:
        document = {
            "s": state,
            "a": pending.app_id,
            "v": pending.verifier,
            "n": pending.nonce,
            "r": pending.return_to,
            "t": int(pending.created_at),
        }
        payload = b64url_encode(json.dumps(document, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac(payload)}"

    def open(self, state: str, sealed: str | None, *, now: float | None = None) -> PendingSignIn | None:
        if not state or not sealed or sealed.count(".") != 1:
            return None
        payload, mac = sealed.split(".")
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(payload).encode("ascii")):
            return None
        try:
            document = json.loads(b64url_decode(payload))
            pending = PendingSignIn(
                str(document["a"]),
                str(document["v"]),
                str(document["n"]),
                str(document["r"]),
                float(document["t"]),
            )
            sealed_state = str(document["s"])
        except (ValueError, KeyError, TypeError):
            return None
        if not hmac.compare_digest(sealed_state.encode(), state.encode("utf-8", "replace")):
            return None
        current = time.time() if now is None else now
        if not 0 <= current - pending.created_at < self.ttl:
            return None
        return pending
