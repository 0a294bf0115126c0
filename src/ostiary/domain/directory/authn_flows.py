"""The rest of Okta's Classic authentication state machine, after the password step:

- ``{"token": activationToken}`` on ``/api/v1/authn`` (or a recovery token there, or on
  ``/api/v1/authn/recovery/token``) → PASSWORD_RESET with a ``stateToken`` for a user who must
  set a password (SUCCESS for an active user's activation token);
- PASSWORD_RESET + ``credentials/reset_password`` → SUCCESS with a ``sessionToken``;
- PASSWORD_EXPIRED (from the password step) + ``credentials/change_password`` → SUCCESS;
  either way the user's other sessions and refresh tokens end, and their other one-time tokens
  (:mod:`ostiary.domain.directory.credential_revocation`);
- ``recovery/password`` (forgot password) → a recovery token for an eligible user. Ostiary sends
  no email: the token goes to an admin caller, and to the server log at DEBUG level.

- a recovery token of a user with a recovery question (:mod:`.recovery_question`) opens a
  RECOVERY transaction first: ``recovery/answer`` with the right answer → PASSWORD_RESET (a
  wrong one: 403 E0000087, the transaction stays open). Without a question, and for activation
  tokens, the token leads straight to PASSWORD_RESET.

Tokens: :mod:`ostiary.domain.directory.user_tokens`.
"""

from __future__ import annotations

from ostiary.domain.audit.log import record
from ostiary.domain.context import Tx
from ostiary.domain.directory import (
    credential_revocation,
    passwords,
    recovery_question,
    sessions,
    user_tokens,
)
from ostiary.domain.directory import users as users_domain
from ostiary.domain.directory.authn import PASSWORD_EXPIRED, SUCCESS, AuthnResult, find_by_login
from ostiary.domain.errors import Forbidden, Invalid, Unauthenticated
from ostiary.store.models import User
from ostiary.timeutil import utcnow

PASSWORD_RESET = "PASSWORD_RESET"
RECOVERY = "RECOVERY"
RECOVERY_CHALLENGE = "RECOVERY_CHALLENGE"
_RECOVERABLE = (users_domain.ACTIVE, users_domain.PASSWORD_EXPIRED, users_domain.LOCKED_OUT)


def invalid_token() -> Unauthenticated:
    return Unauthenticated("Invalid token provided", code="E0000011")


def _complexity(error: Invalid) -> Forbidden:
    """Okta's answer to a new password the policy refuses, in an authn transaction (403)."""
    return Forbidden(
        "The password does not meet the complexity requirements of the current password policy.",
        code="E0000080",
        causes=error.causes,
    )


async def _reset_state(tx: Tx, user: User) -> AuthnResult:
    state = await user_tokens.issue(tx, user, user_tokens.RESET)
    return AuthnResult(PASSWORD_RESET, user, state_token=state.value, expires_at=state.expires_at)


async def _success(tx: Tx, user: User) -> AuthnResult:
    token = await sessions.issue_token(tx, user, sessions.SESSION_TOKEN)
    return AuthnResult(SUCCESS, user, session_token=token.value, expires_at=token.expires_at)


async def authenticate_with_token(tx: Tx, value: object, *, kinds: tuple[str, ...]) -> AuthnResult:
    """Redeem an activation or recovery token: PASSWORD_RESET, or SUCCESS for an ACTIVE user's
    activation token (its password was set before activation). Unknown, used or expired: 401."""
    found = await user_tokens.peek(tx, value, kinds)
    if found is None or not isinstance(value, str):
        raise invalid_token()
    user, kind, _expires = found
    if kind == user_tokens.ACTIVATION and user.status == users_domain.ACTIVE:
        if not await user_tokens.consume(tx, value):
            raise invalid_token()
        return await _success(tx, user)
    allowed = (
        (users_domain.PROVISIONED, users_domain.RECOVERY)
        if kind == user_tokens.ACTIVATION
        else (*_RECOVERABLE, users_domain.RECOVERY)
    )
    if user.status not in allowed or not await user_tokens.consume(tx, value):
        raise invalid_token()
    if kind == user_tokens.RECOVERY and recovery_question.question_of(user) is not None:
        state = await user_tokens.issue(tx, user, user_tokens.QUESTION)
        return AuthnResult(RECOVERY, user, state_token=state.value, expires_at=state.expires_at)
    return await _reset_state(tx, user)


def wrong_answer() -> Forbidden:
    return Forbidden(
        "The recovery question answer did not match our records.",
        code="E0000087",
        causes=["answer: The recovery question answer did not match our records."],
    )


async def question_holder(tx: Tx, state_token: object) -> User:
    """The user of a RECOVERY transaction (401 for an unknown or used state token)."""
    found = await user_tokens.peek(tx, state_token, (user_tokens.QUESTION,))
    if found is None or not isinstance(state_token, str):
        raise invalid_token()
    return found[0]


async def answer_recovery_question(tx: Tx, state_token: object, answer: object) -> AuthnResult:
    """RECOVERY → PASSWORD_RESET with the right answer; a wrong one leaves the transaction open."""
    user = await question_holder(tx, state_token)
    if not await recovery_question.matches(user, answer):
        raise wrong_answer()
    assert isinstance(state_token, str)
    if not await user_tokens.consume(tx, state_token):
        raise invalid_token()
    return await _reset_state(tx, user)


async def transaction_state(tx: Tx, value: object) -> AuthnResult:
    """``POST /api/v1/authn {"stateToken"}``: where an unfinished transaction stands."""
    found = await user_tokens.peek(tx, value, (user_tokens.RESET, user_tokens.STATE, user_tokens.QUESTION))
    if found is None or not isinstance(value, str):
        raise invalid_token()
    user, kind, expires = found
    status = {user_tokens.RESET: PASSWORD_RESET, user_tokens.QUESTION: RECOVERY}.get(kind, PASSWORD_EXPIRED)
    return AuthnResult(status, user, state_token=value, expires_at=expires)


async def reset_password(tx: Tx, state_token: object, new_password: object) -> AuthnResult:
    """PASSWORD_RESET → SUCCESS: set the new password, the user ACTIVE, a session token."""
    found = await user_tokens.peek(tx, state_token, (user_tokens.RESET,))
    if found is None or not isinstance(state_token, str):
        raise invalid_token()
    user = found[0]
    try:
        await users_domain.set_password_by_token(tx, user, new_password)
    except Invalid as error:
        raise _complexity(error) from None
    if not await user_tokens.consume(tx, state_token):
        raise invalid_token()
    await credential_revocation.end_sign_ins(tx, user)  # whoever had the old password is out
    return await _success(tx, user)


async def expired_password_holder(tx: Tx, state_token: object) -> User:
    """The user of a PASSWORD_EXPIRED transaction (401 for an unknown or used state token): whose
    sign-in throttle a change-password attempt counts against."""
    found = await user_tokens.peek(tx, state_token, (user_tokens.STATE,))
    if found is None or not isinstance(state_token, str):
        raise invalid_token()
    return found[0]


async def change_password(tx: Tx, state_token: object, old: object, new: object) -> AuthnResult:
    """PASSWORD_EXPIRED → SUCCESS: the old password checked, the new one set, the user ACTIVE."""
    found = await user_tokens.peek(tx, state_token, (user_tokens.STATE,))
    if found is None or not isinstance(state_token, str):
        raise invalid_token()
    user = found[0]
    if user.status != users_domain.PASSWORD_EXPIRED:
        raise invalid_token()
    if not isinstance(old, str) or not await passwords.verify_password(old, user.password_hash):
        raise Forbidden(
            "Update of credentials failed",
            code="E0000014",
            causes=["oldPassword: The credentials provided were incorrect."],
        )
    if isinstance(new, str) and new == old:
        raise _complexity(Invalid("", causes=["password: Password cannot be your current password"]))
    try:
        checked = passwords.check_password(new, user.profile)
    except Invalid as error:
        raise _complexity(error) from None
    if not await user_tokens.consume(tx, state_token):
        raise invalid_token()
    user.password_hash = await passwords.hash_password(checked)
    user.password_changed = user.last_updated = user.status_changed = utcnow()
    user.status = users_domain.ACTIVE
    record(tx, "user.account.update_password", "User update password for Okta", [users_domain.target(user)])
    await credential_revocation.end_sign_ins(tx, user)
    return await _success(tx, user)


async def forgot_password(tx: Tx, username: str) -> tuple[User, user_tokens.UserToken] | None:
    """Start a self-service recovery: a recovery token for an eligible user, else None (the
    caller answers the same either way). The token is logged at DEBUG: the stand-in for email."""
    user = await find_by_login(tx, username)
    if user is None or user.status not in _RECOVERABLE:
        return None
    token = await user_tokens.issue(tx, user, user_tokens.RECOVERY)
    record(tx, "user.account.reset_password", "Forgot password", [users_domain.target(user)])
    return user, token


async def cancel(tx: Tx, state_token: object) -> None:
    """``/api/v1/authn/cancel``: the transaction's state token is used up."""
    kinds = (user_tokens.RESET, user_tokens.STATE, user_tokens.QUESTION)
    found = await user_tokens.peek(tx, state_token, kinds)
    if found is None or not isinstance(state_token, str) or not await user_tokens.consume(tx, state_token):
        raise invalid_token()
