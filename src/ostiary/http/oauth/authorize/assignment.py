"""Step: the signed-in user must be ACTIVE and assigned to the app (directly, through a group,
or through Everyone); then what policies and claims know about them is loaded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.tokens.user_context import load_user_context
from ostiary.domain.tokens.user_context_cache import token_users
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.state import Authorization

NOT_ASSIGNED = "User is not assigned to the client application."


async def check_assignment(authz: Authorization, session: AsyncSession) -> None:
    user_session = authz.signed_in_session
    users = token_users(session)  # warms the cache for the code redemption that follows
    user = await users.user(authz.org.id, user_session.user_id)
    if user is None or user.status != "ACTIVE":
        raise AuthorizeError("access_denied", "The user is not active.")
    if not await users.is_assigned(authz.org.id, authz.client.id, user.id):
        raise AuthorizeError("access_denied", NOT_ASSIGNED)
    authz.user = user
    authz.user_context = await load_user_context(users, authz.org.id, authz.client, user)
