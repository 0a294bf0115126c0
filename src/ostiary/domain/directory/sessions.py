"""Okta sessions: one-time session tokens and the browser sessions they become.

A session token (``POST /api/v1/authn``) lives five minutes and is redeemed once, atomically:
two concurrent exchanges of the same token cannot both succeed. A session is identified in
the API by its ``id`` (``102…``) and in the browser by a separate high-entropy secret (the
``sid`` cookie); only the secret's SHA-256 digest is stored. Sessions expire after an idle
period (``IDLE_LIFETIME``) that ``refresh`` extends, but never later than ``max_lifetime`` after
they started (an absolute cap, ``OSTIARY_SESSION_MAX_LIFETIME_MINUTES``; None: no cap, like
Okta's "no time limit"); ending a session deletes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.store.models import User
from ostiary.store.models.sessions import SessionToken, UserSession
from ostiary.timeutil import utcnow

TOKEN_LIFETIME = timedelta(minutes=5)
IDLE_LIFETIME = timedelta(hours=2)
SESSION_TOKEN, STATE_TOKEN = "SESSION", "STATE"
ACTIVE = "ACTIVE"
MAX_SECRET_LENGTH = 200
_INACTIVE_USER = (users_domain.SUSPENDED, users_domain.DEPROVISIONED)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def auth_time(user_session: UserSession) -> int:
    """When the session's user last entered credentials (OpenID Connect ``auth_time``)."""
    moment = user_session.last_password_verification or user_session.created
    return int(moment.timestamp())


def not_found(session_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {session_id} (Session)", code="E0000007")


def target(user_session: UserSession) -> Target:
    return Target(user_session.id, "Session", user_session.login, user_session.login)


@dataclass(frozen=True)
class IssuedToken:
    """A token's plaintext, shown to the caller once, and when it stops working."""

    value: str
    expires_at: datetime


@dataclass(frozen=True)
class StartedSession:
    """A new session and its cookie secret (plaintext only here, never stored)."""

    session: UserSession
    secret: str


# --- one-time tokens ---------------------------------------------------------------------------


async def issue_token(tx: Tx, user: User, kind: str = SESSION_TOKEN) -> IssuedToken:
    """A new one-time token for ``user``; the user's used and expired tokens are dropped."""
    now = utcnow()
    await tx.session.execute(
        delete(SessionToken).where(
            SessionToken.org_id == tx.org_id,
            SessionToken.user_id == user.id,
            or_(SessionToken.used_at.is_not(None), SessionToken.expires_at <= now),
        )
    )
    value = ids.random_token(32)
    expires_at = now + TOKEN_LIFETIME
    tx.session.add(
        SessionToken(
            token_hash=digest(value),
            org_id=tx.org_id,
            user_id=user.id,
            kind=kind,
            created=now,
            expires_at=expires_at,
            used_at=None,
        )
    )
    await tx.session.flush()
    return IssuedToken(value, expires_at)


async def redeem_token(tx: Tx, value: object, kind: str = SESSION_TOKEN) -> User | None:
    """Mark an unused, unexpired token of ``kind`` as used and return its user, else None.

    One conditional UPDATE does the check and the marking, so a token is redeemed once even
    under concurrent requests. A user who is no longer ACTIVE gets nothing.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_SECRET_LENGTH:
        return None
    now = utcnow()
    result = await tx.session.execute(
        update(SessionToken)
        .where(
            SessionToken.token_hash == digest(value),
            SessionToken.org_id == tx.org_id,
            SessionToken.kind == kind,
            SessionToken.used_at.is_(None),
            SessionToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SessionToken.user_id)
    )
    user_id = result.scalar_one_or_none()
    if user_id is None:
        return None
    user = await tx.session.get(User, user_id)
    if user is None or user.org_id != tx.org_id or user.status != users_domain.ACTIVE:
        return None
    return user


# --- sessions ----------------------------------------------------------------------------------


async def start_session(
    tx: Tx,
    user: User,
    *,
    amr: Sequence[str] = ("pwd",),
    password_verified_at: datetime | None = None,
    max_lifetime: timedelta | None,
) -> StartedSession:
    """Create a session for ``user`` right after a successful sign-in (the hosted page, or a
    redeemed session token); the user's expired sessions are dropped on the way."""
    now = utcnow()
    await tx.session.execute(
        delete(UserSession).where(
            UserSession.org_id == tx.org_id,
            UserSession.user_id == user.id,
            UserSession.expires_at <= now,
        )
    )
    secret = ids.random_token(32)
    row = UserSession(
        id=ids.new_id(ids.SESSION),
        org_id=tx.org_id,
        user_id=user.id,
        secret_hash=digest(secret),
        login=user.login,
        status=ACTIVE,
        amr=list(amr),
        created=now,
        last_password_verification=password_verified_at or now,
        expires_at=_expiry(now, now, max_lifetime),
    )
    tx.session.add(row)
    await tx.session.flush()
    return StartedSession(row, secret)


async def exchange_token(tx: Tx, value: object, *, max_lifetime: timedelta | None) -> StartedSession | None:
    """Redeem a session token for a new session (``POST /api/v1/sessions``, ``/authorize``)."""
    user = await redeem_token(tx, value, SESSION_TOKEN)
    if user is None:
        return None
    return await start_session(tx, user, max_lifetime=max_lifetime)


async def find_by_secret(tx: Tx, secret: str | None) -> UserSession | None:
    """The live session whose cookie secret is ``secret``: not expired, not ended, and of a user
    who is neither suspended nor deactivated."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    stmt = (
        select(UserSession)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.secret_hash == digest(secret),
            UserSession.org_id == tx.org_id,
            UserSession.expires_at > utcnow(),
            User.status.not_in(_INACTIVE_USER),
        )
    )
    return (await tx.session.scalars(stmt)).first()


async def get_session(tx: Tx, session_id: str) -> UserSession:
    """A live session by id (``GET /api/v1/sessions/{id}``); expired ones are not found."""
    stmt = select(UserSession).where(
        UserSession.org_id == tx.org_id,
        UserSession.id == session_id,
        UserSession.expires_at > utcnow(),
    )
    found = (await tx.session.scalars(stmt)).first()
    if found is None:
        raise not_found(session_id)
    return found


def _expiry(created: datetime, now: datetime, max_lifetime: timedelta | None) -> datetime:
    """The idle lifetime from ``now``, capped at ``max_lifetime`` after ``created`` (not before
    ``now``: a session past its cap expires at once)."""
    idle_end = now + IDLE_LIFETIME
    if max_lifetime is None:
        return idle_end
    return max(now, min(idle_end, created + max_lifetime))


async def refresh(tx: Tx, user_session: UserSession, *, max_lifetime: timedelta | None) -> UserSession:
    """Extend the idle lifetime from now, up to the session's absolute cap."""
    user_session.expires_at = _expiry(user_session.created, utcnow(), max_lifetime)
    await tx.session.flush()
    return user_session


async def refresh_by_id(tx: Tx, session_id: str, *, max_lifetime: timedelta | None) -> UserSession:
    return await refresh(tx, await get_session(tx, session_id), max_lifetime=max_lifetime)


async def end(tx: Tx, user_session: UserSession) -> None:
    await tx.session.delete(user_session)
    record(tx, "user.session.end", "User logout from Okta", [target(user_session)])


async def end_by_id(tx: Tx, session_id: str) -> None:
    await end(tx, await get_session(tx, session_id))


async def end_user_sessions(tx: Tx, user_id: str) -> int:
    """End every session of a user (``DELETE /api/v1/users/{id}/sessions``); unknown user: 404."""
    user = await users_domain.get_user(tx, user_id)
    result = await tx.session.execute(
        delete(UserSession)
        .where(UserSession.org_id == tx.org_id, UserSession.user_id == user.id)
        .returning(UserSession.id)
    )
    ended = len(result.all())
    await tx.session.execute(
        delete(SessionToken).where(SessionToken.org_id == tx.org_id, SessionToken.user_id == user.id)
    )
    record(tx, "user.session.clear", "Clear user session", [users_domain.target(user)])
    return ended


async def end_sessions_except(tx: Tx, user: User, keep_secret: str | None) -> int:
    """End every session of ``user`` but the one whose cookie secret is ``keep_secret`` (if it
    is theirs), and drop their unused one-time tokens (after a credential change)."""
    conditions = [UserSession.org_id == tx.org_id, UserSession.user_id == user.id]
    if keep_secret and len(keep_secret) <= MAX_SECRET_LENGTH:
        conditions.append(UserSession.secret_hash != digest(keep_secret))
    result = await tx.session.execute(delete(UserSession).where(*conditions).returning(UserSession.id))
    ended = len(result.all())
    await tx.session.execute(
        delete(SessionToken).where(SessionToken.org_id == tx.org_id, SessionToken.user_id == user.id)
    )
    record(tx, "user.session.clear", "Clear user session", [users_domain.target(user)])
    return ended


def as_owner(tx: Tx, row: UserSession) -> Tx:
    """``tx`` acting as the session's own user (who ends a session they hold, in the audit log)."""
    return dataclasses.replace(tx, actor=Actor(row.user_id, "User", row.login, row.login))


@dataclass(frozen=True)
class SignedIn:
    """What the authorize endpoint keeps of the browser's session: who, how and when they
    last entered credentials (a plain record, not the row)."""

    user_id: str
    login: str
    amr: tuple[str, ...]
    auth_time: int


def signed_in(row: UserSession) -> SignedIn:
    return SignedIn(user_id=row.user_id, login=row.login, amr=tuple(row.amr or ()), auth_time=auth_time(row))


async def signed_in_by_secret(tx: Tx, secret: str | None) -> SignedIn | None:
    """:func:`find_by_secret` as a :class:`SignedIn` record."""
    row = await find_by_secret(tx, secret)
    return signed_in(row) if row is not None else None
