"""The access gateway's ASGI app in process: routing by ``Host``, the proxy's catalog and its
invalidation on admin writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.types import Receive, Scope, Send

from ostiary.access_gateway.admin import repository, schemas
from ostiary.access_gateway.admin.api_clients import create_api_client
from ostiary.access_gateway.admin.catalog import StoreAppCatalog
from ostiary.access_gateway.bootstrap import prepare
from ostiary.access_gateway.runtime import GatewayRuntime, make_config, open_runtime
from ostiary.access_gateway.server import build_app
from ostiary.access_gateway.store import tables

ADMIN = "http://localhost:8090"


class FakeProxy:
    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope["headers"])[b"host"].decode()
        self.hosts.append(host)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"proxied"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[GatewayRuntime]:
    database_url = None
    if request.param == "postgres":
        if postgres_database is None:
            pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
        database_url = postgres_database
    rt = open_runtime(make_config(port=8090, data_dir=tmp_path, database_url=database_url))
    await prepare(rt)
    async with rt.engine.begin() as conn:  # PostgreSQL tests share one database
        await conn.execute(tables.app_parts.delete())
        await conn.execute(tables.apps.delete())
        await conn.execute(tables.idps.delete())
    try:
        yield rt
    finally:
        await rt.close()


async def add_app(runtime: GatewayRuntime, public_domain: str, status: str = "ACTIVE") -> str:
    app_id, idp_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with runtime.engine.begin() as conn:
        await conn.execute(
            tables.idps.insert().values(
                id=idp_id,
                type="IDP_OKTA",
                name="org",
                description="",
                domain=f"http://org-{idp_id[:8]}.localhost:8080",
                api_token_encrypted=runtime.secrets.seal("00token", "idps", idp_id),
                created=0,
            )
        )
        await repository.insert_app(
            conn,
            {
                "id": app_id,
                "label": f"App {public_domain}",
                "public_domain": public_domain,
                "status": status,
                "idp_id": idp_id,
                "document": {**schemas.APP_DEFAULTS, "name": "app", "type": "OAG_HEADER_BASED"},
                "session": schemas.SESSION_DEFAULTS,
                "behavior": schemas.BEHAVIOR_DEFAULTS,
                "health_check": schemas.HEALTH_CHECK_DEFAULTS,
                "org_app_id": "0oa1",
                "org_client_secret_encrypted": runtime.secrets.seal("0oaclient\nsecret", "apps", app_id),
                "created": 0,
            },
        )
        await repository.insert_part(
            conn,
            app_id,
            repository.RESOURCE,
            str(uuid.uuid4()),
            {"hostname": "http://127.0.0.1:9", "assignedWeight": 1, "active": True},
        )
    runtime.changed()
    return app_id


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ADMIN)


async def test_requests_go_to_the_admin_app_the_proxy_or_a_404_by_host(runtime: GatewayRuntime) -> None:
    await add_app(runtime, "legacy.localhost")
    proxy = FakeProxy()
    async with client_for(build_app(runtime, proxy_app=proxy)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/", headers={"Host": "legacy.localhost:8090"})).text == "proxied"
        assert (await http.get("/", headers={"Host": "LEGACY.localhost"})).text == "proxied"
        other = await http.get("/", headers={"Host": "other.localhost:8090"})
        assert other.status_code == 404 and other.json()["errorCode"] == "NOT_FOUND"
        unknown_admin_path = await http.get("/nothing-here")
        assert unknown_admin_path.status_code == 404 and unknown_admin_path.json()["errorCode"] == "NOT_FOUND"
    assert proxy.hosts == ["legacy.localhost:8090", "LEGACY.localhost"]


async def test_without_a_proxy_an_apps_host_is_a_404(runtime: GatewayRuntime) -> None:
    await add_app(runtime, "legacy.localhost")
    async with client_for(build_app(runtime)) as http:
        response = await http.get("/", headers={"Host": "legacy.localhost:8090"})
    assert response.status_code == 404
    assert response.json()["errorCode"] == "NOT_FOUND"


async def test_the_catalog_returns_the_expanded_app_and_its_oidc_client(runtime: GatewayRuntime) -> None:
    app_id = await add_app(runtime, "legacy.localhost")
    document = await StoreAppCatalog(runtime).app_for_host("legacy.localhost:8090")
    assert document is not None
    assert document["id"] == app_id and document["status"] == "ACTIVE"
    assert set(document["_embedded"]) == {
        "healthCheck",
        "behavior",
        "session",
        "protectedResources",
        "policies",
        "attributes",
    }
    assert document["_embedded"]["protectedResources"][0]["calculatedWeight"] == 1
    oidc = document["ostiaryOidc"]
    assert oidc["clientId"] == "0oaclient" and oidc["clientSecret"] == "secret"
    assert oidc["redirectUri"] == "http://legacy.localhost:8090/_ostiary/callback"
    assert oidc["orgUrl"].startswith("http://org-")


async def test_a_deactivation_through_the_api_is_seen_by_the_catalog_at_once(runtime: GatewayRuntime) -> None:
    app_id = await add_app(runtime, "legacy.localhost")
    catalog = StoreAppCatalog(runtime, ttl=3600)
    client = await create_api_client(runtime, "t")
    assert (await catalog.app_for_host("legacy.localhost"))["status"] == "ACTIVE"  # type: ignore[index]
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client["client_id"],
            "sub": client["client_id"],
            "aud": ADMIN,
            "exp": now + 60,
            "iat": now,
            "scope": "okta.oag.app.manage",
        },
        client["private_key_pem"],
        algorithm="RS256",
    )
    async with client_for(build_app(runtime, catalog=catalog)) as http:
        token = await http.post(
            "/api/v2/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": "okta.oag.app.manage",
            },
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = await http.post(f"/api/v2/apps/{app_id}/deactivate", headers=bearer)
        assert response.status_code == 200, response.text
    assert (await catalog.app_for_host("legacy.localhost"))["status"] == "INACTIVE"  # type: ignore[index]


async def test_migrations_are_idempotent(runtime: GatewayRuntime) -> None:
    await prepare(runtime)
    async with runtime.engine.connect() as conn:
        assert await repository.list_apps(conn) == []
