"""Scope consent grants (``/api/v1/apps/{appId}/grants``): which Okta scopes (``okta.*``) an
admin allowed a client to request from the org authorization server.

The client credentials grant on the org AS issues only scopes granted here; see
:func:`granted_scopes`. Grants name the org URL as ``issuer`` (Okta's
``{yourOktaDomain}``); grants for custom authorization servers are not supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.caches import caches_of
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.okta_scopes import OKTA_SCOPES
from ostiary.domain.clients.records import ACTIVE, Causes, app_target, get_app
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.store.models import AppGrant
from ostiary.store.repositories.clients import granted_scope_ids
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

ADMIN = "ADMIN"


def not_found(grant_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {grant_id} (OAuth2ScopeConsentGrant)", code="E0000007")


def _target(grant: AppGrant) -> Target:
    return Target(grant.id, "OAuth2ScopeConsentGrant", grant.scope_id, grant.scope_id)


def normalize_issuer(issuer: str) -> str:
    return issuer.rstrip("/")


async def granted_scopes_for(
    session: AsyncSession, org_id: str, client_id: str, issuer: str
) -> frozenset[str]:
    """The scopes granted (ACTIVE) to ``client_id`` for tokens of ``issuer`` (cached: token hot
    path; the entry goes whenever the client or its grants change, see ``ClientCache``)."""
    cache = caches_of(session).clients.grants
    key = (org_id, client_id, normalize_issuer(issuer))
    # One load per key at a time: when the entry expires, the requests in flight for the client
    # would otherwise each read the grants (see ``client_cache``: ``bench/footprint.py``'s 503s).
    return await cache.get_or_load(key, lambda: granted_scope_ids(session, org_id, client_id, key[2]))


class CachedScopeGrants:
    """:class:`~ostiary.domain.tokens.storage.ScopeGrants` over a session, through the
    runtime's client cache (:func:`granted_scopes_for`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def granted_scopes(self, org_id: str, client_id: str, issuer: str) -> frozenset[str]:
        return await granted_scopes_for(self.session, org_id, client_id, issuer)


async def granted_scopes(tx: Tx, client_id: str, issuer: str) -> frozenset[str]:
    return await granted_scopes_for(tx.session, tx.org_id, client_id, issuer)


async def okta_scopes_of(tx: Tx, app_id: str) -> frozenset[str]:
    """Every ``okta.*`` scope granted (ACTIVE) to the app, for any issuer; empty for no such app."""
    stmt = select(AppGrant.scope_id).where(
        AppGrant.org_id == tx.org_id, AppGrant.app_id == app_id, AppGrant.status == ACTIVE
    )
    return frozenset(scope for scope in (await tx.session.scalars(stmt)).all() if scope.startswith("okta."))


def _parse(body: Mapping[str, Any], org_url: str) -> tuple[str, str]:
    causes = Causes()
    issuer, scope_id = body.get("issuer"), body.get("scopeId")
    if not isinstance(issuer, str) or not issuer.strip():
        causes.add("issuer", "The field cannot be left blank")
    elif normalize_issuer(issuer.strip()) != normalize_issuer(org_url):
        causes.add(
            "issuer",
            f"The issuer must be the org authorization server's issuer ({normalize_issuer(org_url)}); "
            "grants for other authorization servers are not supported",
        )
    if not isinstance(scope_id, str) or not scope_id.strip():
        causes.add("scopeId", "The field cannot be left blank")
    elif scope_id not in OKTA_SCOPES:
        causes.add("scopeId", f"'{scope_id}' is not a valid Okta scope")
    causes.raise_if_any()
    assert isinstance(scope_id, str)
    return normalize_issuer(org_url), scope_id


async def grant_scope(tx: Tx, app_id: str, body: Mapping[str, Any], *, org_url: str) -> AppGrant:
    """Grant an ``okta.*`` scope; granting one that is already granted returns that grant."""
    app = await get_app(tx, app_id)
    issuer, scope_id = _parse(body, org_url)
    stmt = select(AppGrant).where(
        AppGrant.org_id == tx.org_id,
        AppGrant.app_id == app.id,
        AppGrant.issuer == issuer,
        AppGrant.scope_id == scope_id,
    )
    existing = (await tx.session.scalars(stmt)).first()
    if existing is not None:
        return existing
    now = utcnow()
    grant = AppGrant(
        id=ids.new_id(ids.GRANT),
        org_id=tx.org_id,
        app_id=app.id,
        issuer=issuer,
        scope_id=scope_id,
        status=ACTIVE,
        source=ADMIN,
        created_by=tx.actor.id,
        created_by_type=tx.actor.type,
        created=now,
        last_updated=now,
    )
    tx.session.add(grant)
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    record(tx, "app.oauth2.as.consent.grant", "Grant consent to scope", [app_target(app), _target(grant)])
    return grant


async def list_grants(tx: Tx, app_id: str, *, after: str | None, limit: int) -> Page[AppGrant]:
    app = await get_app(tx, app_id)
    stmt = select(AppGrant).where(AppGrant.org_id == tx.org_id, AppGrant.app_id == app.id)
    return await fetch_page(tx.session, stmt, AppGrant.id, after=after, limit=limit)


async def get_grant(tx: Tx, app_id: str, grant_id: str) -> AppGrant:
    app = await get_app(tx, app_id)
    stmt = select(AppGrant).where(
        AppGrant.org_id == tx.org_id, AppGrant.app_id == app.id, AppGrant.id == grant_id
    )
    grant = (await tx.session.scalars(stmt)).first()
    if grant is None:
        raise not_found(grant_id)
    return grant


async def revoke_grant(tx: Tx, app_id: str, grant_id: str) -> None:
    grant = await get_grant(tx, app_id, grant_id)
    app = await get_app(tx, app_id)
    await tx.session.delete(grant)
    invalidate_client(app.id, tx.session)
    record(tx, "app.oauth2.as.consent.revoke", "Revoke consent to scope", [app_target(app), _target(grant)])
