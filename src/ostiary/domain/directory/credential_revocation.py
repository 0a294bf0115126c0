"""After a password change or reset: end the user's sessions and revoke their refresh tokens.

A changed password is how a user or an admin locks out whoever learnt the old one, which is
pointless while that someone keeps a live session or a refresh token (ASVS 3.3.3, RFC 9700
§4.14). Okta offers this as ``revokeSessions`` on ``change_password`` and ``reset_password``;
Ostiary does it unless the caller says ``revokeSessions: false``, and always when an admin sets
a password on ``/users/{id}``. Refresh tokens are revoked with every access token issued with
them (:func:`refresh_tokens.revoke_user_tokens`). As in Okta, the session the request was made
from is kept when it is the user's own (the request's ``sid`` cookie).
"""

from __future__ import annotations

from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions
from ostiary.domain.tokens import refresh_token_admin
from ostiary.store.models import User


async def end_sign_ins(tx: Tx, user: User, *, keep_session_secret: str | None = None) -> None:
    """End ``user``'s sessions (but the caller's own) and revoke their refresh tokens."""
    await sessions.end_sessions_except(tx, user, keep_session_secret)
    await refresh_token_admin.revoke_user_refresh_tokens(tx, user.id)
