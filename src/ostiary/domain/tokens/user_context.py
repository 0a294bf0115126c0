"""What policies and claim expressions know about a signed-in user: groups and an ``EvalContext``.

Policies match on group ids (Everyone included); expressions read ``user.*`` (the profile plus
``id``, ``login`` and ``status``), ``app.*``, ``appuser.*`` (the user's app profile, when
assigned directly), ``org.*`` and the user's groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz.expressions import EvalContext, GroupRef
from ostiary.domain.tokens.token_user import TokenUser, token_user
from ostiary.store.models import Org, User
from ostiary.store.repositories import user_context as user_context_rows

if TYPE_CHECKING:
    from ostiary.domain.tokens.storage import TokenUsers


@dataclass(frozen=True, slots=True)
class UserContext:
    """A user's groups and the expression context for one (user, client) pair."""

    group_ids: frozenset[str]
    eval: EvalContext


async def user_groups(session: AsyncSession, org_id: str, user_id: str) -> list[GroupRef]:
    """The user's groups, Everyone included, in id order."""
    return [
        GroupRef(id=i, name=n)
        for i, n in await user_context_rows.group_ids_and_names(session, org_id, user_id)
    ]


def user_attributes(user: TokenUser) -> dict[str, Any]:
    """``user.*`` for expressions: the profile, then ``id``, ``login`` and ``status``."""
    return {**(user.profile or {}), "id": user.id, "login": user.login, "status": user.status}


def app_attributes(client: Any) -> dict[str, Any]:
    """``app.*`` for expressions, from an app row or a ``Client`` snapshot."""
    return {
        "id": client.id,
        "clientId": client.id,
        "name": getattr(client, "name", client.id),
        "label": getattr(client, "label", client.id),
    }


async def _org_attributes(session: AsyncSession, org_id: str) -> dict[str, Any]:
    org = await session.get(Org, org_id)
    if org is None:
        return {"id": org_id}
    return {"id": org.id, "name": org.name, "subdomain": org.subdomain}


async def load_user_context(users: TokenUsers, org_id: str, client: Any, user: TokenUser) -> UserContext:
    groups = await users.groups(org_id, user.id)
    context = EvalContext(
        user=user_attributes(user),
        app=app_attributes(client),
        appuser=await users.app_profile(org_id, client.id, user.id),
        org=await users.org_attributes(org_id),
        groups=tuple(groups),
    )
    return UserContext(group_ids=frozenset(g.id for g in groups), eval=context)


class SessionTokenUsers:
    """:class:`~ostiary.domain.tokens.storage.TokenUsers` over a session (the reads are
    ``store.repositories.user_context``'s)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user(self, org_id: str, user_id: str) -> TokenUser | None:
        user = await self.session.get(User, user_id)
        return token_user(user) if user is not None and user.org_id == org_id else None

    async def groups(self, org_id: str, user_id: str) -> list[GroupRef]:
        return await user_groups(self.session, org_id, user_id)

    async def app_profile(self, org_id: str, app_id: str, user_id: str) -> dict[str, Any]:
        return await user_context_rows.app_user_profile(self.session, org_id, app_id, user_id)

    async def org_attributes(self, org_id: str) -> dict[str, Any]:
        return await _org_attributes(self.session, org_id)

    async def is_assigned(self, org_id: str, app_id: str, user_id: str) -> bool:
        return await user_context_rows.is_user_assigned(self.session, org_id, app_id, user_id)
