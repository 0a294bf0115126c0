"""/api/v1/authorizationServers: servers, lifecycle, signing keys, as Okta answers and as okta 3.4.6 reads."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from okta.models import AuthorizationServer, AuthorizationServerJsonWebKey
from sqlalchemy import func, select

from ostiary.store.models.policies import AccessPolicy, Scope
from tests.conftest import Server
from tests.support.authorization_servers import AS, ORG, assert_okta_error, bearer_client, create_server

SYSTEM_SCOPES = {"openid", "profile", "email", "address", "phone", "offline_access", "groups"}


async def server_ids(client: httpx.AsyncClient) -> list[str]:
    return [s["id"] for s in (await client.get(AS)).json()]


# --- the default server and the org AS ---------------------------------------------------------


async def test_default_server_is_listed_and_parses_with_the_okta_sdk(any_admin: httpx.AsyncClient) -> None:
    response = await any_admin.get(AS)
    assert response.status_code == 200
    [default] = response.json()
    assert default["id"] == "default"
    assert default["audiences"] == ["api://default"]
    assert default["issuer"] == f"{ORG}/oauth2/default"
    assert default["issuerMode"] == "ORG_URL"
    assert default["status"] == "ACTIVE"
    model = AuthorizationServer.from_dict(default)
    assert model is not None and model.id == "default"
    assert response.headers["link"] == f'<{ORG}{AS}>; rel="self"'


async def test_the_org_authorization_server_is_not_managed_here(admin: httpx.AsyncClient) -> None:
    for path in (f"{AS}/$org", f"{AS}/$org/scopes", f"{AS}/$org/policies", f"{AS}/$org/credentials/keys"):
        assert_okta_error(
            await admin.get(path),
            404,
            "E0000007",
            "Not found: Resource not found: $org (AuthorizationServer)",
        )


async def test_default_server_comes_with_system_scopes_sub_claim_and_default_policy(
    admin: httpx.AsyncClient,
) -> None:
    scopes = (await admin.get(f"{AS}/default/scopes")).json()
    assert {s["name"] for s in scopes} == SYSTEM_SCOPES
    assert all(s["system"] and s["metadataPublish"] == "ALL_CLIENTS" for s in scopes)
    assert all(s["consent"] == "IMPLICIT" for s in scopes)
    [claim] = (await admin.get(f"{AS}/default/claims")).json()
    assert (claim["name"], claim["claimType"], claim["system"]) == ("sub", "RESOURCE", True)
    [policy] = (await admin.get(f"{AS}/default/policies")).json()
    assert (policy["name"], policy["description"], policy["priority"]) == (
        "Default Policy",
        "Default policy description",
        1,
    )
    assert policy["conditions"] == {"clients": {"include": ["ALL_CLIENTS"]}}
    [rule] = (await admin.get(f"{AS}/default/policies/{policy['id']}/rules")).json()
    assert rule["name"] == "Default Policy Rule"
    assert rule["conditions"]["people"]["groups"]["include"] == ["EVERYONE"]
    assert rule["conditions"]["scopes"] == {"include": ["*"]}
    assert {"authorization_code", "implicit", "client_credentials", "password", "refresh_token"} <= set(
        rule["conditions"]["grantTypes"]["include"]
    )
    assert rule["actions"]["token"] == {
        "accessTokenLifetimeMinutes": 60,
        "refreshTokenLifetimeMinutes": 0,
        "refreshTokenWindowMinutes": 10080,
    }


async def test_seeding_the_default_server_happens_once(any_server: Server) -> None:
    from ostiary.app import prepare

    await prepare(any_server.rt, run_migrations=False)
    await prepare(any_server.rt, run_migrations=False)
    async with any_server.rt.db.session() as session:
        policies = await session.scalar(
            select(func.count()).select_from(AccessPolicy).where(AccessPolicy.server_id == "default")
        )
        scopes = await session.scalar(
            select(func.count()).select_from(Scope).where(Scope.server_id == "default")
        )
    assert (policies, scopes) == (1, len(SYSTEM_SCOPES))


# --- create, read, replace ---------------------------------------------------------------------


async def test_create_answers_201_with_okta_shape_and_a_signing_key(any_admin: httpx.AsyncClient) -> None:
    server = await create_server(any_admin)
    assert re.fullmatch(r"aus[0-9A-Za-z]{17}", server["id"])
    assert server["issuer"] == f"{ORG}/oauth2/{server['id']}"
    assert server["audiences"] == ["api://sample"]
    assert (server["issuerMode"], server["status"]) == ("ORG_URL", "ACTIVE")
    signing = server["credentials"]["signing"]
    assert signing["rotationMode"] == "AUTO"
    assert signing["kid"] and signing["lastRotated"] and signing["nextRotation"]
    links = server["_links"]
    assert links["self"]["href"] == f"{ORG}{AS}/{server['id']}"
    assert links["scopes"]["href"] == f"{ORG}{AS}/{server['id']}/scopes"
    assert links["rotateKey"]["hints"]["allow"] == ["POST"]
    assert links["deactivate"]["href"].endswith("/lifecycle/deactivate")
    assert [m["name"] for m in links["metadata"]] == ["oauth-authorization-server", "openid-configuration"]
    assert links["metadata"][1]["href"] == f"{server['issuer']}/.well-known/openid-configuration"
    model = AuthorizationServer.from_dict(server)
    assert model is not None and model.credentials is not None
    assert model.credentials.signing is not None and model.credentials.signing.kid == signing["kid"]


async def test_a_new_server_has_the_system_scopes_and_no_policy(admin: httpx.AsyncClient) -> None:
    server = await create_server(admin)
    scopes = (await admin.get(f"{AS}/{server['id']}/scopes")).json()
    assert {s["name"] for s in scopes} == SYSTEM_SCOPES
    assert (await admin.get(f"{AS}/{server['id']}/policies")).json() == []


async def test_get_answers_the_server(admin: httpx.AsyncClient) -> None:
    server = await create_server(admin)
    fetched = await admin.get(f"{AS}/{server['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == server


async def test_spec_example_body_creates_a_server(admin: httpx.AsyncClient) -> None:
    body = {
        "name": "Sample Authorization Server",
        "description": "Sample Authorization Server description",
        "audiences": ["api://default"],
    }
    response = await admin.post(AS, json=body)
    assert response.status_code == 201
    assert response.json()["name"] == body["name"]


@pytest.mark.parametrize(
    "audiences",
    [None, [], ["api://a", "api://b"], [""], "api://a", [1]],
    ids=["missing", "empty", "two", "blank", "string", "number"],
)
async def test_exactly_one_audience_is_required(admin: httpx.AsyncClient, audiences: Any) -> None:
    body: dict[str, Any] = {"name": "n"}
    if audiences is not None:
        body["audiences"] = audiences
    assert_okta_error(await admin.post(AS, json=body), 400, "E0000001", "Api validation failed: audiences")
    assert await server_ids(admin) == ["default"]


async def test_name_is_required_and_unique(admin: httpx.AsyncClient) -> None:
    missing = await admin.post(AS, json={"audiences": ["api://x"]})
    assert_okta_error(missing, 400, "E0000001", "Api validation failed: name")
    assert missing.json()["errorCauses"] == [{"errorSummary": "name: The field cannot be left blank"}]
    await create_server(admin, "Same")
    duplicate = await admin.post(AS, json={"name": "same", "audiences": ["api://x"]})
    assert_okta_error(duplicate, 400, "E0000001", "Api validation failed: name")
    assert len(await server_ids(admin)) == 2


async def test_wrong_types_are_validation_errors(admin: httpx.AsyncClient) -> None:
    for body in ({"name": 5, "audiences": ["a"]}, {"name": "n", "audiences": ["a"], "description": []}):
        assert_okta_error(await admin.post(AS, json=body), 400, "E0000001")
    assert await server_ids(admin) == ["default"]


async def test_issuer_modes_are_accepted_but_the_issuer_stays_on_the_org_url(
    admin: httpx.AsyncClient,
) -> None:
    for mode in ("CUSTOM_URL", "DYNAMIC"):
        server = await create_server(admin, mode, issuerMode=mode)
        assert server["issuerMode"] == mode
        assert server["issuer"] == f"{ORG}/oauth2/{server['id']}"
    bad = await admin.post(AS, json={"name": "x", "audiences": ["a"], "issuerMode": "NOPE"})
    assert_okta_error(bad, 400, "E0000001", "Api validation failed: issuerMode")


async def test_access_token_encryption_is_refused(admin: httpx.AsyncClient) -> None:
    body = {"name": "enc", "audiences": ["a"], "accessTokenEncryptedResponseAlgorithm": "RSA-OAEP-256"}
    assert_okta_error(await admin.post(AS, json=body), 400, "E0000001")


async def test_malformed_and_non_object_bodies_are_e0000003(admin: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"[1, 2]", b""):
        response = await admin.post(AS, content=content, headers={"Content-Type": "application/json"})
        assert_okta_error(response, 400, "E0000003", "The request body was not well-formed.")
    assert await server_ids(admin) == ["default"]


async def test_replace_changes_name_description_audience_and_answers_200(
    any_admin: httpx.AsyncClient,
) -> None:
    server = await create_server(any_admin)
    body = {
        "name": "New Authorization Server",
        "description": "Authorization Server description",
        "audiences": ["api://new"],
        "credentials": {"signing": {"rotationMode": "MANUAL", "use": "sig"}},
        "issuer": "ignored",
        "issuerMode": "ORG_URL",
        "status": "INACTIVE",
    }
    response = await any_admin.put(f"{AS}/{server['id']}", json=body)
    assert response.status_code == 200
    replaced = response.json()
    assert (replaced["name"], replaced["audiences"]) == ("New Authorization Server", ["api://new"])
    assert replaced["credentials"]["signing"]["rotationMode"] == "MANUAL"
    assert replaced["status"] == "ACTIVE", "status changes only through the lifecycle operations"
    assert replaced["issuer"] == server["issuer"]
    assert (await any_admin.get(f"{AS}/{server['id']}")).json()["name"] == "New Authorization Server"


async def test_replace_with_bad_input_changes_nothing(admin: httpx.AsyncClient) -> None:
    server = await create_server(admin)
    response = await admin.put(f"{AS}/{server['id']}", json={"name": "x", "audiences": ["a", "b"]})
    assert_okta_error(response, 400, "E0000001", "Api validation failed: audiences")
    assert (await admin.get(f"{AS}/{server['id']}")).json() == server


async def test_unknown_server_is_okta_404_everywhere(admin: httpx.AsyncClient) -> None:
    unknown = "aus00000000000000000"
    summary = f"Not found: Resource not found: {unknown} (AuthorizationServer)"
    calls = [
        admin.get(f"{AS}/{unknown}"),
        admin.put(f"{AS}/{unknown}", json={"name": "x", "audiences": ["a"]}),
        admin.delete(f"{AS}/{unknown}"),
        admin.post(f"{AS}/{unknown}/lifecycle/activate"),
        admin.post(f"{AS}/{unknown}/lifecycle/deactivate"),
        admin.get(f"{AS}/{unknown}/credentials/keys"),
        admin.post(f"{AS}/{unknown}/credentials/lifecycle/keyRotate", json={"use": "sig"}),
        admin.get(f"{AS}/{unknown}/scopes"),
        admin.post(f"{AS}/{unknown}/scopes", json={"name": "x"}),
        admin.get(f"{AS}/{unknown}/claims"),
        admin.get(f"{AS}/{unknown}/policies"),
        admin.post(f"{AS}/{unknown}/policies", json={"name": "x"}),
    ]
    for call in calls:
        assert_okta_error(await call, 404, "E0000007", summary)


# --- list, search, paging ----------------------------------------------------------------------


async def test_q_matches_name_or_audience_ignoring_case(any_admin: httpx.AsyncClient) -> None:
    gold = await create_server(any_admin, "Gold Server", audiences=["api://planets"])
    await create_server(any_admin, "Silver Server", audiences=["api://moons"])
    by_name = (await any_admin.get(AS, params={"q": "gOLD"})).json()
    by_audience = (await any_admin.get(AS, params={"q": "planets"})).json()
    assert [s["id"] for s in by_name] == [s["id"] for s in by_audience] == [gold["id"]]
    assert (await any_admin.get(AS, params={"q": "100%_"})).json() == []


async def test_limit_and_after_page_through_servers(any_admin: httpx.AsyncClient) -> None:
    for n in range(3):
        await create_server(any_admin, f"s{n}")
    first = await any_admin.get(AS, params={"limit": "2"})
    assert len(first.json()) == 2
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["link"])
    assert next_url is not None
    assert next_url.group(1).startswith(f"{ORG}{AS}?limit=2&after=")
    second = await any_admin.get(next_url.group(1))
    assert len(second.json()) == 2
    assert 'rel="next"' not in second.headers["link"]
    ids = [s["id"] for s in first.json() + second.json()]
    assert len(set(ids)) == 4 and "default" in ids


# --- lifecycle and delete ----------------------------------------------------------------------


async def test_deactivate_and_activate_answer_204_without_body(any_admin: httpx.AsyncClient) -> None:
    server = await create_server(any_admin)
    response = await any_admin.post(f"{AS}/{server['id']}/lifecycle/deactivate")
    assert (response.status_code, response.content) == (204, b"")
    assert "content-type" not in response.headers
    inactive = (await any_admin.get(f"{AS}/{server['id']}")).json()
    assert inactive["status"] == "INACTIVE"
    assert "activate" in inactive["_links"] and "deactivate" not in inactive["_links"]
    assert (await any_admin.post(f"{AS}/{server['id']}/lifecycle/activate")).status_code == 204
    assert (await any_admin.get(f"{AS}/{server['id']}")).json()["status"] == "ACTIVE"


async def test_lifecycle_changes_reach_the_server_cache(server: Server, admin: httpx.AsyncClient) -> None:
    created = await create_server(admin)
    org = await server.rt.org_for_host("localhost:8080")
    assert (await server.rt.servers.get(org.id, created["id"])).status == "ACTIVE"
    await admin.post(f"{AS}/{created['id']}/lifecycle/deactivate")
    assert (await server.rt.servers.get(org.id, created["id"])).status == "INACTIVE"


async def test_delete_answers_204_and_takes_scopes_and_policies_along(any_server: Server) -> None:
    token = await any_server.create_token()
    async with any_server.client(token) as admin:
        server = await create_server(admin)
        await admin.post(f"{AS}/{server['id']}/policies", json={"name": "p", "description": "d"})
        response = await admin.delete(f"{AS}/{server['id']}")
        assert (response.status_code, response.content) == (204, b"")
        assert_okta_error(await admin.get(f"{AS}/{server['id']}"), 404, "E0000007")
    async with any_server.rt.db.session() as session:
        left = await session.scalar(
            select(func.count()).select_from(Scope).where(Scope.server_id == server["id"])
        )
        policies = await session.scalar(
            select(func.count()).select_from(AccessPolicy).where(AccessPolicy.server_id == server["id"])
        )
    assert (left, policies) == (0, 0)


async def test_the_default_server_can_be_deleted_as_on_okta(admin: httpx.AsyncClient) -> None:
    assert (await admin.delete(f"{AS}/default")).status_code == 204
    assert await server_ids(admin) == []


async def test_writes_are_in_the_system_log(admin: httpx.AsyncClient) -> None:
    server = await create_server(admin)
    await admin.post(f"{AS}/{server['id']}/lifecycle/deactivate")
    await admin.delete(f"{AS}/{server['id']}")
    events = [e["eventType"] for e in (await admin.get("/api/v1/logs")).json()]
    assert {"oauth2.as.created", "oauth2.as.deactivated", "oauth2.as.deleted"} <= set(events)


# --- signing keys --------------------------------------------------------------------------------


async def test_keys_list_active_and_next_in_okta_shape(any_admin: httpx.AsyncClient) -> None:
    server = await create_server(any_admin)
    response = await any_admin.get(f"{AS}/{server['id']}/credentials/keys")
    assert response.status_code == 200
    keys = response.json()
    assert sorted(k["status"] for k in keys) == ["ACTIVE", "NEXT"]
    active = next(k for k in keys if k["status"] == "ACTIVE")
    assert active["kid"] == server["credentials"]["signing"]["kid"]
    assert (active["kty"], active["alg"], active["use"], active["e"]) == ("RSA", "RS256", "sig", "AQAB")
    assert "d" not in active and "p" not in active
    assert active["_links"]["self"]["href"] == f"{ORG}{AS}/{server['id']}/credentials/keys/{active['kid']}"
    for key in keys:
        model = AuthorizationServerJsonWebKey.from_dict(key)
        assert model is not None and model.kid == key["kid"]


async def test_keys_of_the_default_server_are_made_on_first_request(admin: httpx.AsyncClient) -> None:
    default = (await admin.get(f"{AS}/default")).json()
    assert "kid" not in default["credentials"]["signing"]
    keys = (await admin.get(f"{AS}/default/credentials/keys")).json()
    assert len(keys) == 2
    kid = (await admin.get(f"{AS}/default")).json()["credentials"]["signing"]["kid"]
    assert kid == next(k["kid"] for k in keys if k["status"] == "ACTIVE")


async def test_get_one_key_by_kid(admin: httpx.AsyncClient) -> None:
    server = await create_server(admin)
    kid = server["credentials"]["signing"]["kid"]
    response = await admin.get(f"{AS}/{server['id']}/credentials/keys/{kid}")
    assert response.status_code == 200
    assert (response.json()["kid"], response.json()["status"]) == (kid, "ACTIVE")
    assert_okta_error(await admin.get(f"{AS}/{server['id']}/credentials/keys/nope"), 404, "E0000007")


async def test_key_rotate_promotes_next_and_expires_active(any_admin: httpx.AsyncClient) -> None:
    server = await create_server(any_admin)
    before = {
        k["status"]: k["kid"] for k in (await any_admin.get(f"{AS}/{server['id']}/credentials/keys")).json()
    }
    response = await any_admin.post(
        f"{AS}/{server['id']}/credentials/lifecycle/keyRotate", json={"use": "sig"}
    )
    assert response.status_code == 200
    after = {k["status"]: k["kid"] for k in response.json()}
    assert after["ACTIVE"] == before["NEXT"]
    assert after["EXPIRED"] == before["ACTIVE"]
    assert after["NEXT"] not in before.values()
    assert (await any_admin.get(f"{AS}/{server['id']}")).json()["credentials"]["signing"]["kid"] == after[
        "ACTIVE"
    ]


@pytest.mark.parametrize("body", [{"use": "enc"}, {}, {"use": 1}])
async def test_key_rotate_needs_use_sig_and_rotates_nothing_otherwise(
    admin: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    server = await create_server(admin)
    url = f"{AS}/{server['id']}/credentials/lifecycle/keyRotate"
    response = await admin.post(url, json=body)
    assert_okta_error(response, 400, "E0000001", "Api validation failed: rotateKeys")
    assert response.json()["errorCauses"] == [
        {"errorSummary": "Invalid value specified for key 'use' parameter"}
    ]
    keys = (await admin.get(f"{AS}/{server['id']}/credentials/keys")).json()
    assert sorted(k["status"] for k in keys) == ["ACTIVE", "NEXT"]


# --- authentication and scopes -------------------------------------------------------------------


async def test_missing_token_is_e0000005(server: Server) -> None:
    async with server.client() as anonymous:
        assert_okta_error(await anonymous.get(AS), 403, "E0000005", "Invalid session")
        assert_okta_error(await anonymous.post(AS, json={"name": "x", "audiences": ["a"]}), 403, "E0000005")


async def test_read_scope_may_read_but_not_manage(server: Server, admin: httpx.AsyncClient) -> None:
    async with bearer_client(server, {"okta.authorizationServers.read"}) as reader:
        assert (await reader.get(AS)).status_code == 200
        assert (await reader.get(f"{AS}/default/policies")).status_code == 200
        refused = await reader.post(AS, json={"name": "x", "audiences": ["a"]})
        assert_okta_error(refused, 403, "E0000006")
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        assert_okta_error(await reader.post(f"{AS}/default/lifecycle/deactivate"), 403, "E0000006")
        assert_okta_error(await reader.delete(f"{AS}/default"), 403, "E0000006")
    assert (await admin.get(f"{AS}/default")).json()["status"] == "ACTIVE"
    assert await server_ids(admin) == ["default"]


async def test_manage_scope_includes_read(server: Server) -> None:
    async with bearer_client(server, {"okta.authorizationServers.manage"}) as manager:
        created = await manager.post(AS, json={"name": "x", "audiences": ["a"]})
        assert created.status_code == 201
        assert (await manager.get(f"{AS}/{created.json()['id']}")).status_code == 200


async def test_other_scopes_get_nothing(server: Server) -> None:
    async with bearer_client(server, {"okta.users.manage"}) as stranger:
        assert_okta_error(await stranger.get(AS), 403, "E0000006")
        assert_okta_error(await stranger.get(f"{AS}/default/credentials/keys"), 403, "E0000006")
