"""System Log events of an authorization request, once the user is known: ``user.authentication.sso``
when the app gets its code or tokens, ``app.oauth2.as.authorize`` (FAILURE, with the reason) when
the request is refused (not assigned, policy denial, consent refused...)."""

from __future__ import annotations

import dataclasses

from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Actor, Tx
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.state import Authorization


def _as_user(tx: Tx, authz: Authorization) -> Tx | None:
    user_session = authz.user_session
    if user_session is None:
        return None
    actor = Actor(user_session.user_id, "User", user_session.login, user_session.login)
    return dataclasses.replace(tx, actor=actor)


def _app(authz: Authorization) -> Target:
    return Target(authz.client.id, "AppInstance", authz.client.name, authz.client.label)


def log_signed_in(tx: Tx, authz: Authorization) -> None:
    as_user = _as_user(tx, authz)
    if as_user is not None:
        record(as_user, "user.authentication.sso", "User single sign on to app", [_app(authz)])


def log_refused(tx: Tx, authz: Authorization, error: AuthorizeError) -> None:
    as_user = _as_user(tx, authz)
    if as_user is not None:
        record(
            as_user,
            "app.oauth2.as.authorize",
            "OAuth2 authorization request",
            [_app(authz)],
            result="FAILURE",
            reason=f"{error.error}: {error.description}",
        )
