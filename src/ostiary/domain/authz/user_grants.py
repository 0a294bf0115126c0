"""A user's consent grants as administrators see and revoke them (``/api/v1/users/{id}/grants``).

A grant is one row of ``consent_grants``: the user's "Allow" to one scope, for one client, at one
authorization server, recorded by the consent step of ``/authorize`` (:mod:`.consents`). It is
shown in Okta's ``OAuth2ScopeConsentGrant`` shape with ``source`` ``END_USER``. Revoking a grant
makes the consent dialog appear again and revokes the refresh tokens issued under it: the live
tokens of that user, client and server whose scopes include the grant's scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.domain.tokens import refresh_tokens
from ostiary.store.models import App, AuthorizationServer, User
from ostiary.store.models.codes import ConsentGrant
from ostiary.store.models.policies import Scope
from ostiary.store.models.refresh_tokens import RefreshToken
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

REVOKE_EVENT = "app.oauth2.as.consent.revoke"


@dataclass(frozen=True, slots=True)
class GrantView:
    """A consent grant with what its JSON names: the server, the scope row (if it still exists)
    and the app."""

    grant: ConsentGrant
    server: AuthorizationServer | None
    scope: Scope | None
    app: App | None


def not_found(grant_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {grant_id} (OAuth2ScopeConsentGrant)", code="E0000007")


def _target(grant: ConsentGrant) -> Target:
    return Target(grant.id, "OAuth2ScopeConsentGrant", grant.scope, grant.scope)


async def _views(tx: Tx, grants: Sequence[ConsentGrant]) -> list[GrantView]:
    server_ids = sorted({g.server_id for g in grants})
    client_ids = sorted({g.client_id for g in grants})
    servers: dict[str, AuthorizationServer] = {}
    scopes: dict[tuple[str, str], Scope] = {}
    apps: dict[str, App] = {}
    if grants:
        found_servers = await tx.session.scalars(
            select(AuthorizationServer).where(
                AuthorizationServer.org_id == tx.org_id, AuthorizationServer.id.in_(server_ids)
            )
        )
        servers = {s.id: s for s in found_servers}
        found_scopes = await tx.session.scalars(
            select(Scope).where(
                Scope.org_id == tx.org_id,
                Scope.server_id.in_(server_ids),
                Scope.name.in_(sorted({g.scope for g in grants})),
            )
        )
        scopes = {(s.server_id, s.name): s for s in found_scopes}
        found_apps = await tx.session.scalars(
            select(App).where(App.org_id == tx.org_id, App.id.in_(client_ids))
        )
        apps = {a.id: a for a in found_apps}
    return [
        GrantView(g, servers.get(g.server_id), scopes.get((g.server_id, g.scope)), apps.get(g.client_id))
        for g in grants
    ]


def _of_user(tx: Tx, user: User) -> Select[Any]:
    return select(ConsentGrant).where(ConsentGrant.org_id == tx.org_id, ConsentGrant.user_id == user.id)


async def _scope_names(tx: Tx, scope_id: str) -> list[str]:
    """``scopeId`` as a filter: a scope's id (``scp…``) or its name."""
    found = await tx.session.scalars(
        select(Scope.name).where(Scope.org_id == tx.org_id, Scope.id == scope_id)
    )
    return [*found.all(), scope_id]


async def list_grants(
    tx: Tx, user_id: str, *, scope_id: str | None, after: str | None, limit: int
) -> tuple[User, Page[GrantView]]:
    user = await users_domain.get_user(tx, user_id)
    stmt = _of_user(tx, user)
    if scope_id:
        stmt = stmt.where(ConsentGrant.scope.in_(await _scope_names(tx, scope_id)))
    page = await fetch_page(tx.session, stmt, ConsentGrant.id, after=after, limit=limit)
    return user, Page(await _views(tx, page.items), page.next_cursor)


async def _find(tx: Tx, user: User, grant_id: str) -> ConsentGrant:
    grant: ConsentGrant | None = (
        await tx.session.scalars(_of_user(tx, user).where(ConsentGrant.id == grant_id))
    ).first()
    if grant is None:
        raise not_found(grant_id)
    return grant


async def get_grant(tx: Tx, user_id: str, grant_id: str) -> tuple[User, GrantView]:
    user = await users_domain.get_user(tx, user_id)
    (view,) = await _views(tx, [await _find(tx, user, grant_id)])
    return user, view


async def _revoke_tokens_under(tx: Tx, grants: Iterable[ConsentGrant]) -> int:
    """Revoke the live refresh tokens issued with one of ``grants``' scopes."""
    revoked = 0
    now = utcnow()
    for grant in grants:
        rows = await tx.session.scalars(
            select(RefreshToken).where(
                RefreshToken.org_id == tx.org_id,
                RefreshToken.user_id == grant.user_id,
                RefreshToken.client_id == grant.client_id,
                RefreshToken.server_id == grant.server_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.replaced_by.is_(None),
            )
        )
        for row in rows.all():
            if grant.scope in row.scopes:
                revoked += await refresh_tokens.revoke_family(tx.session, tx.org_id, row.family_id, now=now)
    return revoked


async def revoke_grant(tx: Tx, user_id: str, grant_id: str) -> None:
    user = await users_domain.get_user(tx, user_id)
    grant = await _find(tx, user, grant_id)
    await _revoke_tokens_under(tx, [grant])
    await tx.session.delete(grant)
    await tx.session.flush()
    record(tx, REVOKE_EVENT, "Revoke user consent to scope", [users_domain.target(user), _target(grant)])


async def revoke_all_grants(tx: Tx, user_id: str) -> int:
    user = await users_domain.get_user(tx, user_id)
    grants: list[ConsentGrant] = list((await tx.session.scalars(_of_user(tx, user))).all())
    await _revoke_tokens_under(tx, grants)
    for grant in grants:
        await tx.session.delete(grant)
    await tx.session.flush()
    record(tx, REVOKE_EVENT, "Revoke all consent grants of a user", [users_domain.target(user)])
    return len(grants)
