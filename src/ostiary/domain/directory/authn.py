"""Primary authentication: a username and a password, checked against the directory.

Used by ``POST /api/v1/authn`` (Okta's Classic Authentication API) and by the hosted sign-in
page. Whatever the reason for a refusal (no such user, wrong password, a locked-out user, a
user who may not sign in), the caller sees the same answer and the server does the same work:
one argon2 verification, against a dummy hash when there is no user. A wrong password of a user
who can sign in counts towards the lockout (``PasswordPolicy.max_attempts``); the attempt that
reaches the limit locks the account (LOCKED_OUT).

A locked-out account answers every password, the right one included, exactly as a wrong one
(security review F6: a distinct answer for the right password was an oracle that took
unlimited guesses). The lockout ends after ``PasswordPolicy.auto_unlock_minutes`` (checked at
the next sign-in: the account is then unlocked and the attempt evaluated normally), or earlier
by ``/lifecycle/unlock``. Every attempt is a ``user.session.start`` event in the system log,
SUCCESS or FAILURE with the reason (LOCKED_OUT for attempts on a locked account).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ostiary.domain.audit.log import record
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import passwords, sessions
from ostiary.domain.directory import users as users_domain
from ostiary.domain.directory.passwords import DEFAULT_POLICY, PasswordPolicy
from ostiary.domain.errors import Unauthenticated
from ostiary.store.models import User
from ostiary.timeutil import utcnow

SUCCESS = "SUCCESS"
PASSWORD_EXPIRED = "PASSWORD_EXPIRED"
LOCKED_OUT = "LOCKED_OUT"
FAILED = "FAILED"

INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
MAX_USERNAME_LENGTH = 255
_COUNTED = (users_domain.ACTIVE, users_domain.PASSWORD_EXPIRED)


def authentication_failed() -> Unauthenticated:
    """Okta's one answer to every refused sign-in (401)."""
    return Unauthenticated("Authentication failed", code="E0000004")


@dataclass(frozen=True)
class Verdict:
    """The outcome of a password check. ``user`` is set unless the status is FAILED."""

    status: str
    user: User | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuthnResult:
    """What ``POST /api/v1/authn`` answers: SUCCESS with a session token, PASSWORD_EXPIRED with
    a state token, LOCKED_OUT, or FAILED (401)."""

    status: str
    user: User | None = None
    session_token: str | None = None
    state_token: str | None = None
    expires_at: datetime | None = None
    recovery_token: str | None = None


async def verify_credentials(
    tx: Tx, username: str, password: str, policy: PasswordPolicy = DEFAULT_POLICY
) -> Verdict:
    """Check a password, keep the failure count and lockout, and log the attempt.

    The caller must commit the transaction even when the verdict is FAILED (the count and the
    events must persist) and only then answer with :func:`authentication_failed`.
    """
    user = await find_by_login(tx, username)
    matches = await passwords.verify_password(password, user.password_hash if user else None)
    if user is None:
        _log_attempt(tx, None, username, "FAILURE", INVALID_CREDENTIALS)
        return Verdict(FAILED, reason=INVALID_CREDENTIALS)
    if user.status == users_domain.LOCKED_OUT and not await _lockout_lapsed(tx, user, policy):
        _log_attempt(tx, user, username, "FAILURE", LOCKED_OUT)
        return Verdict(FAILED, reason=LOCKED_OUT)
    if not matches:
        return await _wrong_password(tx, user, policy)
    if user.status not in _COUNTED:
        _log_attempt(tx, user, username, "FAILURE", user.status)
        return Verdict(FAILED, reason=user.status)
    if not await _reset_failures(tx, user):
        _log_attempt(tx, user, username, "FAILURE", user.status)
        return Verdict(FAILED, reason=user.status)
    if passwords.needs_upgrade(user.password_hash):
        user.password_hash = await passwords.hash_password(password)  # imported hash → argon2id
    if user.status == users_domain.PASSWORD_EXPIRED:
        _log_attempt(tx, user, username, "CHALLENGE", PASSWORD_EXPIRED)
        return Verdict(PASSWORD_EXPIRED, user, PASSWORD_EXPIRED)
    user.last_login = utcnow()
    _log_attempt(tx, user, username, "SUCCESS", None)
    return Verdict(SUCCESS, user)


async def primary_authentication(
    tx: Tx, username: str, password: str, policy: PasswordPolicy = DEFAULT_POLICY
) -> AuthnResult:
    """``POST /api/v1/authn``: a verdict, plus the one-time token the next step needs."""
    verdict = await verify_credentials(tx, username, password, policy)
    if verdict.status == SUCCESS and verdict.user is not None:
        token = await sessions.issue_token(tx, verdict.user, sessions.SESSION_TOKEN)
        return AuthnResult(SUCCESS, verdict.user, session_token=token.value, expires_at=token.expires_at)
    if verdict.status == PASSWORD_EXPIRED and verdict.user is not None:
        state = await sessions.issue_token(tx, verdict.user, sessions.STATE_TOKEN)
        return AuthnResult(
            PASSWORD_EXPIRED, verdict.user, state_token=state.value, expires_at=state.expires_at
        )
    return AuthnResult(FAILED)


async def find_by_login(tx: Tx, username: str) -> User | None:
    if not username or len(username) > MAX_USERNAME_LENGTH:
        return None
    keys = users_domain.login_keys(username)
    stmt = select(User).where(User.org_id == tx.org_id, User.login_lower.in_(keys))
    return (await tx.session.scalars(stmt)).first()


async def _wrong_password(tx: Tx, user: User, policy: PasswordPolicy) -> Verdict:
    """Count the failure atomically (concurrent guesses all count) and lock at the limit."""
    if user.status not in _COUNTED:
        _log_attempt(tx, user, user.login, "FAILURE", INVALID_CREDENTIALS)
        return Verdict(FAILED, reason=INVALID_CREDENTIALS)
    result = await tx.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    )
    failures = int(result.scalar_one())
    set_committed_value(user, "failed_logins", failures)
    _log_attempt(tx, user, user.login, "FAILURE", INVALID_CREDENTIALS)
    if policy.max_attempts and failures >= policy.max_attempts:
        await _lock(tx, user)
    return Verdict(FAILED, reason=INVALID_CREDENTIALS)


async def _reset_failures(tx: Tx, user: User) -> bool:
    """After a right password: reset the failure count, only if the account is still in the
    status that was read. False when a concurrent attempt locked it (or an admin changed it)
    while this password was being verified: guesses already in flight when the account
    locks must not sign in (``user`` is then refreshed)."""
    result = await tx.session.execute(
        update(User)
        .where(User.id == user.id, User.status == user.status)
        .values(failed_logins=0)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar_one_or_none() is None:
        await tx.session.refresh(user)
        return False
    set_committed_value(user, "failed_logins", 0)
    return True


async def _lock(tx: Tx, user: User) -> None:
    now = utcnow()
    result = await tx.session.execute(
        update(User)
        .where(User.id == user.id, User.status.in_(_COUNTED))
        .values(status=users_domain.LOCKED_OUT, status_changed=now, last_updated=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar_one_or_none() is None:
        return
    for name, value in (("status", users_domain.LOCKED_OUT), ("status_changed", now), ("last_updated", now)):
        set_committed_value(user, name, value)
    record(
        _as_user(tx, user, user.login),
        "user.account.lock",
        "Max sign in attempts exceeded",
        [users_domain.target(user)],
        result="SUCCESS",
        reason="LOCKED_OUT",
        severity="WARN",
    )


async def _lockout_lapsed(tx: Tx, user: User, policy: PasswordPolicy) -> bool:
    """Unlock ``user`` when the policy's auto-unlock window has passed since the lockout began;
    whether the account is now unlocked. Conditional on the status, so that of concurrent
    attempts one unlocks (and logs it) and the others see its result."""
    if not policy.auto_unlock_minutes or user.status_changed is None:
        return False
    locked_at = user.status_changed
    if locked_at.tzinfo is None:
        locked_at = locked_at.replace(tzinfo=UTC)
    if utcnow() < locked_at + timedelta(minutes=policy.auto_unlock_minutes):
        return False
    now = utcnow()
    result = await tx.session.execute(
        update(User)
        .where(User.id == user.id, User.status == users_domain.LOCKED_OUT)
        .values(status=users_domain.ACTIVE, failed_logins=0, status_changed=now, last_updated=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar_one_or_none() is not None:
        record(
            tx,
            "user.account.unlock",
            "Unlock user account",
            [users_domain.target(user)],
            result="SUCCESS",
            reason="Lockout window elapsed",
        )
    await tx.session.refresh(user)
    return user.status != users_domain.LOCKED_OUT


def _as_user(tx: Tx, user: User | None, username: str) -> Tx:
    """The transaction with the signing-in user (or the unknown username) as the actor."""
    if user is None:
        actor = Actor("unknown", "User", username[:MAX_USERNAME_LENGTH], username[:MAX_USERNAME_LENGTH])
    else:
        target = users_domain.target(user)
        actor = Actor(user.id, "User", target.alternate_id, target.display_name)
    return dataclasses.replace(tx, actor=actor)


def _log_attempt(tx: Tx, user: User | None, username: str, result: str, reason: str | None) -> None:
    record(
        _as_user(tx, user, username),
        "user.session.start",
        "User login to Okta",
        [users_domain.target(user)] if user else [],
        result=result,
        reason=reason,
        severity="INFO" if result == "SUCCESS" else "WARN",
    )
