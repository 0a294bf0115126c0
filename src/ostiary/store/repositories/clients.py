"""An app with its active credentials, as client authentication needs it (turned into the
cached ``domain.clients.client_cache.Client`` by the domain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models import App, AppGrant, AppJwk, ClientSecret

ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class AppCredentials:
    app: App
    secrets: Sequence[ClientSecret]
    """The ACTIVE secrets, by id."""
    jwks: Sequence[AppJwk]
    """The ACTIVE public keys, by id."""


async def app_with_credentials(session: AsyncSession, org_id: str, client_id: str) -> AppCredentials | None:
    app = (await session.scalars(select(App).where(App.org_id == org_id, App.id == client_id))).first()
    if app is None:
        return None
    secrets = await session.scalars(
        select(ClientSecret)
        .where(ClientSecret.app_id == app.id, ClientSecret.status == ACTIVE)
        .order_by(ClientSecret.id)
    )
    jwks = await session.scalars(
        select(AppJwk).where(AppJwk.app_id == app.id, AppJwk.status == ACTIVE).order_by(AppJwk.id)
    )
    return AppCredentials(app, secrets.all(), jwks.all())


async def granted_scope_ids(
    session: AsyncSession, org_id: str, client_id: str, issuer: str
) -> frozenset[str]:
    """The scopes granted (ACTIVE) to ``client_id`` for tokens of ``issuer``
    (``/api/v1/apps/{appId}/grants``)."""
    stmt = select(AppGrant.scope_id).where(
        AppGrant.org_id == org_id,
        AppGrant.app_id == client_id,
        AppGrant.issuer == issuer,
        AppGrant.status == ACTIVE,
    )
    return frozenset((await session.scalars(stmt)).all())
