"""Installs of API service integrations (``/integrations/api/v1/api-services``).

An install is a service app of the org (``client_credentials`` only, ``client_secret_basic``)
whose id is the install's id and client id, granted the chosen ``okta.*`` scopes on the org
authorization server. It keeps a snapshot of the entry (name, guide, logo) as installed.

Uninstalling deletes the app with its grants and secrets, whatever its status: its
credentials are refused at once and every token it holds stops working (the token checks
require an active client, see ``tokens.verification.active_parties``).

The system log gets Okta's event types: ``application.lifecycle.create`` and ``.activate`` and
``app.oauth2.as.consent.grant`` (one per scope) and ``app.oauth2.credentials.secret.create`` on
install; ``app.oauth2.credentials.secret.*`` for the secrets; ``app.oauth2.as.consent.revoke``,
``application.lifecycle.deactivate`` and ``.delete`` on uninstall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from ostiary.domain.clients import apps, client_secrets, scope_grants
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.records import ACTIVE, INACTIVE, Causes, get_app
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.domain.integrations import catalog
from ostiary.domain.integrations.entries import check_install_properties
from ostiary.store.models import AppGrant, ClientSecret
from ostiary.store.models.integrations import ApiServiceInstall
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

INSTALL_FIELDS: Final = frozenset({"type", "grantedScopes", "properties"})


@dataclass(frozen=True)
class Install:
    id: str
    type: str
    name: str
    config_guide_url: str | None
    logo_url: str | None
    granted_scopes: tuple[str, ...]
    properties: Mapping[str, str] | None
    created_by: str
    created: datetime
    client_secret: str | None = None  # only in the response that creates it


@dataclass(frozen=True)
class Secret:
    id: str
    install_id: str
    status: str
    hint: str
    digest: str
    created: datetime
    last_updated: datetime
    plaintext: str | None = None  # only in the response that creates it


def _install(
    row: ApiServiceInstall, secret: str | None = None, live: frozenset[str] | None = None
) -> Install:
    """``live``: the scopes granted now (an admin may have revoked or added grants through
    ``/api/v1/apps/{id}/grants``); the install's own order first."""
    scopes = tuple(row.granted_scopes)
    if live is not None:
        scopes = tuple(s for s in scopes if s in live) + tuple(sorted(live - set(scopes)))
    return Install(
        id=row.id,
        type=row.type,
        name=row.name,
        config_guide_url=row.config_guide_url,
        logo_url=row.logo_url,
        granted_scopes=scopes,
        properties=row.properties,
        created_by=row.created_by,
        created=row.created,
        client_secret=secret,
    )


def _secret(row: ClientSecret, plaintext: str | None = None) -> Secret:
    return Secret(
        id=row.id,
        install_id=row.app_id,
        status=row.status,
        hint=row.secret_hint,
        digest=row.secret_hash,
        created=row.created,
        last_updated=row.last_updated,
        plaintext=plaintext,
    )


def not_found(install_id: str) -> NotFound:
    return NotFound(
        f"Not found: Resource not found: {install_id} (ApiServiceIntegrationInstance)", code="E0000007"
    )


def _service_app_body(name: str) -> dict[str, Any]:
    return {
        "name": "oidc_client",
        "label": name,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
            }
        },
    }


async def install(tx: Tx, body: Mapping[str, Any], *, org_url: str) -> Install:
    """POST /integrations/api/v1/api-services: ``{"type", "grantedScopes", "properties"?}``."""
    causes = Causes()
    for key in sorted(set(body) - INSTALL_FIELDS):
        causes.add(str(key), "is not a property of an API service integration instance")
    entry_type, scopes = body.get("type"), body.get("grantedScopes")
    entry = await catalog.installable(tx, entry_type) if isinstance(entry_type, str) and entry_type else None
    if not isinstance(entry_type, str) or not entry_type:
        causes.add("type", "The field cannot be left blank")
    elif entry is None:
        causes.add("type", f"No API service integration of type '{entry_type}' is available to this org")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        causes.add("grantedScopes", "must be a non-empty list of scopes")
    elif entry is not None:
        for scope in scopes:
            if scope not in entry.scopes:
                causes.add("grantedScopes", f"'{scope}' is not a scope of the integration '{entry.type}'")
    causes.raise_if_any()
    assert entry is not None and isinstance(scopes, list)
    properties = check_install_properties(entry.properties, body.get("properties"))
    view = await apps.create_app(tx, _service_app_body(entry.name))
    for scope in dict.fromkeys(scopes):
        await scope_grants.grant_scope(
            tx, view.app.id, {"issuer": org_url, "scopeId": scope}, org_url=org_url
        )
    row = ApiServiceInstall(
        id=view.app.id,
        org_id=tx.org_id,
        type=entry.type,
        name=entry.name,
        config_guide_url=entry.config_guide_url,
        logo_url=entry.logo_url,
        granted_scopes=list(dict.fromkeys(scopes)),
        properties=properties,
        created_by=tx.actor.id,
        created=utcnow(),
    )
    tx.session.add(row)
    await tx.session.flush()
    return _install(row, view.new_secret)


async def _row(tx: Tx, install_id: str) -> ApiServiceInstall:
    stmt = select(ApiServiceInstall).where(
        ApiServiceInstall.org_id == tx.org_id, ApiServiceInstall.id == install_id
    )
    row = (await tx.session.scalars(stmt)).first()
    if row is None:
        raise not_found(install_id)
    return row


async def _live_scopes(tx: Tx, install_ids: list[str]) -> dict[str, frozenset[str]]:
    """The ``okta.*`` scopes granted (ACTIVE) to each install's app now."""
    stmt = select(AppGrant.app_id, AppGrant.scope_id).where(
        AppGrant.org_id == tx.org_id, AppGrant.app_id.in_(install_ids), AppGrant.status == ACTIVE
    )
    found: dict[str, set[str]] = {install_id: set() for install_id in install_ids}
    for app_id, scope in (await tx.session.execute(stmt)).all():
        found[app_id].add(scope)
    return {install_id: frozenset(scopes) for install_id, scopes in found.items()}


async def list_installs(tx: Tx, *, after: str | None, limit: int) -> Page[Install]:
    stmt = select(ApiServiceInstall).where(ApiServiceInstall.org_id == tx.org_id)
    page = await fetch_page(tx.session, stmt, ApiServiceInstall.id, after=after, limit=limit)
    live = await _live_scopes(tx, [row.id for row in page.items])
    return Page([_install(row, live=live[row.id]) for row in page.items], page.next_cursor)


async def get_install(tx: Tx, install_id: str) -> Install:
    row = await _row(tx, install_id)
    return _install(row, live=(await _live_scopes(tx, [row.id]))[row.id])


async def uninstall(tx: Tx, install_id: str) -> None:
    """Delete the install and its app (grants and secrets go with it), active or not."""
    row = await _row(tx, install_id)
    app = await get_app(tx, row.id)
    granted = (await tx.session.scalars(select(AppGrant).where(AppGrant.app_id == app.id))).all()
    for grant in granted:
        await scope_grants.revoke_grant(tx, app.id, grant.id)
    if app.status == ACTIVE:
        await apps.deactivate_app(tx, app.id)
    await tx.session.delete(row)
    await tx.session.flush()
    await apps.delete_app(tx, app.id)
    invalidate_client(app.id, tx.session)


# --- secrets --------------------------------------------------------------------------------


async def list_secrets(tx: Tx, install_id: str) -> list[Secret]:
    row = await _row(tx, install_id)
    return [_secret(s) for s in await client_secrets.secrets_of(tx, row.id)]


async def create_secret(tx: Tx, install_id: str) -> Secret:
    """A new ACTIVE secret; a third is refused (E0000001, 400)."""
    row = await _row(tx, install_id)
    app = await get_app(tx, row.id)
    secret, plaintext = await client_secrets.add_secret(tx, app)
    return _secret(secret, plaintext)


async def activate_secret(tx: Tx, install_id: str, secret_id: str) -> Secret:
    row = await _row(tx, install_id)
    return _secret(await client_secrets.activate_secret(tx, row.id, secret_id))


async def deactivate_secret(tx: Tx, install_id: str, secret_id: str) -> Secret:
    """The last active secret cannot be deactivated (E0000001, 400)."""
    row = await _row(tx, install_id)
    return _secret(await client_secrets.deactivate_secret(tx, row.id, secret_id))


async def delete_secret(tx: Tx, install_id: str, secret_id: str) -> None:
    """Only an INACTIVE secret can be deleted (an active one is E0000001, 400)."""
    row = await _row(tx, install_id)
    await client_secrets.delete_secret(tx, row.id, secret_id)


__all__ = [
    "ACTIVE",
    "INACTIVE",
    "Install",
    "Secret",
    "activate_secret",
    "create_secret",
    "deactivate_secret",
    "delete_secret",
    "get_install",
    "install",
    "list_installs",
    "list_secrets",
    "uninstall",
]
