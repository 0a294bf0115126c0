"""Refresh tokens (RFC 6749 §1.5 and §6; rotation and reuse detection as in the OAuth 2.0
Security BCP, RFC 9700 §4.14): issue, look up, rotate, revoke.

A refresh token is 256 random bits, URL-safe base64, shown once and stored as its SHA-256
digest; it is found by digest lookup, never compared as plaintext. Every token descends from
one grant (a *family*: the first token's id, ``oar…``, is the family id and the id the
management API shows). Lifetimes come from the policy rule that granted it:

- ``expires_at``: the family's absolute expiry (``refreshTokenLifetimeMinutes``; none when 0
  or unlimited). Rotation never extends it.
- ``idle_expires_at``: each use moves it to *now + window* (``refreshTokenWindowMinutes`` of
  the rule matched when the token was issued, then at each refresh); a token not used within
  the window expires.

Rotation follows the app's ``settings.oauthClient.refresh_token`` (``rotation_type`` ROTATE or
STATIC, ``leeway`` seconds of grace); without it, browser apps rotate with 30 s of grace and
every other app keeps a static token, as Okta does.

- STATIC: the same token is answered again; its idle deadline moves.
- ROTATE: the used token is replaced by a new one (its successor) and stops working.
  *Grace*: within ``leeway`` seconds of the rotation the previous token may be presented
  **once** more (a client that lost the response, or two tabs racing); it answers the
  **same** successor, as long as the successor is still the family's current token. The
  successor's secret is kept for this XOR-sealed with a pad that only the previous token's
  holder can derive (HMAC-SHA256 keyed by the previous token), so the database never holds a
  usable token; the seal is erased once the retry is spent or the successor is used. A
  second retry, a retry after the successor moved on, or any use of a
  rotated token after the grace is *reuse*: the whole family is revoked (durably, even when
  the request that found it fails) and the request gets ``invalid_grant``.

Races are settled in the database: the store (``domain.tokens.storage.RefreshTokenStore``,
``store.repositories.refresh_tokens`` in SQL) locks a family before writing it and rotates,
keeps and spends the grace retry with conditional writes that only one request can win; the
rules below decide what to try, the store says whether it won.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.clients.client_cache import get_active_client
from ostiary.domain.tokens.access_tokens import MintedId
from ostiary.domain.tokens.storage import RefreshTokenStore
from ostiary.domain.tokens.token_user import TokenUser, token_user
from ostiary.domain.tokens.verification import user_may_use
from ostiary.jose.b64 import b64url_encode
from ostiary.store.db import is_session
from ostiary.store.models import User
from ostiary.store.models.refresh_tokens import FamilyAccessToken, RefreshToken
from ostiary.store.repositories.refresh_tokens import SqlRefreshTokens
from ostiary.timeutil import utcnow

PREFIX: Final = "oar"
SECRET_BYTES: Final = 32
MAX_TOKEN_LENGTH: Final = 200
ROTATE, STATIC = "ROTATE", "STATIC"
DEFAULT_LEEWAY: Final = 30
MAX_LEEWAY: Final = 60
BROWSER: Final = "browser"
DEFAULT_AMR: Final = ("pwd",)
RETENTION: Final = timedelta(days=1)
_SEAL_INFO: Final = b"ostiary refresh-token successor seal v1"


class TokenState(enum.Enum):
    ACTIVE = "ACTIVE"
    """The family's current token, usable."""
    GRACE = "GRACE"
    """Rotated moments ago: one retry answers the successor."""
    REUSED = "REUSED"
    """Rotated and presented again outside the grace: the family must be revoked."""
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


class RefreshTokenReused(Exception):
    """A rotated token came back outside its grace: ``family_id`` is compromised."""

    def __init__(self, family_id: str) -> None:
        super().__init__(family_id)
        self.family_id = family_id


class RefreshTokenUnusable(Exception):
    """The token stopped working while it was being exchanged (revoked or expired meanwhile)."""


@dataclass(frozen=True, slots=True)
class IssuedRefreshToken:
    secret: str
    """The token, shown once."""
    family_id: str


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    rotate: bool
    leeway: int
    """Seconds after a rotation during which the previous token may be retried once."""


# --- secrets ---------------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pad(previous: str) -> bytes:
    return hmac.new(previous.encode(), _SEAL_INFO, hashlib.sha256).digest()


def seal_successor(previous: str, successor_raw: bytes) -> str:
    """The successor's secret, encrypted under a one-time pad derived from ``previous``."""
    return bytes(a ^ b for a, b in zip(successor_raw, _pad(previous), strict=True)).hex()


def open_successor(previous: str, seal: str) -> str:
    return b64url_encode(bytes(a ^ b for a, b in zip(bytes.fromhex(seal), _pad(previous), strict=True)))


# --- rotation settings -------------------------------------------------------------------------


def rotation_policy(client: Any) -> RotationPolicy:
    """The app's ``settings.oauthClient.refresh_token``, or Okta's default for its type."""
    settings: Mapping[str, Any] = getattr(client, "settings", None) or {}
    oauth = settings.get("oauthClient")
    configured = oauth.get("refresh_token") if isinstance(oauth, Mapping) else None
    if isinstance(configured, Mapping) and configured.get("rotation_type") in (ROTATE, STATIC):
        leeway = configured.get("leeway", DEFAULT_LEEWAY)
        if isinstance(leeway, bool) or not isinstance(leeway, int):
            leeway = DEFAULT_LEEWAY
        return RotationPolicy(configured["rotation_type"] == ROTATE, max(0, min(leeway, MAX_LEEWAY)))
    browser = getattr(client, "application_type", None) == BROWSER
    return RotationPolicy(rotate=browser, leeway=DEFAULT_LEEWAY if browser else 0)


# --- issuing ---------------------------------------------------------------------------------


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def _after(start: datetime, span: timedelta | None) -> datetime | None:
    return start + span if span is not None else None


def _new_row(
    *,
    token_id: str,
    family_id: str,
    org_id: str,
    server_id: str,
    client_id: str,
    user_id: str,
    scopes: Sequence[str],
    amr: Sequence[str],
    auth_time: int,
    expires_at: datetime | None,
    window_minutes: int | None,
    secret: str,
    now: datetime,
) -> RefreshToken:
    return RefreshToken(
        id=token_id,
        org_id=org_id,
        server_id=server_id,
        client_id=client_id,
        user_id=user_id,
        family_id=family_id,
        token_hash=digest(secret),
        scopes=list(scopes),
        amr=list(amr),
        auth_time=auth_time,
        created=now,
        last_used=None,
        expires_at=expires_at,
        window_minutes=window_minutes or None,
        idle_expires_at=_after(now, _minutes(window_minutes)),
    )


def new_family_id() -> str:
    """The id of a family not issued yet (its first token's id): an authorization code knows
    it from ``/authorize`` on, so that redeeming the code writes nothing more to say which
    family it became (``domain.tokens.authorization_codes``)."""
    return ids.new_id(PREFIX)


async def issue_refresh_token(
    store: RefreshTokenStore,
    *,
    org_id: str,
    server_id: str,
    client_id: str,
    user_id: str,
    scopes: Sequence[str],
    auth_time: int,
    lifetime_minutes: int | None,
    window_minutes: int | None,
    amr: Sequence[str] = DEFAULT_AMR,
    now: datetime | None = None,
    family_id: str | None = None,
    access_token: MintedId | None = None,
) -> IssuedRefreshToken:
    """A new refresh token (a new family) for the grant; the plaintext is returned once.

    ``lifetime_minutes`` 0 or None: no absolute expiry; ``window_minutes`` 0 or None: no idle
    expiry. ``amr`` is kept for the ID tokens minted on refresh. ``family_id``: one from
    :func:`new_family_id` (else a new one). ``access_token``: the access token minted with it,
    noted with the family in the same write (see :func:`remember_access_token`). The user's
    families that died more than :data:`RETENTION` ago are purged on the way.
    """
    issued = now or utcnow()
    secret = b64url_encode(secrets.token_bytes(SECRET_BYTES))
    token_id = family_id or new_family_id()
    first = _new_row(
        token_id=token_id,
        family_id=token_id,
        org_id=org_id,
        server_id=server_id,
        client_id=client_id,
        user_id=user_id,
        scopes=scopes,
        amr=amr,
        auth_time=auth_time,
        expires_at=_after(issued, _minutes(lifetime_minutes)),
        window_minutes=window_minutes,
        secret=secret,
        now=issued,
    )
    note = (
        FamilyAccessToken(
            jti=access_token.jti, org_id=org_id, family_id=token_id, expires_at=access_token.expires_at
        )
        if access_token is not None
        else None
    )
    await store.add_family(first, issued - RETENTION, note)
    return IssuedRefreshToken(secret, family_id=token_id)


async def remember_access_token(
    store: RefreshTokenStore, org_id: str, family_id: str, access_token: MintedId
) -> None:
    """Note an access token just minted with a token of ``family_id`` (see
    :meth:`~ostiary.domain.tokens.access_tokens.MintedId.named`), so that revoking the family
    revokes it too."""
    await store.remember_access_token(org_id, family_id, access_token.jti, access_token.expires_at)


# --- looking up ------------------------------------------------------------------------------


async def find_refresh_token(
    store: RefreshTokenStore | AsyncSession, org_id: str, token: object
) -> RefreshToken | None:
    """The row of ``token`` in ``org_id`` (whatever its state), or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return await _store(store).find(org_id, digest(token))


def _store(source: RefreshTokenStore | AsyncSession) -> RefreshTokenStore:
    """The SQL store of a session (introspection, revocation, the management API), or ``source``."""
    if is_session(source):
        return SqlRefreshTokens(cast(AsyncSession, source))
    return cast(RefreshTokenStore, source)


def state_of(row: RefreshToken, now: datetime, leeway: int) -> TokenState:
    if row.revoked_at is not None:
        return TokenState.REVOKED
    if row.expires_at is not None and row.expires_at <= now:
        return TokenState.EXPIRED
    if row.rotated_at is not None:
        in_grace = leeway > 0 and now < row.rotated_at + timedelta(seconds=leeway)
        return TokenState.GRACE if in_grace and row.grace_used_at is None else TokenState.REUSED
    if row.idle_expires_at is not None and row.idle_expires_at <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def is_active(row: RefreshToken, now: datetime | None = None) -> bool:
    """Whether the token works as itself (introspection): current, unexpired, unrevoked."""
    return state_of(row, now or utcnow(), 0) is TokenState.ACTIVE


def user_may_refresh(user: TokenUser | None, row: RefreshToken) -> bool:
    """The token's user may still use it: :func:`verification.user_may_use` at its minting."""
    return user_may_use(user, row.org_id, row.created)


async def active_token(
    session: AsyncSession, org_id: str, server_id: str, token: object
) -> tuple[RefreshToken, TokenUser] | None:
    """The token and its user when the token works as itself at ``server_id`` (introspection):
    its user may still use it and its client is active."""
    row = await find_refresh_token(session, org_id, token)
    if row is None or row.server_id != server_id or not is_active(row):
        return None
    found = await session.get(User, row.user_id)
    user = token_user(found) if found is not None else None
    if user is None or not user_may_refresh(user, row):
        return None
    if await get_active_client(session, org_id, row.client_id) is None:
        return None
    return row, user


def expiry_of(row: RefreshToken) -> datetime | None:
    """When the token stops working if nothing happens: the sooner of its two deadlines."""
    deadlines = [d for d in (row.expires_at, row.idle_expires_at) if d is not None]
    return min(deadlines) if deadlines else None


# --- exchanging ------------------------------------------------------------------------------


async def exchange(
    store: RefreshTokenStore,
    row: RefreshToken,
    presented: str,
    *,
    policy: RotationPolicy,
    window_minutes: int | None,
    now: datetime | None = None,
) -> str:
    """Spend ``presented`` (the token of ``row``) and answer the refresh token to hand back.

    ACTIVE: rotated to a new token (ROTATE) or kept with a new idle deadline (STATIC).
    GRACE: the successor minted by the rotation. Raises :class:`RefreshTokenReused` for
    reuse (the caller revokes the family) and :class:`RefreshTokenUnusable` otherwise.
    """
    at = now or utcnow()
    if not policy.rotate and state_of(row, at, policy.leeway) is TokenState.ACTIVE:
        # A static token: its conditional write alone decides, without the family's lock
        # (the store's ``keep`` says why); lost, the locked path below names the reason.
        idle_expires_at = _after(at, _minutes(window_minutes))
        if await store.keep(row, at, window_minutes, idle_expires_at):
            return presented
    fresh = await store.locked(row)
    if fresh is None:
        raise RefreshTokenUnusable("gone")
    row = fresh
    state = state_of(row, at, policy.leeway)
    if state is TokenState.ACTIVE:
        if policy.rotate:
            return await _rotate(store, row, presented, window_minutes, at, policy)
        return await _keep(store, row, presented, window_minutes, at)
    if state is TokenState.GRACE:
        return await _retry_in_grace(store, row, presented, at)
    if state is TokenState.REUSED:
        raise RefreshTokenReused(row.family_id)
    raise RefreshTokenUnusable(state.value)


async def _rotate(
    store: RefreshTokenStore,
    row: RefreshToken,
    presented: str,
    window_minutes: int | None,
    now: datetime,
    policy: RotationPolicy,
) -> str:
    raw = secrets.token_bytes(SECRET_BYTES)
    secret = b64url_encode(raw)
    successor = _new_row(
        token_id=ids.new_id(PREFIX),
        family_id=row.family_id,
        org_id=row.org_id,
        server_id=row.server_id,
        client_id=row.client_id,
        user_id=row.user_id,
        scopes=row.scopes,
        amr=row.amr,
        auth_time=row.auth_time,
        expires_at=row.expires_at,
        window_minutes=window_minutes,
        secret=secret,
        now=now,
    )
    if not await store.rotate(row, successor, seal_successor(presented, raw), now):
        return await _after_lost_race(store, row, presented, now, policy)
    return secret


async def _keep(
    store: RefreshTokenStore, row: RefreshToken, presented: str, window_minutes: int | None, now: datetime
) -> str:
    if not await store.keep(row, now, window_minutes, _after(now, _minutes(window_minutes))):
        raise RefreshTokenUnusable("changed meanwhile")
    return presented


async def _after_lost_race(
    store: RefreshTokenStore, row: RefreshToken, presented: str, now: datetime, policy: RotationPolicy
) -> str:
    """Another request rotated (or revoked) the token between our read and our write."""
    fresh = await store.reload(row.id)
    if fresh is None:
        raise RefreshTokenUnusable("gone")
    state = state_of(fresh, now, policy.leeway)
    if state is TokenState.GRACE:
        return await _retry_in_grace(store, fresh, presented, now)
    if state is TokenState.REUSED:
        raise RefreshTokenReused(fresh.family_id)
    raise RefreshTokenUnusable(state.value)


async def _retry_in_grace(store: RefreshTokenStore, row: RefreshToken, presented: str, now: datetime) -> str:
    seal = row.successor_seal
    successor = await store.reload(row.replaced_by) if row.replaced_by else None
    if (
        seal is None
        or successor is None
        or successor.rotated_at is not None
        or successor.revoked_at is not None
    ):
        raise RefreshTokenReused(row.family_id)
    if not await store.spend_grace(row, now):
        raise RefreshTokenReused(row.family_id)
    return open_successor(presented, seal)


# --- revoking --------------------------------------------------------------------------------


async def revoke_family(
    store: RefreshTokenStore | AsyncSession,
    org_id: str,
    family_id: str,
    *,
    durable: bool = False,
    now: datetime | None = None,
) -> int:
    """Revoke every token of the family (and the access tokens minted with it); the number of
    tokens that were still unrevoked.

    ``durable``: also revoke it again when the transaction commits, so that a caller rolling
    back its own savepoint (the token endpoint does on every error) cannot undo it.
    """
    return await _store(store).revoke_family(org_id, family_id, durable=durable, now=now)


async def revoke_client_tokens(session: AsyncSession, org_id: str, server_id: str, client_id: str) -> int:
    return await SqlRefreshTokens(session).revoke_client_tokens(org_id, server_id, client_id)


async def revoke_user_tokens(session: AsyncSession, org_id: str, user_id: str) -> int:
    """Every refresh token of the user, on every server (``oauthTokens=true``)."""
    return await SqlRefreshTokens(session).revoke_user_tokens(org_id, user_id)


__all__ = [
    "PREFIX",
    "ROTATE",
    "STATIC",
    "IssuedRefreshToken",
    "RefreshTokenReused",
    "RefreshTokenUnusable",
    "RotationPolicy",
    "TokenState",
    "active_token",
    "digest",
    "exchange",
    "expiry_of",
    "find_refresh_token",
    "is_active",
    "issue_refresh_token",
    "new_family_id",
    "revoke_client_tokens",
    "revoke_family",
    "revoke_user_tokens",
    "rotation_policy",
    "state_of",
    "user_may_refresh",
]
