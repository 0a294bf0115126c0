"""F19 (info): an app's informational URIs (``logo_uri``, ``client_uri``, ``policy_uri``,
``tos_uri``, ``initiate_login_uri``, ...) must be http(s). ``javascript:`` and ``data:`` were
stored and echoed by the apps API, ready for any console or portal that renders them as links.
Redirect URIs keep their own rules (custom schemes stay allowed for native apps)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.apps import APPS, causes, count_apps, create_app, oidc_app
from tests.support.authorization_servers import assert_okta_error

FIELDS = ["logo_uri", "client_uri", "policy_uri", "tos_uri", "initiate_login_uri"]
BAD = [
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "ftp://x.example/a",
    "/relative",
    "https://",
]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("field", FIELDS)
async def test_a_non_http_uri_is_refused_on_create(admin: httpx.AsyncClient, field: str, value: str) -> None:
    before = await count_apps(admin)
    response = await admin.post(APPS, json=oidc_app(**{field: value}))
    assert_okta_error(response, 400, "E0000001")
    assert any(field in cause and "http" in cause for cause in causes(response))
    assert await count_apps(admin) == before


async def test_a_non_http_uri_is_refused_on_replace(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, oidc_app(logo_uri="https://cdn.example.com/logo.png"))
    response = await admin.put(f"{APPS}/{app['id']}", json=oidc_app(logo_uri="javascript:alert(1)"))
    assert_okta_error(response, 400, "E0000001")
    stored = (await admin.get(f"{APPS}/{app['id']}")).json()
    assert stored["settings"]["oauthClient"]["logo_uri"] == "https://cdn.example.com/logo.png"


@pytest.mark.parametrize("field", FIELDS)
async def test_http_and_https_uris_are_kept(admin: httpx.AsyncClient, field: str) -> None:
    app = await create_app(admin, oidc_app(**{field: "https://app.example.com/x?y=1"}))
    assert app["settings"]["oauthClient"][field] == "https://app.example.com/x?y=1"
    app = await create_app(admin, oidc_app(**{field: "http://localhost:3000/x"}))
    assert app["settings"]["oauthClient"][field] == "http://localhost:3000/x"


async def test_native_apps_keep_custom_redirect_schemes(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, oidc_app("native", method="none", credentials={"pkce_required": True}))
    assert app["settings"]["oauthClient"]["redirect_uris"] == ["com.example.app:/callback"]
