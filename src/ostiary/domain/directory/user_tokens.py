"""One-time tokens of the user lifecycle: activation, recovery, and authn state tokens.

An admin's ``lifecycle/activate`` (no password yet) gives an ACTIVATION token, ``reset_password``
and ``forgot_password`` a RECOVERY token; redeeming either through ``/api/v1/authn`` opens a
PASSWORD_RESET transaction whose ``stateToken`` is a RESET token (a recovery token of a user with
a recovery question opens a RECOVERY transaction first, whose ``stateToken`` is a QUESTION token).
A PASSWORD_EXPIRED sign-in gets a STATE token (``sessions.STATE_TOKEN``) for ``credentials/change_password``.

They live in ``session_tokens`` beside the session tokens, stored only as SHA-256 digests. A
state token is looked up without being used (a wrong old password or a refused new one lets
the user try again within the transaction) and consumed, once, by the step that completes it.
Activation and recovery tokens are consumed when redeemed. Issuing a new activation or recovery
token for a user voids the user's earlier unused ones of the same kind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ostiary import ids
from ostiary.domain.context import Tx
from ostiary.domain.directory.sessions import MAX_SECRET_LENGTH, STATE_TOKEN, digest
from ostiary.store.models import User
from ostiary.store.models.sessions import SessionToken
from ostiary.timeutil import utcnow

_log = logging.getLogger("ostiary.user_tokens")
ACTIVATION, RECOVERY, RESET = "ACTIVATION", "RECOVERY", "RESET"
QUESTION = "QUESTION"
"""The ``stateToken`` of a RECOVERY transaction: the recovery question is still to be answered."""
STATE = STATE_TOKEN
LIFETIMES = {
    ACTIVATION: timedelta(days=7),  # Okta's default activation token lifetime
    RECOVERY: timedelta(hours=1),  # Okta's default recovery token lifetime
    RESET: timedelta(minutes=5),
    QUESTION: timedelta(minutes=15),
    STATE: timedelta(minutes=5),
}


@dataclass(frozen=True)
class UserToken:
    value: str
    expires_at: datetime


async def issue(tx: Tx, user: User, kind: str) -> UserToken:
    """A new token of ``kind`` for ``user``; earlier unused tokens of that kind are voided."""
    now = utcnow()
    await tx.session.execute(
        delete(SessionToken).where(
            SessionToken.org_id == tx.org_id, SessionToken.user_id == user.id, SessionToken.kind == kind
        )
    )
    value = ids.random_token(24)
    expires_at = now + LIFETIMES[kind]
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
    if kind in (ACTIVATION, RECOVERY):
        # Ostiary sends no email: the server log (DEBUG) is where an operator finds the token an
        # email would have carried (docs/operations.md, "Activation and recovery tokens").
        _log.debug("%s token for user %s (%s): %s", kind.lower(), user.login, user.id, value)
    return UserToken(value, expires_at)


def _usable(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_SECRET_LENGTH else None


async def peek(tx: Tx, value: object, kinds: tuple[str, ...]) -> tuple[User, str, datetime] | None:
    """The user, kind and expiry of an unused, unexpired token of one of ``kinds``; not used up."""
    secret = _usable(value)
    if secret is None:
        return None
    row = (
        await tx.session.scalars(
            select(SessionToken).where(
                SessionToken.token_hash == digest(secret),
                SessionToken.org_id == tx.org_id,
                SessionToken.kind.in_(kinds),
                SessionToken.used_at.is_(None),
                SessionToken.expires_at > utcnow(),
            )
        )
    ).first()
    if row is None:
        return None
    user = await tx.session.get(User, row.user_id)
    if user is None or user.org_id != tx.org_id:
        return None
    return user, row.kind, row.expires_at


async def consume(tx: Tx, value: str) -> bool:
    """Mark the token used; False when another request used it first (one conditional UPDATE)."""
    result = await tx.session.execute(
        update(SessionToken)
        .where(
            SessionToken.token_hash == digest(value),
            SessionToken.org_id == tx.org_id,
            SessionToken.used_at.is_(None),
            SessionToken.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(SessionToken.token_hash)
    )
    return result.scalar_one_or_none() is not None


async def void(tx: Tx, user: User, *kinds: str) -> None:
    """Drop the user's tokens of ``kinds`` (a password set by other means ends a recovery)."""
    await tx.session.execute(
        delete(SessionToken).where(
            SessionToken.org_id == tx.org_id,
            SessionToken.user_id == user.id,
            SessionToken.kind.in_(kinds),
        )
    )
