"""F7: ``okta.apps.manage`` must not be a way to every ``okta.*`` scope granted to any app.

The review's escalation: a service app holding only ``okta.apps.manage`` created a new client
secret for another service app (granted ``okta.users.manage`` ...) and then requested that app's
scopes. Now an OAuth principal may change an app's credentials (secrets, JWKs, credentials
settings) or its ``okta.*`` grants only when its token holds every ``okta.*`` scope granted to
that app (and the scope it grants); otherwise 403 E0000006 and nothing changes. API tokens
(SSWS, super admin) are unaffected.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.support.apps import APPS
from tests.support.authorization_servers import assert_okta_error, bearer_client
from tests.support.oauth import ORG, client_token, service_client

TARGET_SCOPES = ("okta.users.manage", "okta.apiTokens.manage")
JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "kid": "attacker",
    "use": "sig",
}


async def target_app(admin: httpx.AsyncClient) -> str:
    client_id, _ = await service_client(admin, *TARGET_SCOPES)
    return client_id


async def snapshot(admin: httpx.AsyncClient, app_id: str) -> tuple[Any, ...]:
    app = (await admin.get(f"{APPS}/{app_id}")).json()
    secrets = (await admin.get(f"{APPS}/{app_id}/credentials/secrets")).json()
    keys = (await admin.get(f"{APPS}/{app_id}/credentials/jwks")).json()
    grants = (await admin.get(f"{APPS}/{app_id}/grants")).json()
    return app["credentials"], app["lastUpdated"], secrets, keys, sorted(g["scopeId"] for g in grants)


def assert_forbidden(response: httpx.Response) -> None:
    assert_okta_error(response, 403, "E0000006", "You do not have permission to perform the requested action")


async def test_the_reviews_escalation_through_a_new_secret_is_refused(
    admin: httpx.AsyncClient, server: Server
) -> None:
    target = await target_app(admin)
    manager_id, manager_secret = await service_client(admin, "okta.apps.manage")
    before = await snapshot(admin, target)
    async with server.client() as anon:
        token = (await client_token(anon, manager_id, manager_secret, "okta.apps.manage")).json()[
            "access_token"
        ]
        response = await anon.post(
            f"{APPS}/{target}/credentials/secrets", json={}, headers={"Authorization": f"Bearer {token}"}
        )
    assert_forbidden(response)
    assert "client_secret" not in response.text
    assert await snapshot(admin, target) == before


ALLOWED_ANSWERS = [
    201,  # a second secret
    400,  # a third one: over the two-secret limit, the domain's answer after the scope check
    200,  # deactivate the first secret
    201,  # a second key
    200,  # deactivate the first key
    204,  # delete it
    200,  # switch the auth method
    400,  # a custom secret while two secrets exist (OAuth2ClientSecretMediated)
    200,  # replace the JWKS
    201,  # grant a scope
    204,  # revoke a grant
]
"""What each of ``change_requests`` answers a principal that holds the app's scopes."""


async def change_requests(admin: httpx.AsyncClient, target: str) -> list[tuple[str, str, Any]]:
    secrets = (await admin.get(f"{APPS}/{target}/credentials/secrets")).json()
    added = await admin.post(f"{APPS}/{target}/credentials/jwks", json=JWK)
    assert added.status_code == 201, added.text
    key_id = added.json()["id"]
    grant_id = (await admin.get(f"{APPS}/{target}/grants")).json()[0]["id"]
    app = (await admin.get(f"{APPS}/{target}")).json()
    switched = {**app, "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_post"}}}
    custom = {**app, "credentials": {"oauthClient": {"client_secret": "x" * 40}}}
    with_jwks = {
        **app,
        "settings": {
            **app["settings"],
            "oauthClient": {**app["settings"]["oauthClient"], "jwks": {"keys": [{**JWK, "kid": "replaced"}]}},
        },
    }
    secret = f"{APPS}/{target}/credentials/secrets/{secrets[0]['id']}"
    key = f"{APPS}/{target}/credentials/jwks/{key_id}"
    return [
        ("POST", f"{APPS}/{target}/credentials/secrets", {}),
        ("POST", f"{APPS}/{target}/credentials/secrets", {"client_secret": "y" * 40}),
        ("POST", secret + "/lifecycle/deactivate", None),
        ("POST", f"{APPS}/{target}/credentials/jwks", {**JWK, "kid": "second"}),
        ("POST", key + "/lifecycle/deactivate", None),
        ("DELETE", key, None),
        ("PUT", f"{APPS}/{target}", switched),
        ("PUT", f"{APPS}/{target}", custom),
        ("PUT", f"{APPS}/{target}", with_jwks),
        ("POST", f"{APPS}/{target}/grants", {"issuer": ORG, "scopeId": "okta.groups.manage"}),
        ("DELETE", f"{APPS}/{target}/grants/{grant_id}", None),
    ]


@pytest.mark.parametrize(
    "scopes",
    [
        {"okta.apps.manage", "okta.appGrants.manage"},
        {"okta.apps.manage", "okta.appGrants.manage", "okta.users.manage"},
        {"okta.apps.manage", "okta.appGrants.manage", "okta.apiTokens.manage"},
    ],
)
async def test_every_credential_or_grant_change_needs_the_apps_scopes(
    admin: httpx.AsyncClient, server: Server, scopes: set[str]
) -> None:
    target = await target_app(admin)
    requests = await change_requests(admin, target)
    before = await snapshot(admin, target)
    async with bearer_client(server, scopes) as manager:
        for method, url, body in requests:
            response = await manager.request(method, url, json=body)
            assert_forbidden(response)
            assert await snapshot(admin, target) == before, (method, url)


async def test_a_principal_holding_the_apps_scopes_may_change_its_credentials(
    admin: httpx.AsyncClient, server: Server
) -> None:
    target = await target_app(admin)
    scopes = {"okta.apps.manage", "okta.appGrants.manage", "okta.groups.manage", *TARGET_SCOPES}
    async with bearer_client(server, scopes) as manager:
        requests = await change_requests(admin, target)
        for (method, url, body), status in zip(requests, ALLOWED_ANSWERS, strict=True):
            response = await manager.request(method, url, json=body)
            assert response.status_code == status, (method, url, response.text)
    grants = {g["scopeId"] for g in (await admin.get(f"{APPS}/{target}/grants")).json()}
    assert "okta.groups.manage" in grants


async def test_unrelated_changes_and_reads_still_work_with_apps_manage(
    admin: httpx.AsyncClient, server: Server
) -> None:
    target = await target_app(admin)
    app = (await admin.get(f"{APPS}/{target}")).json()
    async with bearer_client(server, {"okta.apps.manage", "okta.appGrants.read"}) as manager:
        assert (await manager.get(f"{APPS}/{target}/credentials/secrets")).status_code == 200
        assert (await manager.get(f"{APPS}/{target}/grants")).status_code == 200
        relabeled = await manager.put(f"{APPS}/{target}", json={**app, "label": "Renamed"})
        assert relabeled.status_code == 200, relabeled.text
        assert relabeled.json()["label"] == "Renamed"
        created = await manager.post(
            APPS,
            json={
                "name": "oidc_client",
                "label": "Fresh",
                "signOnMode": "OPENID_CONNECT",
                "settings": {
                    "oauthClient": {
                        "application_type": "service",
                        "grant_types": ["client_credentials"],
                        "response_types": ["token"],
                    }
                },
            },
        )
        assert created.status_code == 200, created.text
        fresh = created.json()["id"]
        rotated = await manager.post(f"{APPS}/{fresh}/credentials/secrets", json={})
        assert rotated.status_code == 201, rotated.text  # an app without okta.* grants


async def test_a_grant_of_a_scope_the_principal_lacks_is_refused(
    admin: httpx.AsyncClient, server: Server
) -> None:
    fresh, _ = await service_client(admin)
    async with bearer_client(server, {"okta.appGrants.manage"}) as manager:
        response = await manager.post(
            f"{APPS}/{fresh}/grants", json={"issuer": ORG, "scopeId": "okta.users.manage"}
        )
        assert_forbidden(response)
        allowed = await manager.post(
            f"{APPS}/{fresh}/grants", json={"issuer": ORG, "scopeId": "okta.appGrants.read"}
        )
        assert allowed.status_code == 201, allowed.text
    assert [g["scopeId"] for g in (await admin.get(f"{APPS}/{fresh}/grants")).json()] == [
        "okta.appGrants.read"
    ]


async def test_api_tokens_are_unaffected(admin: httpx.AsyncClient) -> None:
    target = await target_app(admin)
    response = await admin.post(f"{APPS}/{target}/credentials/secrets", json={})
    assert response.status_code == 201, response.text
