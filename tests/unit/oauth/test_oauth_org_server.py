"""The org authorization server: client_credentials for okta.* scopes, Bearer access to the
management API, introspection (RFC 7662), revocation (RFC 7009), keys and discovery."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.conftest import Server
from tests.support.oauth import ORG, assertion, basic, client_token, key_client, service_client


@pytest.fixture
async def anon(server: Server) -> httpx.AsyncClient:
    async with server.client() as client:
        yield client  # type: ignore[misc]


async def test_client_credentials_with_basic_gives_an_org_token(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id, secret = await service_client(any_admin, "okta.users.read")
    async with any_server.client() as anon:
        response = await client_token(anon, client_id, secret, "okta.users.read")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "okta.users.read")
    header = jwt.get_unverified_header(body["access_token"])
    assert set(header) == {"kid", "alg"} and header["alg"] == "RS256"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ORG and claims["aud"] == ORG
    assert claims["sub"] == claims["cid"] == client_id
    assert claims["scp"] == ["okta.users.read"]
    assert claims["jti"].startswith("AT.") and claims["ver"] == 1
    assert claims["iat"] <= time.time() < claims["exp"]


async def test_client_secret_post_and_query_string_parameters(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read", method="client_secret_post")
    posted = await anon.post(
        "/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "scope": "okta.users.read",
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert posted.status_code == 200, posted.text
    in_query = await anon.post(
        "/oauth2/v1/token",
        params={"grant_type": "client_credentials", "scope": "okta.users.read"},
        data={"client_id": client_id, "client_secret": secret},
    )
    assert in_query.status_code == 200, in_query.text


async def test_bearer_token_reads_users_but_may_not_create(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/v1/users", headers=headers)).status_code == 200
    created = await anon.post(
        "/api/v1/users",
        headers=headers,
        json={
            "profile": {
                "login": "x.y@example.com",
                "email": "x.y@example.com",
                "firstName": "X",
                "lastName": "Y",
            }
        },
    )
    assert created.status_code == 403
    assert created.json()["errorCode"] == "E0000006"
    assert 'error="insufficient_scope"' in created.headers["www-authenticate"]
    assert (await admin.get("/api/v1/users")).json() == []


async def test_manage_scope_includes_read(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    client_id, secret = await service_client(admin, "okta.groups.manage")
    token = (await client_token(anon, client_id, secret, "okta.groups.manage")).json()["access_token"]
    assert (await anon.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_bearer_without_a_space_is_accepted(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
    spaced = await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    unspaced = await anon.get("/api/v1/users", headers={"Authorization": f"Bearer{token}"})
    assert unspaced.status_code == 200, unspaced.text
    assert unspaced.json() == spaced.json()  # the same token, read the same way


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        ("okta.users.manage", "invalid_scope"),  # not granted
        ("", "invalid_scope"),
        ("okta.nonsense.read", "invalid_scope"),
        ("openid", "invalid_scope"),
    ],
)
async def test_scopes_must_be_granted_okta_scopes(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient, scope: str, error: str
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    response = await client_token(anon, client_id, secret, scope)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_wrong_secret_is_invalid_client_with_basic_challenge(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, _secret = await service_client(admin, "okta.users.read")
    response = await client_token(anon, client_id, "wrong", "okta.users.read")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")


async def test_unknown_client_is_invalid_client(anon: httpx.AsyncClient) -> None:
    response = await client_token(anon, "0oaunknownunknown123", "x", "okta.users.read")
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_missing_and_unsupported_grant_types(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    missing = await anon.post("/oauth2/v1/token", data={"scope": "x"}, headers=basic(client_id, secret))
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    odd = await anon.post("/oauth2/v1/token", data={"grant_type": "magic"}, headers=basic(client_id, secret))
    assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")


async def test_a_web_app_may_not_use_client_credentials(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    from tests.support.apps import create_app, oidc_app

    app = await create_app(admin, oidc_app("web"))
    creds = app["credentials"]["oauthClient"]
    response = await client_token(anon, creds["client_id"], creds["client_secret"], "okta.users.read")
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


async def test_non_form_body_is_invalid_request(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/oauth2/v1/token", json={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_private_key_jwt_assertion(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    form = {
        "grant_type": "client_credentials",
        "scope": "okta.users.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(client_id, key, kid),
    }
    first = await anon.post("/oauth2/v1/token", data=form)
    assert first.status_code == 200, first.text
    replay = await anon.post("/oauth2/v1/token", data=form)
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")


async def test_an_assertion_used_in_a_failed_request_cannot_be_replayed(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    form = {
        "grant_type": "client_credentials",
        "scope": "okta.users.manage",  # not granted: the grant fails after authentication
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(client_id, key, kid),
    }
    assert (await anon.post("/oauth2/v1/token", data=form)).json()["error"] == "invalid_scope"
    form["scope"] = "okta.users.read"
    assert (await anon.post("/oauth2/v1/token", data=form)).json()["error"] == "invalid_client"


async def introspect(anon: httpx.AsyncClient, client_id: str, secret: str, token: str) -> dict[str, object]:
    response = await anon.post(
        "/oauth2/v1/introspect", data={"token": token}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_introspection_of_valid_tampered_and_unknown_tokens(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id, secret = await service_client(any_admin, "okta.users.read")
    async with any_server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
        active = await introspect(anon, client_id, secret, token)
        assert active["active"] is True
        assert active["client_id"] == client_id
        assert active["scope"] == "okta.users.read"
        assert active["iss"] == ORG and active["token_type"] == "Bearer"
        header, payload, signature = token.split(".")
        assert await introspect(anon, client_id, secret, f"{header}.{payload}.{signature[:-4]}AAAA") == {
            "active": False
        }
        assert await introspect(anon, client_id, secret, "not-a-token") == {"active": False}


async def test_a_token_of_another_server_is_inactive_here(server: Server, admin: httpx.AsyncClient) -> None:
    from ostiary.domain.authz import server_lookup
    from ostiary.domain.tokens.access_tokens import access_token_claims

    client_id, secret = await service_client(admin, "okta.users.read")
    oid = (await server.rt.org_for_host("localhost:8080")).id
    ring = await server.rt.rings.ring(oid, server_lookup.DEFAULT_SERVER_ID)
    claims = access_token_claims(
        issuer=f"{ORG}/oauth2/default",
        audience="api://default",
        client_id=client_id,
        scopes=["x"],
        lifetime_seconds=60,
    )
    foreign = await server.rt.signer.sign(claims, ring.active)
    async with server.client() as anon:
        assert await introspect(anon, client_id, secret, foreign) == {"active": False}


async def test_expired_token_is_inactive(server: Server, admin: httpx.AsyncClient) -> None:
    from ostiary.domain.authz import server_lookup
    from ostiary.domain.tokens.access_tokens import access_token_claims

    client_id, secret = await service_client(admin, "okta.users.read")
    oid = (await server.rt.org_for_host("localhost:8080")).id
    ring = await server.rt.rings.ring(oid, server_lookup.ORG_SERVER_ID)
    claims = access_token_claims(
        issuer=ORG,
        audience=ORG,
        client_id=client_id,
        scopes=["okta.users.read"],
        lifetime_seconds=60,
        now=int(time.time()) - 3600,
    )
    expired = await server.rt.signer.sign(claims, ring.active)
    async with server.client() as anon:
        assert await introspect(anon, client_id, secret, expired) == {"active": False}
        assert (
            await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {expired}"})
        ).status_code == 401


async def test_revocation_is_immediate_and_idempotent(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id, secret = await service_client(any_admin, "okta.users.read")
    async with any_server.client() as anon:
        token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 200
        for _ in range(2):
            revoked = await anon.post(
                "/oauth2/v1/revoke", data={"token": token}, headers=basic(client_id, secret)
            )
            assert revoked.status_code == 200 and revoked.content == b""
        assert (await anon.get("/api/v1/users", headers=bearer)).status_code == 401
        assert await introspect(anon, client_id, secret, token) == {"active": False}
        unknown = await anon.post(
            "/oauth2/v1/revoke", data={"token": "garbage"}, headers=basic(client_id, secret)
        )
        assert unknown.status_code == 200
        missing = await anon.post("/oauth2/v1/revoke", data={}, headers=basic(client_id, secret))
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


async def test_only_the_owning_client_may_revoke(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    owner, owner_secret = await service_client(admin, "okta.users.read")
    other, other_secret = await service_client(admin, "okta.users.read")
    token = (await client_token(anon, owner, owner_secret, "okta.users.read")).json()["access_token"]
    refused = await anon.post("/oauth2/v1/revoke", data={"token": token}, headers=basic(other, other_secret))
    assert refused.status_code == 400
    assert (await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_deactivating_the_app_stops_its_tokens_at_once(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    token = (await client_token(anon, client_id, secret, "okta.users.read")).json()["access_token"]
    assert (await admin.post(f"/api/v1/apps/{client_id}/lifecycle/deactivate")).status_code == 200
    assert (await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await client_token(anon, client_id, secret, "okta.users.read")).status_code == 401


async def test_revoking_the_grant_refuses_new_tokens(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    client_id, secret = await service_client(admin, "okta.users.read")
    grant = (await admin.get(f"/api/v1/apps/{client_id}/grants")).json()[0]
    assert (await admin.delete(f"/api/v1/apps/{client_id}/grants/{grant['id']}")).status_code == 204
    response = await client_token(anon, client_id, secret, "okta.users.read")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


async def test_keys_endpoint(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/oauth2/v1/keys", headers={"Accept": ""})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert len(keys) == 2 and all(k["use"] == "sig" and k["alg"] == "RS256" and k["kid"] for k in keys)


async def test_discovery_lists_what_is_implemented(anon: httpx.AsyncClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        doc = (await anon.get(path)).json()
        assert doc["issuer"] == ORG
        assert doc["token_endpoint"] == f"{ORG}/oauth2/v1/token"
        assert doc["jwks_uri"] == f"{ORG}/oauth2/v1/keys"
        assert doc["introspection_endpoint"] == f"{ORG}/oauth2/v1/introspect"
        assert "client_credentials" in doc["grant_types_supported"]
        assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    default = (await anon.get("/oauth2/default/.well-known/openid-configuration")).json()
    assert default["issuer"] == f"{ORG}/oauth2/default"
    assert default["jwks_uri"] == f"{ORG}/oauth2/default/v1/keys"


async def test_unknown_authorization_server_is_404(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/oauth2/ausnope/v1/keys")).status_code == 404
