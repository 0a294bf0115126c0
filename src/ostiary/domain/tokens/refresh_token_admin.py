"""Refresh tokens as administrators see and revoke them: by authorization server and client
(``/api/v1/authorizationServers/{id}/clients…``) and by user (``DELETE
/api/v1/users/{id}/sessions?oauthTokens=true``).

A token as shown is a *family* (every token rotated from one grant): its ``id`` is the family
id (``oar…``), stable across rotations; ``created`` is when the grant was made,
``lastUpdated`` its last use, ``expiresAt`` when it expires if unused. Only live families
are listed and found: revoked or expired ones are gone (404).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz.server_admin import manageable_server
from ostiary.domain.clients.records import app_target, get_app
from ostiary.domain.context import Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.domain.tokens import refresh_tokens
from ostiary.store.models import App, AuthorizationServer, User
from ostiary.store.models.policies import Scope
from ostiary.store.models.refresh_tokens import RefreshToken
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

ACTIVE = "ACTIVE"
REVOKE_EVENT = "app.oauth2.as.token.revoke"


@dataclass(frozen=True, slots=True)
class TokenView:
    """One refresh token (family) with what its ``_links`` name."""

    id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    status: str
    created: datetime
    last_updated: datetime
    expires_at: datetime | None
    app_label: str
    user_name: str


@dataclass(frozen=True, slots=True)
class ClientTokens:
    """A server, one of its clients and a page of that client's tokens."""

    server: AuthorizationServer
    app: App
    page: Page[TokenView]
    scopes: dict[str, Scope]


def token_not_found(token_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {token_id} (RefreshToken)", code="E0000007")


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The family's current token, neither revoked nor expired."""
    return (
        RefreshToken.replaced_by.is_(None),
        RefreshToken.revoked_at.is_(None),
        or_(RefreshToken.expires_at.is_(None), RefreshToken.expires_at > now),
        or_(RefreshToken.idle_expires_at.is_(None), RefreshToken.idle_expires_at > now),
    )


def _display_name(user: User | None) -> str:
    if user is None:
        return ""
    names = [user.profile.get("firstName"), user.profile.get("lastName")]
    return " ".join(str(n) for n in names if n) or user.login


async def _views(tx: Tx, rows: Sequence[RefreshToken], app: App) -> list[TokenView]:
    family_ids = [row.family_id for row in rows]
    started: dict[str, datetime] = {}
    if family_ids:
        roots = await tx.session.execute(
            select(RefreshToken.id, RefreshToken.created).where(RefreshToken.id.in_(family_ids))
        )
        started = {row.id: row.created for row in roots}
    user_ids = sorted({row.user_id for row in rows})
    users: dict[str, User] = {}
    if user_ids:
        found = await tx.session.scalars(select(User).where(User.org_id == tx.org_id, User.id.in_(user_ids)))
        users = {user.id: user for user in found}
    return [
        TokenView(
            id=row.family_id,
            client_id=row.client_id,
            user_id=row.user_id,
            scopes=tuple(row.scopes),
            status=ACTIVE,
            created=started.get(row.family_id, row.created),
            last_updated=row.last_used or row.created,
            expires_at=refresh_tokens.expiry_of(row),
            app_label=app.label,
            user_name=_display_name(users.get(row.user_id)),
        )
        for row in rows
    ]


async def _scopes_by_name(tx: Tx, server_id: str, names: Iterable[str]) -> dict[str, Scope]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = await tx.session.scalars(
        select(Scope).where(Scope.org_id == tx.org_id, Scope.server_id == server_id, Scope.name.in_(wanted))
    )
    return {scope.name: scope for scope in found}


def _client_tokens_stmt(tx: Tx, server_id: str, client_id: str) -> Any:
    return select(RefreshToken).where(
        RefreshToken.org_id == tx.org_id,
        RefreshToken.server_id == server_id,
        RefreshToken.client_id == client_id,
        *_live(utcnow()),
    )


# --- reading ---------------------------------------------------------------------------------


async def clients_with_tokens(tx: Tx, server_id: str) -> tuple[AuthorizationServer, list[App]]:
    """The apps holding a live refresh token of the server, in id order."""
    server = await manageable_server(tx, server_id)
    holders = (
        select(RefreshToken.client_id)
        .where(RefreshToken.org_id == tx.org_id, RefreshToken.server_id == server.id, *_live(utcnow()))
        .distinct()
    )
    apps = await tx.session.scalars(
        select(App).where(App.org_id == tx.org_id, App.id.in_(holders)).order_by(App.id)
    )
    return server, list(apps)


async def list_client_tokens(
    tx: Tx, server_id: str, client_id: str, *, after: str | None, limit: int, expand_scopes: bool
) -> ClientTokens:
    server = await manageable_server(tx, server_id)
    app = await get_app(tx, client_id)
    page = await fetch_page(
        tx.session,
        _client_tokens_stmt(tx, server.id, app.id),
        RefreshToken.family_id,
        after=after,
        limit=limit,
    )
    views = await _views(tx, page.items, app)
    scopes = (
        await _scopes_by_name(tx, server.id, (s for v in views for s in v.scopes)) if expand_scopes else {}
    )
    return ClientTokens(server, app, Page(views, page.next_cursor), scopes)


async def _find(
    tx: Tx, server_id: str, client_id: str, token_id: str
) -> tuple[AuthorizationServer, App, RefreshToken]:
    server = await manageable_server(tx, server_id)
    app = await get_app(tx, client_id)
    stmt = _client_tokens_stmt(tx, server.id, app.id).where(RefreshToken.family_id == token_id)
    row = (await tx.session.scalars(stmt)).first()
    if row is None:
        raise token_not_found(token_id)
    return server, app, row


async def get_client_token(
    tx: Tx, server_id: str, client_id: str, token_id: str, *, expand_scopes: bool
) -> ClientTokens:
    server, app, row = await _find(tx, server_id, client_id, token_id)
    views = await _views(tx, [row], app)
    scopes = await _scopes_by_name(tx, server.id, row.scopes) if expand_scopes else {}
    return ClientTokens(server, app, Page(views, None), scopes)


# --- revoking --------------------------------------------------------------------------------


def _token_target(token_id: str) -> Target:
    return Target(token_id, "RefreshToken", token_id, "Refresh token")


async def revoke_client_token(tx: Tx, server_id: str, client_id: str, token_id: str) -> None:
    _server, app, row = await _find(tx, server_id, client_id, token_id)
    await refresh_tokens.revoke_family(tx.session, tx.org_id, row.family_id)
    record(tx, REVOKE_EVENT, "Revoke refresh token", [_token_target(row.family_id), app_target(app)])


async def revoke_all_client_tokens(tx: Tx, server_id: str, client_id: str) -> int:
    server = await manageable_server(tx, server_id)
    app = await get_app(tx, client_id)
    revoked = await refresh_tokens.revoke_client_tokens(tx.session, tx.org_id, server.id, app.id)
    record(tx, REVOKE_EVENT, "Revoke all refresh tokens of a client", [app_target(app)])
    return revoked


async def revoke_user_refresh_tokens(tx: Tx, user_id: str) -> int:
    """Every refresh token of the user (``user_id`` may be the login), on every server."""
    user = await users_domain.get_user(tx, user_id)
    revoked = await refresh_tokens.revoke_user_tokens(tx.session, tx.org_id, user.id)
    record(tx, REVOKE_EVENT, "Revoke the refresh tokens of a user", [users_domain.target(user)])
    return revoked


# --- by app (``/api/v1/apps/{appId}/tokens``) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppTokens:
    """An app and a page of its tokens on every server, each with its server's view."""

    app: App
    page: Page[ClientTokens]


def _app_tokens_stmt(tx: Tx, app_id: str) -> Any:
    return select(RefreshToken).where(
        RefreshToken.org_id == tx.org_id, RefreshToken.client_id == app_id, *_live(utcnow())
    )


async def _per_server(
    tx: Tx, app: App, rows: Sequence[RefreshToken], expand_scopes: bool
) -> list[ClientTokens]:
    views = await _views(tx, rows, app)
    server_ids = sorted({row.server_id for row in rows})
    servers: dict[str, AuthorizationServer] = {}
    if server_ids:
        found = await tx.session.scalars(
            select(AuthorizationServer).where(
                AuthorizationServer.org_id == tx.org_id, AuthorizationServer.id.in_(server_ids)
            )
        )
        servers = {server.id: server for server in found}
    out = []
    for row, view in zip(rows, views, strict=True):
        scopes = await _scopes_by_name(tx, row.server_id, row.scopes) if expand_scopes else {}
        out.append(ClientTokens(servers[row.server_id], app, Page([view], None), scopes))
    return out


async def list_app_tokens(
    tx: Tx, app_id: str, *, after: str | None, limit: int, expand_scopes: bool
) -> AppTokens:
    """The app's live refresh tokens (families) on every authorization server, by id."""
    app = await get_app(tx, app_id)
    page = await fetch_page(
        tx.session, _app_tokens_stmt(tx, app.id), RefreshToken.family_id, after=after, limit=limit
    )
    return AppTokens(app, Page(await _per_server(tx, app, page.items, expand_scopes), page.next_cursor))


async def _find_app_token(tx: Tx, app_id: str, token_id: str) -> tuple[App, RefreshToken]:
    app = await get_app(tx, app_id)
    stmt = _app_tokens_stmt(tx, app.id).where(RefreshToken.family_id == token_id)
    row = (await tx.session.scalars(stmt)).first()
    if row is None:
        raise token_not_found(token_id)
    return app, row


async def get_app_token(tx: Tx, app_id: str, token_id: str, *, expand_scopes: bool) -> ClientTokens:
    app, row = await _find_app_token(tx, app_id, token_id)
    (found,) = await _per_server(tx, app, [row], expand_scopes)
    return found


async def revoke_app_token(tx: Tx, app_id: str, token_id: str) -> None:
    app, row = await _find_app_token(tx, app_id, token_id)
    await refresh_tokens.revoke_family(tx.session, tx.org_id, row.family_id)
    record(tx, REVOKE_EVENT, "Revoke refresh token", [_token_target(row.family_id), app_target(app)])


async def revoke_all_app_tokens(tx: Tx, app_id: str) -> int:
    """Every live refresh token of the app, on every server (and the access tokens minted with
    them)."""
    app = await get_app(tx, app_id)
    families = (
        await tx.session.scalars(_app_tokens_stmt(tx, app.id).with_only_columns(RefreshToken.family_id))
    ).all()
    revoked = 0
    for family_id in sorted(set(families)):
        revoked += await refresh_tokens.revoke_family(tx.session, tx.org_id, family_id)
    record(tx, REVOKE_EVENT, "Revoke all refresh tokens of an app", [app_target(app)])
    return revoked
