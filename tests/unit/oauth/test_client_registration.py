"""``/oauth2/v1/clients`` (RFC 7591/7592 as Okta serves it): a registered client is an app."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Server
from tests.support.oauth import basic, service_client

WEB = {
    "client_name": "Example web",
    "application_type": "web",
    "redirect_uris": ["https://app.example.com/cb"],
    "response_types": ["code"],
    "grant_types": ["authorization_code"],
    "token_endpoint_auth_method": "client_secret_post",
    "client_uri": "https://app.example.com",
}


async def _register(admin: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await admin.post("/oauth2/v1/clients", json={**WEB, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _app_count(admin: httpx.AsyncClient) -> int:
    return len((await admin.get("/api/v1/apps")).json())


async def test_register_answers_the_client_with_its_secret_and_is_an_app(admin: httpx.AsyncClient) -> None:
    client = await _register(admin)
    assert client["client_name"] == "Example web"
    assert client["redirect_uris"] == ["https://app.example.com/cb"]
    assert client["token_endpoint_auth_method"] == "client_secret_post"
    assert client["client_uri"] == "https://app.example.com"
    assert client["client_secret"] and client["client_secret_expires_at"] == 0
    app = (await admin.get(f"/api/v1/apps/{client['client_id']}")).json()
    assert app["label"] == "Example web"
    assert app["settings"]["oauthClient"]["consent_method"] == "REQUIRED"
    fetched = (await admin.get(f"/oauth2/v1/clients/{client['client_id']}")).json()
    assert "client_secret" not in fetched and fetched["client_name"] == "Example web"


async def test_registered_service_client_gets_tokens_with_its_secret(admin: httpx.AsyncClient) -> None:
    client = await _register(
        admin,
        client_name="svc",
        application_type="service",
        grant_types=["client_credentials"],
        response_types=["token"],
        redirect_uris=[],
        token_endpoint_auth_method="client_secret_basic",
    )
    granted = await admin.post(
        f"/api/v1/apps/{client['client_id']}/grants",
        json={"issuer": "http://localhost:8080", "scopeId": "okta.users.read"},
    )
    assert granted.status_code == 201, granted.text
    token = await admin.post(
        "/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        headers=basic(client["client_id"], client["client_secret"]),
    )
    assert token.status_code == 200, token.text


async def test_bad_metadata_is_an_oauth_error_and_creates_nothing(admin: httpx.AsyncClient) -> None:
    before = await _app_count(admin)
    cases = [
        ({**WEB, "client_name": " "}, "invalid_client_metadata"),
        ({**WEB, "redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({**WEB, "redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({**WEB, "grant_types": ["no_such_grant"]}, "invalid_client_metadata"),
        ({**WEB, "client_secret": "mine"}, "invalid_client_metadata"),
        ({**WEB, "application_type": "toaster"}, "invalid_client_metadata"),
    ]
    for body, error in cases:
        response = await admin.post("/oauth2/v1/clients", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] == error, (body, response.text)
        assert response.json()["error_description"]
    json_type = {"Content-Type": "application/json"}
    not_json = await admin.post("/oauth2/v1/clients", content=b"[1]", headers=json_type)
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_client_metadata"
    assert await _app_count(admin) == before


async def test_list_with_q_limit_and_after(admin: httpx.AsyncClient) -> None:
    for name in ("alpha one", "alpha two", "beta"):
        await _register(admin, client_name=name)
    listed = await admin.get("/oauth2/v1/clients", params={"q": "alpha"})
    assert sorted(c["client_name"] for c in listed.json()) == ["alpha one", "alpha two"]
    assert all("client_secret" not in c for c in listed.json())
    first = await admin.get("/oauth2/v1/clients", params={"limit": 1})
    assert len(first.json()) == 1 and 'rel="next"' in first.headers["link"]
    nxt = first.links["next"]["url"]
    second = await admin.get(nxt)
    assert len(second.json()) == 1 and second.json()[0]["client_id"] != first.json()[0]["client_id"]


async def test_replace_changes_the_app_and_refuses_bad_metadata(admin: httpx.AsyncClient) -> None:
    client = await _register(admin)
    url = f"/oauth2/v1/clients/{client['client_id']}"
    new = {**WEB, "client_name": "Renamed", "redirect_uris": ["https://app.example.com/other"]}
    replaced = await admin.put(url, json=new)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["redirect_uris"] == ["https://app.example.com/other"]
    assert (await admin.get(f"/api/v1/apps/{client['client_id']}")).json()["label"] == "Renamed"
    bad = await admin.put(url, json={**new, "redirect_uris": ["not a uri"]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_redirect_uri"
    assert (await admin.get(url)).json()["redirect_uris"] == ["https://app.example.com/other"]
    other_id = await admin.put(url, json={**new, "client_id": "someone-else"})
    assert other_id.status_code == 400 and other_id.json()["error"] == "invalid_client_metadata"
    missing = await admin.put("/oauth2/v1/clients/0oanope", json=new)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"


async def test_new_secret_replaces_the_old_one(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, old = await service_client(admin, "okta.users.read")
    rotated = await admin.post(f"/oauth2/v1/clients/{client_id}/lifecycle/newSecret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["client_secret"]
    assert new and new != old
    async with server.client() as anon:
        form = {"grant_type": "client_credentials", "scope": "okta.users.read"}
        refused = await anon.post("/oauth2/v1/token", data=form, headers=basic(client_id, old))
        accepted = await anon.post("/oauth2/v1/token", data=form, headers=basic(client_id, new))
    assert refused.status_code == 401 and accepted.status_code == 200, (refused.text, accepted.text)


async def test_new_secret_for_a_public_client_is_refused(admin: httpx.AsyncClient) -> None:
    client = await _register(
        admin, application_type="browser", token_endpoint_auth_method="none", client_name="spa"
    )
    response = await admin.post(f"/oauth2/v1/clients/{client['client_id']}/lifecycle/newSecret")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_delete_removes_the_app(admin: httpx.AsyncClient) -> None:
    client = await _register(admin)
    deleted = await admin.delete(f"/oauth2/v1/clients/{client['client_id']}")
    assert deleted.status_code == 204
    assert (await admin.get(f"/api/v1/apps/{client['client_id']}")).status_code == 404
    again = await admin.delete(f"/oauth2/v1/clients/{client['client_id']}")
    assert again.status_code == 404


async def test_scopes_of_a_service_app_gate_the_operations(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await service_client(admin, "okta.clients.read")
    async with server.client() as anon:
        token = await anon.post(
            "/oauth2/v1/token",
            data={"grant_type": "client_credentials", "scope": "okta.clients.read"},
            headers=basic(client_id, secret),
        )
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        listed = await anon.get("/oauth2/v1/clients", headers=bearer)
        created = await anon.post("/oauth2/v1/clients", json=WEB, headers=bearer)
        nobody = await anon.get("/oauth2/v1/clients")
    assert listed.status_code == 200, listed.text
    assert created.status_code == 403, created.text
    assert nobody.status_code in (401, 403) and "errorCode" in nobody.json()
