"""OAuth 2.0 / OIDC apps (Okta's ``OPENID_CONNECT`` applications): create, read, list,
replace, activate, deactivate, delete — validated as Okta validates them.

The app id is the ``client_id``. Rules by ``application_type``:

- ``service``: ``client_credentials`` only, no redirect URIs, a confidential auth method;
- ``browser``: a public client (``token_endpoint_auth_method: none``) that must use PKCE;
- ``web``: a confidential client; redirect URIs for ``authorization_code``/``implicit``;
- ``native``: may be public (then PKCE is required) and may use custom-scheme redirect URIs.

Response types follow the grant types (``code`` ⇔ ``authorization_code``; ``implicit``
needs ``token`` or ``id_token``, which otherwise need ``authorization_code`` — the hybrid
flow — or, for ``token``, ``client_credentials``). Redirect URIs are absolute, without a
fragment, ``https`` (``http`` only on loopback hosts; custom schemes only for native
apps). ``private_key_jwt`` needs at least one active key in ``jwks``; ``jwks_uri`` is not
supported (nothing is fetched from URLs that clients name). The body is read and these
rules are checked in :mod:`.app_spec`; redirect URIs in :mod:`.redirect_uris`.

For the token endpoint: :func:`get_active_client`, :func:`invalidate_client` (from
``client_cache``), :func:`granted_scopes` / :func:`granted_scopes_for` (from ``grants``)
and :func:`is_user_assigned` (from ``assignments``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from ostiary import ids
from ostiary.domain.audit.log import record
from ostiary.domain.clients import client_jwks, client_secrets
from ostiary.domain.clients.app_spec import (
    OIDC_NAME,
    OPENID_CONNECT,
    AppSpec,
    check_keys,
    check_sign_on,
    parse_app_spec,
)
from ostiary.domain.clients.assignments import is_user_assigned
from ostiary.domain.clients.client_cache import Client, get_active_client, invalidate_client
from ostiary.domain.clients.records import (
    ACTIVE,
    INACTIVE,
    app_not_found,
    app_target,
    get_app,
    validation_error,
)
from ostiary.domain.clients.scope_grants import granted_scopes, granted_scopes_for
from ostiary.domain.context import Tx
from ostiary.domain.errors import Forbidden
from ostiary.filter_ast import Comparison, Present
from ostiary.jose.key_encryption import KeyEncryptor
from ostiary.jose.signing_keys import jwk_thumbprint
from ostiary.store.models import (
    App,
    AppGroupAssignment,
    AppJwk,
    AppUserAssignment,
    Group,
    GroupMembership,
    User,
)
from ostiary.store.repositories.filter_sql import Custom
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

__all__ = [
    "ACTIVE",
    "INACTIVE",
    "AppView",
    "Client",
    "activate_app",
    "app_not_found",
    "create_app",
    "deactivate_app",
    "delete_app",
    "get_active_client",
    "get_app",
    "get_app_view",
    "granted_scopes",
    "granted_scopes_for",
    "invalidate_client",
    "is_user_assigned",
    "list_apps",
    "replace_app",
]


@dataclass
class AppView:
    """An app with its keys, and a client secret to show once (only when one was just made)."""

    app: App
    keys: list[AppJwk] = field(default_factory=list)
    new_secret: str | None = None


# --- operations -----------------------------------------------------------------------------


async def create_app(
    tx: Tx,
    body: Mapping[str, Any],
    *,
    activate: bool = True,
    encryptor: KeyEncryptor | None = None,
    app_id: str | None = None,
) -> AppView:
    """POST /api/v1/apps. ``app_id`` (seeding) fixes the id, which is then the client_id too; the
    body's ``client_id`` (Okta accepts one on create) fixes the client_id, unique across the
    server's orgs, and the app gets another, generated id (``public_id``), as in Okta."""
    check_sign_on(body)
    fixed = None if app_id else _requested_client_id(body)
    new_id = app_id or fixed or ids.new_id(ids.APP)
    if await tx.session.get(App, new_id) is not None:
        raise validation_error("client_id", "client_id: This client_id is already in use")
    spec = parse_app_spec(body, app_id=new_id)
    check_keys(spec.token_endpoint_auth_method, spec.keys or [])
    now = utcnow()
    app = App(id=new_id, org_id=tx.org_id, name=OIDC_NAME, sign_on_mode=OPENID_CONNECT, created=now)
    app.public_id = ids.new_id(ids.APP) if fixed else None  # as Okta: a fixed client_id is not the id
    app.status = ACTIVE if activate else INACTIVE
    _apply(app, spec, now)
    tx.session.add(app)
    await tx.session.flush()
    keys = await client_jwks.replace_keys(tx, app, spec.keys or [])
    secret = await client_secrets.fit_secrets_to_method(
        tx, app, requested=spec.client_secret, encryptor=encryptor
    )
    invalidate_client(app.id, tx.session)
    record(tx, "application.lifecycle.create", "Add application", [app_target(app)])
    if activate:
        record(tx, "application.lifecycle.activate", "Activate application", [app_target(app)])
    return AppView(app, keys, secret)


CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,32}")


def _requested_client_id(body: Mapping[str, Any]) -> str | None:
    credentials = body.get("credentials")
    oauth = credentials.get("oauthClient") if isinstance(credentials, Mapping) else None
    client_id = oauth.get("client_id") if isinstance(oauth, Mapping) else None
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise validation_error("client_id", "client_id: 1 to 32 letters, digits and - . _ ~")
    return client_id


def _apply(app: App, spec: AppSpec, now: Any) -> None:
    app.label = spec.label
    app.label_lower = spec.label.lower()
    app.application_type = spec.application_type
    app.token_endpoint_auth_method = spec.token_endpoint_auth_method
    app.pkce_required = spec.pkce_required
    app.auto_key_rotation = spec.auto_key_rotation
    app.redirect_uris = spec.redirect_uris
    app.post_logout_redirect_uris = spec.post_logout_redirect_uris
    app.response_types = spec.response_types
    app.grant_types = spec.grant_types
    app.settings = spec.settings
    app.profile = spec.profile
    app.last_updated = now


async def replace_app(
    tx: Tx,
    app_id: str,
    body: Mapping[str, Any],
    *,
    encryptor: KeyEncryptor | None = None,
    credentials_locked: bool = False,
) -> AppView:
    """PUT /api/v1/apps/{appId}. Sections left out (``settings``, ``credentials.oauthClient``
    members, ``settings.oauthClient.jwks``) keep their current values, as Okta's PUT does; a
    change of auth method adds or drops client secrets to fit (a new one is shown once).

    ``credentials_locked``: the caller may not change the credentials (``credentials.oauthClient``,
    a client secret, the JWKS); a body that would is refused with :class:`Forbidden`."""
    app = await get_app(tx, app_id)
    check_sign_on(body)
    current = (await client_jwks.keys_of(tx, [app.id]))[app.id]
    spec = parse_app_spec(_merged_with_current(app, body), app_id=app.id)
    if credentials_locked and _changes_credentials(app, spec, current):
        raise Forbidden(FORBIDDEN_MESSAGE, code="E0000006")
    check_keys(spec.token_endpoint_auth_method, current if spec.keys is None else spec.keys)
    _apply(app, spec, utcnow())
    await tx.session.flush()
    keys = current if spec.keys is None else await client_jwks.replace_keys(tx, app, spec.keys)
    secret = await client_secrets.fit_secrets_to_method(
        tx, app, requested=spec.client_secret, encryptor=encryptor
    )
    invalidate_client(app.id, tx.session)
    record(tx, "application.lifecycle.update", "Update application", [app_target(app)])
    return AppView(app, keys, secret)


FORBIDDEN_MESSAGE = "You do not have permission to perform the requested action"


def _changes_credentials(app: App, spec: AppSpec, current: Sequence[AppJwk]) -> bool:
    if spec.client_secret is not None:
        return True
    settings = (spec.token_endpoint_auth_method, spec.pkce_required, spec.auto_key_rotation)
    if settings != (app.token_endpoint_auth_method, app.pkce_required, app.auto_key_rotation):
        return True
    if spec.keys is None:
        return False
    given = sorted((k.kid or "", k.alg, k.status, k.thumbprint) for k in spec.keys)
    held = sorted((r.kid or "", r.alg, r.status, jwk_thumbprint(r.jwk)) for r in current)
    return given != held


def _merged_with_current(app: App, body: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(body)
    credentials = body.get("credentials")
    current_credentials = {
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "pkce_required": app.pkce_required,
        "autoKeyRotation": app.auto_key_rotation,
    }
    if credentials is None:
        merged["credentials"] = {"oauthClient": current_credentials}
    elif isinstance(credentials, Mapping):
        given = credentials.get("oauthClient")
        if given is None or isinstance(given, Mapping):
            merged["credentials"] = {**credentials, "oauthClient": {**current_credentials, **(given or {})}}
    if body.get("settings") is None:
        merged["settings"] = current_settings(app)
    if "profile" not in body:
        merged["profile"] = app.profile
    return merged


def current_settings(app: App) -> dict[str, Any]:
    """``settings`` as stored, with the members kept in columns put back (without ``jwks``)."""
    settings = dict(app.settings)
    settings["oauthClient"] = {
        **settings.get("oauthClient", {}),
        "application_type": app.application_type,
        "redirect_uris": list(app.redirect_uris),
        "post_logout_redirect_uris": list(app.post_logout_redirect_uris),
        "response_types": list(app.response_types),
        "grant_types": list(app.grant_types),
    }
    return settings


async def get_app_view(tx: Tx, app_id: str) -> AppView:
    app = await get_app(tx, app_id)
    return AppView(app, (await client_jwks.keys_of(tx, [app.id]))[app.id])


def _filter_condition(filter_text: str) -> ColumnElement[bool]:
    """``filter``: ``id``, ``status`` and ``name`` with ``eq`` (Okta's app filter subset).

    The parser is imported here, as the directory's lists do: most requests carry no filter.
    """
    from ostiary.domain.directory import filter_expr
    from ostiary.store.repositories.filter_sql import compile_filter

    eq = frozenset({"eq"})
    policy = filter_expr.AttributePolicy(
        name="filter",
        attributes={
            "id": filter_expr.AttributeRule(eq),
            "status": filter_expr.AttributeRule(eq, case="upper"),
            "name": filter_expr.AttributeRule(eq),
            "user.id": filter_expr.AttributeRule(eq),
            "group.id": filter_expr.AttributeRule(eq),
        },
    )
    columns: dict[str, Any] = {
        "id": App.id,
        "status": App.status,
        "name": App.name,
        "user.id": Custom(_assigned_to_user),
        "group.id": Custom(_assigned_to_group),
    }
    return compile_filter(filter_expr.parse_filter(filter_text, allowed=policy), lambda attr: columns[attr])


def _assigned_to_user(node: Comparison | Present) -> ColumnElement[bool]:
    """``user.id eq "…"``: apps assigned to the user directly or through a group (Everyone too)."""
    user_id = node.value if isinstance(node, Comparison) else None
    direct = select(AppUserAssignment.app_id).where(AppUserAssignment.user_id == user_id)
    groups = select(GroupMembership.group_id).where(GroupMembership.user_id == user_id)
    built_in = select(Group.id).where(Group.type == "BUILT_IN")
    through_group = select(AppGroupAssignment.app_id).where(
        or_(AppGroupAssignment.group_id.in_(groups), AppGroupAssignment.group_id.in_(built_in))
    )
    exists = select(User.id).where(User.id == user_id, User.org_id == App.org_id)
    return and_(exists.exists(), or_(App.id.in_(direct), App.id.in_(through_group)))


def _assigned_to_group(node: Comparison | Present) -> ColumnElement[bool]:
    """``group.id eq "…"``: apps assigned to the group."""
    group_id = node.value if isinstance(node, Comparison) else None
    return App.id.in_(select(AppGroupAssignment.app_id).where(AppGroupAssignment.group_id == group_id))


async def list_apps(
    tx: Tx,
    *,
    q: str | None = None,
    filter_text: str | None = None,
    after: str | None = None,
    limit: int = 20,
) -> Page[AppView]:
    stmt = select(App).where(App.org_id == tx.org_id)
    if q:
        prefix = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(App.label_lower.like(prefix, escape="\\"), App.name.like(prefix, escape="\\")))
    if filter_text:
        stmt = stmt.where(_filter_condition(filter_text))
    page = await fetch_page(tx.session, stmt, App.id, after=after, limit=limit)
    apps: list[App] = list(page.items)
    keys = await client_jwks.keys_of(tx, [a.id for a in apps])
    return Page([AppView(a, keys[a.id]) for a in apps], page.next_cursor)


async def activate_app(tx: Tx, app_id: str) -> App:
    app = await get_app(tx, app_id)
    if app.status != ACTIVE:
        _set_status(tx, app, ACTIVE)
        record(tx, "application.lifecycle.activate", "Activate application", [app_target(app)])
    return app


async def deactivate_app(tx: Tx, app_id: str) -> App:
    app = await get_app(tx, app_id)
    if app.status != INACTIVE:
        _set_status(tx, app, INACTIVE)
        record(tx, "application.lifecycle.deactivate", "Deactivate application", [app_target(app)])
    return app


def _set_status(tx: Tx, app: App, status: str) -> None:
    app.status = status
    app.last_updated = utcnow()
    invalidate_client(app.id, tx.session)


async def delete_app(tx: Tx, app_id: str) -> None:
    """Only an INACTIVE app can be deleted (Okta: E0000056, 403)."""
    app = await get_app(tx, app_id)
    if app.status == ACTIVE:
        raise Forbidden(
            "Delete application forbidden.",
            code="E0000056",
            causes=["The application must be deactivated before it can be deleted."],
        )
    await tx.session.delete(app)
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    record(tx, "application.lifecycle.delete", "Delete application", [app_target(app)])
