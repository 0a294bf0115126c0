"""A refresh-token scenario: a web client, a user, an access policy, rotation settings."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update

from ostiary.domain.tokens import refresh_tokens
from ostiary.domain.tokens.grants.refresh_token import INVALID_TOKEN
from ostiary.store.models.refresh_tokens import RefreshToken
from ostiary.store.repositories import orgs
from ostiary.store.repositories.refresh_tokens import SqlRefreshTokens
from tests.conftest import Server
from tests.support.apps import create_app, oidc_app
from tests.support.oauth import basic
from tests.support.users import create as create_user

AUTH_TIME = int(time.time()) - 120


ORIGINAL_SCOPES = ("openid", "profile", "offline_access")


ROTATE_NO_GRACE = {"rotation_type": "ROTATE", "leeway": 0}


ROTATE_WITH_GRACE = {"rotation_type": "ROTATE", "leeway": 30}


@dataclass
class Scenario:
    server: Server
    admin: httpx.AsyncClient
    client_id: str
    secret: str
    user_id: str

    async def issue(
        self,
        *,
        server_id: str = "default",
        scopes: Sequence[str] = ORIGINAL_SCOPES,
        lifetime: int | None = None,
        window: int | None = 10080,
        client_id: str | None = None,
    ) -> str:
        async with self.server.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            issued = await refresh_tokens.issue_refresh_token(
                SqlRefreshTokens(session),
                org_id=org.id,
                server_id=server_id,
                client_id=client_id or self.client_id,
                user_id=self.user_id,
                scopes=scopes,
                auth_time=AUTH_TIME,
                lifetime_minutes=lifetime,
                window_minutes=window,
            )
            return issued.secret

    async def refresh(
        self,
        token: str,
        *,
        scope: str | None = None,
        server_id: str = "default",
        client: tuple[str, str] | None = None,
    ) -> httpx.Response:
        client_id, secret = client or (self.client_id, self.secret)
        data = {"grant_type": "refresh_token", "refresh_token": token}
        if scope is not None:
            data["scope"] = scope
        path = "/oauth2/v1/token" if server_id == "$org" else f"/oauth2/{server_id}/v1/token"
        async with self.server.client() as anon:
            return await anon.post(path, data=data, headers=basic(client_id, secret))

    async def post(self, endpoint: str, token: str, client: tuple[str, str] | None = None) -> httpx.Response:
        client_id, secret = client or (self.client_id, self.secret)
        async with self.server.client() as anon:
            return await anon.post(
                f"/oauth2/default/v1/{endpoint}", data={"token": token}, headers=basic(client_id, secret)
            )

    async def row(self, token: str) -> RefreshToken:
        async with self.server.rt.db.session() as session:
            found = await session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == refresh_tokens.digest(token))
            )
        assert found is not None
        return found

    async def family(self, token: str) -> list[RefreshToken]:
        family_id = (await self.row(token)).family_id
        async with self.server.rt.db.session() as session:
            rows = await session.scalars(
                select(RefreshToken).where(RefreshToken.family_id == family_id).order_by(RefreshToken.created)
            )
            return list(rows)

    async def set_times(self, token: str, **values: Any) -> None:
        token_hash = refresh_tokens.digest(token)
        async with self.server.rt.db.session() as session:
            await session.execute(
                update(RefreshToken).where(RefreshToken.token_hash == token_hash).values(**values)
            )


async def web_client(
    admin: httpx.AsyncClient,
    *,
    rotation: dict[str, Any] | None = None,
    grants: Sequence[str] = ("authorization_code", "refresh_token"),
    label: str = "Web",
) -> tuple[str, str]:
    extra = {"refresh_token": rotation} if rotation is not None else {}
    app = await create_app(admin, oidc_app("web", grants=list(grants), label=label, **extra))
    oauth = app["credentials"]["oauthClient"]
    return oauth["client_id"], oauth["client_secret"]


async def assign(admin: httpx.AsyncClient, client_id: str, user_id: str) -> None:
    response = await admin.post(f"/api/v1/apps/{client_id}/users", json={"id": user_id, "scope": "USER"})
    assert response.status_code == 200, response.text


async def scenario(
    admin: httpx.AsyncClient, server: Server, *, rotation: dict[str, Any] | None = None, **app: Any
) -> Scenario:
    client_id, secret = await web_client(admin, rotation=rotation, **app)
    user = await create_user(admin)
    assert user.status_code == 200, user.text
    await assign(admin, client_id, user.json()["id"])
    return Scenario(server, admin, client_id, secret, user.json()["id"])


def assert_invalid_grant(response: httpx.Response, description: str = INVALID_TOKEN) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_grant", "error_description": description}
