"""Steps: the requested scopes (before sign-in) and the access policies' decision (after).

Before sign-in: every scope must exist on the server (the org AS: Okta's OIDC scopes), OIDC
claim scopes and ID tokens need ``openid``, and an ID token from this endpoint needs a
``nonce`` (OpenID Connect Core §3.2.2.1). After sign-in: the policies decide for the user,
once per grant type the response needs (``authorization_code`` for a code, ``implicit`` for
tokens); a denial is ``access_denied`` with the policy's description.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.tokens.grants.base import requested_scopes
from ostiary.domain.tokens.user_scopes import (
    OPENID_REQUIRED,
    check_requested_scopes,
    decide_user_scopes,
)
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.response_type import grant_types_of
from ostiary.http.oauth.authorize.state import Authorization

NONCE_REQUIRED = (
    "The 'nonce' parameter is required for authorize requests with either the 'id_token' or 'token' "
    "response types."
)


async def check_scopes(authz: Authorization, session: AsyncSession) -> None:
    requested = requested_scopes(authz.params)
    if not requested:
        raise AuthorizeError("invalid_scope", "The 'scope' parameter is required.")
    authz.scopes = await check_requested_scopes(session, authz.org.id, authz.server.server, requested)
    if authz.wants_id_token and "openid" not in authz.scopes:
        raise AuthorizeError("access_denied", OPENID_REQUIRED)
    authz.nonce = authz.params.get("nonce") or None
    if authz.wants_id_token and authz.nonce is None:
        raise AuthorizeError("invalid_request", NONCE_REQUIRED)


async def decide_scopes(authz: Authorization, session: AsyncSession) -> None:
    assert authz.user_context is not None
    for grant_type in grant_types_of(authz):
        authz.decisions[grant_type] = await decide_user_scopes(
            session,
            authz.org.id,
            authz.server.server,
            client_id=authz.client.id,
            user_id=authz.signed_in_user.id,
            group_ids=authz.user_context.group_ids,
            scopes=authz.scopes,
            grant_type=grant_type,
        )
