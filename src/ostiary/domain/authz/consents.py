"""User consent to scopes (Okta's consent dialog on custom authorization servers).

Consent is asked when the app's ``consent_method`` is ``REQUIRED`` and a granted scope's
``consent`` is ``REQUIRED``; a user's "Allow" is remembered per (user, client, server, scope),
so the dialog appears once, unless the request says ``prompt=consent``. The org authorization
server never asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.authz import server_lookup
from ostiary.store.models import AuthorizationServer
from ostiary.store.models.codes import ConsentGrant
from ostiary.store.models.policies import Scope
from ostiary.timeutil import utcnow

REQUIRED = "REQUIRED"


@dataclass(frozen=True, slots=True)
class ScopeToConsent:
    name: str
    label: str


def app_requires_consent(settings: Mapping[str, Any]) -> bool:
    """``settings.oauthClient.consent_method`` of the app is ``REQUIRED``."""
    oauth = settings.get("oauthClient") or {}
    return isinstance(oauth, Mapping) and oauth.get("consent_method") == REQUIRED


async def scopes_to_consent(
    session: AsyncSession,
    org_id: str,
    server: AuthorizationServer,
    *,
    client_id: str,
    client_settings: Mapping[str, Any],
    user_id: str,
    scopes: Sequence[str],
    force: bool = False,
) -> list[ScopeToConsent]:
    """The scopes the user must still agree to (all consent scopes with ``force``), in order."""
    if server.kind == server_lookup.ORG or not scopes or not app_requires_consent(client_settings):
        return []
    rows = (
        await session.scalars(
            select(Scope).where(
                Scope.org_id == org_id,
                Scope.server_id == server.id,
                Scope.name.in_(list(scopes)),
                Scope.consent == REQUIRED,
            )
        )
    ).all()
    by_name = {row.name: row for row in rows}
    granted = set() if force else await _granted(session, org_id, user_id, client_id, server.id)
    return [
        ScopeToConsent(name, by_name[name].display_name or by_name[name].description or name)
        for name in scopes
        if name in by_name and name not in granted
    ]


async def _granted(
    session: AsyncSession, org_id: str, user_id: str, client_id: str, server_id: str
) -> set[str]:
    stmt = select(ConsentGrant.scope).where(
        ConsentGrant.org_id == org_id,
        ConsentGrant.user_id == user_id,
        ConsentGrant.client_id == client_id,
        ConsentGrant.server_id == server_id,
    )
    return set((await session.scalars(stmt)).all())


async def grant_consent(
    session: AsyncSession, org_id: str, *, user_id: str, client_id: str, server_id: str, scopes: Iterable[str]
) -> None:
    """Remember the user's consent; scopes already granted are left as they are."""
    have = await _granted(session, org_id, user_id, client_id, server_id)
    now = utcnow()
    for scope in dict.fromkeys(scopes):
        if scope in have:
            continue
        session.add(
            ConsentGrant(
                id=ids.new_id(ids.GRANT),
                org_id=org_id,
                user_id=user_id,
                client_id=client_id,
                server_id=server_id,
                scope=scope,
                created=now,
            )
        )
    await session.flush()
