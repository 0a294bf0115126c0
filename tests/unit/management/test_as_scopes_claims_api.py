"""Scopes and claims of an authorization server: Okta's shapes, defaults, and checks made at save time."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from okta.models import OAuth2Claim, OAuth2Scope

from tests.support.authorization_servers import AS, ORG, assert_okta_error, create_server
from tests.support.scopes_claims import claims_of, expression_claim, new_server


async def create_scope(client: httpx.AsyncClient, server_id: str, name: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(f"{AS}/{server_id}/scopes", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def scope_names(client: httpx.AsyncClient, server_id: str) -> set[str]:
    return {s["name"] for s in (await client.get(f"{AS}/{server_id}/scopes")).json()}


# --- scopes --------------------------------------------------------------------------------------


async def test_create_scope_with_the_spec_example_answers_201(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    body = {
        "name": "car:drive",
        "description": "Drive car",
        "consent": "REQUIRED",
        "displayName": "Saml Jackson",
    }
    response = await any_admin.post(f"{AS}/{server_id}/scopes", json=body)
    assert response.status_code == 201
    scope = response.json()
    assert re.fullmatch(r"scp[0-9A-Za-z]{17}", scope["id"])
    assert scope == {
        "id": scope["id"],
        "name": "car:drive",
        "description": "Drive car",
        "system": False,
        "default": False,
        "displayName": "Saml Jackson",
        "consent": "REQUIRED",
        "optional": False,
        "metadataPublish": "NO_CLIENTS",
        "_links": {
            "self": {
                "href": f"{ORG}{AS}/{server_id}/scopes/{scope['id']}",
                "hints": {"allow": ["GET", "PUT", "DELETE"]},
            }
        },
    }
    model = OAuth2Scope.from_dict(scope)
    assert model is not None and model.name == "car:drive"
    assert (await any_admin.get(f"{AS}/{server_id}/scopes/{scope['id']}")).json() == scope


async def test_scope_defaults_follow_okta(admin: httpx.AsyncClient) -> None:
    scope = await create_scope(admin, await new_server(admin), "http://myapp.com/scp/silver")
    assert (scope["consent"], scope["metadataPublish"], scope["default"]) == ("IMPLICIT", "NO_CLIENTS", False)
    assert scope["description"] is None and scope["system"] is False


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("has space", "whitespace"),
        ("*", "every scope"),
        ("okta.users.read", "reserved"),
        ("", "blank"),
        (7, "type"),
    ],
)
async def test_bad_scope_names_are_refused(admin: httpx.AsyncClient, name: Any, cause: str) -> None:
    server_id = await new_server(admin)
    before = await scope_names(admin, server_id)
    response = await admin.post(f"{AS}/{server_id}/scopes", json={"name": name})
    assert_okta_error(response, 400, "E0000001", "Api validation failed: name")
    assert cause in response.json()["errorCauses"][0]["errorSummary"]
    assert await scope_names(admin, server_id) == before


async def test_bad_consent_and_publish_values_are_refused(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    for body in (
        {"name": "a", "consent": "SOMETIMES"},
        {"name": "a", "metadataPublish": "SOME"},
        {"name": "a", "default": "yes"},
    ):
        assert_okta_error(await admin.post(f"{AS}/{server_id}/scopes", json=body), 400, "E0000001")
    assert "a" not in await scope_names(admin, server_id)


async def test_scope_names_are_unique_per_server(any_admin: httpx.AsyncClient) -> None:
    first, second = await new_server(any_admin), (await create_server(any_admin, "other"))["id"]
    await create_scope(any_admin, first, "orders:read")
    duplicate = await any_admin.post(f"{AS}/{first}/scopes", json={"name": "orders:read"})
    assert_okta_error(duplicate, 400, "E0000001", "Api validation failed: name")
    system = await any_admin.post(f"{AS}/{first}/scopes", json={"name": "openid"})
    assert_okta_error(system, 400, "E0000001")
    await create_scope(any_admin, second, "orders:read")


async def test_list_scopes_searches_and_pages(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    for name in ("orders:read", "orders:write", "invoices:read"):
        await create_scope(any_admin, server_id, name)
    found = (await any_admin.get(f"{AS}/{server_id}/scopes", params={"q": "ORDERS"})).json()
    assert {s["name"] for s in found} == {"orders:read", "orders:write"}
    seen: list[str] = []
    url: str | None = f"{AS}/{server_id}/scopes?limit=4"
    while url:
        page = await any_admin.get(url)
        seen += [s["name"] for s in page.json()]
        match = re.search(r'<([^>]+)>; rel="next"', page.headers["link"])
        url = match.group(1) if match else None
    assert len(seen) == len(set(seen)) == 10


async def test_replace_scope_with_the_spec_example(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    scope = await create_scope(
        any_admin, server_id, "car:drive", consent="REQUIRED", displayName="Saml Jackson"
    )
    body = {"description": "Order car", "name": "car:order", "metadataPublish": "ALL_CLIENTS"}
    response = await any_admin.put(f"{AS}/{server_id}/scopes/{scope['id']}", json=body)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["description"], updated["metadataPublish"]) == (
        "car:order",
        "Order car",
        "ALL_CLIENTS",
    )
    assert updated["consent"] == "IMPLICIT", "PUT replaces: what is not sent takes its default"
    assert (await any_admin.get(f"{AS}/{server_id}/scopes/{scope['id']}")).json() == updated


async def test_system_scopes_keep_their_name_and_cannot_be_deleted(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    openid = next(s for s in (await admin.get(f"{AS}/{server_id}/scopes")).json() if s["name"] == "openid")
    url = f"{AS}/{server_id}/scopes/{openid['id']}"
    renamed = await admin.put(url, json={"name": "oidc"})
    assert_okta_error(renamed, 400, "E0000001", "Api validation failed: name")
    described = await admin.put(
        url, json={"name": "openid", "description": "Sign in", "metadataPublish": "ALL_CLIENTS"}
    )
    assert described.status_code == 200 and described.json()["system"] is True
    assert_okta_error(await admin.delete(url), 403, "E0000006")
    assert "openid" in await scope_names(admin, server_id)


async def test_delete_scope_answers_204(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    scope = await create_scope(any_admin, server_id, "temp")
    response = await any_admin.delete(f"{AS}/{server_id}/scopes/{scope['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_okta_error(
        await any_admin.get(f"{AS}/{server_id}/scopes/{scope['id']}"),
        404,
        "E0000007",
        f"Not found: Resource not found: {scope['id']} (OAuth2Scope)",
    )


async def test_a_scope_in_use_can_be_neither_deleted_nor_renamed(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    scope = await create_scope(admin, server_id, "gold")
    policy = (await admin.post(f"{AS}/{server_id}/policies", json={"name": "p"})).json()
    rule = {
        "name": "r",
        "conditions": {"grantTypes": {"include": ["client_credentials"]}, "scopes": {"include": ["gold"]}},
    }
    assert (await admin.post(f"{AS}/{server_id}/policies/{policy['id']}/rules", json=rule)).status_code == 201
    deleted = await admin.delete(f"{AS}/{server_id}/scopes/{scope['id']}")
    assert_okta_error(deleted, 400, "E0000001")
    assert "rule 'r'" in deleted.json()["errorCauses"][0]["errorSummary"]
    assert_okta_error(
        await admin.put(f"{AS}/{server_id}/scopes/{scope['id']}", json={"name": "platinum"}), 400, "E0000001"
    )
    assert "gold" in await scope_names(admin, server_id)


async def test_unknown_scope_is_okta_404(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    unknown = f"{AS}/{server_id}/scopes/scp00000000000000000"
    for call in (admin.get(unknown), admin.put(unknown, json={"name": "x"}), admin.delete(unknown)):
        assert_okta_error(await call, 404, "E0000007")
    other = await create_scope(admin, (await create_server(admin, "other"))["id"], "elsewhere")
    assert_okta_error(await admin.get(f"{AS}/{server_id}/scopes/{other['id']}"), 404, "E0000007")


# --- claims --------------------------------------------------------------------------------------


async def test_create_expression_claim_answers_201_in_okta_shape(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    await create_scope(any_admin, server_id, "http://myapp.com/scp/silver")
    body = expression_claim(
        "tier",
        'isMemberOfGroupName("goldSubscribers") ? "gold" : "silver"',
        conditions={"scopes": ["http://myapp.com/scp/silver"]},
    )
    response = await any_admin.post(f"{AS}/{server_id}/claims", json=body)
    assert response.status_code == 201, response.text
    claim = response.json()
    assert re.fullmatch(r"ocl[0-9A-Za-z]{17}", claim["id"])
    assert claim == {
        "id": claim["id"],
        "name": "tier",
        "status": "ACTIVE",
        "claimType": "RESOURCE",
        "valueType": "EXPRESSION",
        "value": body["value"],
        "conditions": {"scopes": ["http://myapp.com/scp/silver"]},
        "system": False,
        "alwaysIncludeInToken": True,
        "_links": {
            "self": {
                "href": f"{ORG}{AS}/{server_id}/claims/{claim['id']}",
                "hints": {"allow": ["GET", "PUT", "DELETE"]},
            }
        },
    }
    model = OAuth2Claim.from_dict(claim)
    assert model is not None and model.name == "tier"
    assert (await any_admin.get(f"{AS}/{server_id}/claims/{claim['id']}")).json() == claim


async def test_groups_claim_from_the_spec_example(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    body = {
        "alwaysIncludeInToken": True,
        "claimType": "IDENTITY",
        "conditions": {"scopes": ["profile"]},
        "group_filter_type": "CONTAINS",
        "name": "Support",
        "status": "ACTIVE",
        "system": False,
        "value": "Support",
        "valueType": "GROUPS",
    }
    response = await admin.post(f"{AS}/{server_id}/claims", json=body)
    assert response.status_code == 201
    claim = response.json()
    assert (claim["group_filter_type"], claim["valueType"], claim["claimType"]) == (
        "CONTAINS",
        "GROUPS",
        "IDENTITY",
    )
    assert OAuth2Claim.from_dict(claim) is not None


async def test_inactive_identity_claim_may_be_left_out_of_the_id_token(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    body = expression_claim(
        "nick", "user.nickName", claimType="IDENTITY", status="INACTIVE", alwaysIncludeInToken=False
    )
    claim = (await admin.post(f"{AS}/{server_id}/claims", json=body)).json()
    assert (claim["status"], claim["alwaysIncludeInToken"]) == ("INACTIVE", False)
    resource = (
        await admin.post(f"{AS}/{server_id}/claims", json=expression_claim(alwaysIncludeInToken=False))
    ).json()
    assert resource["alwaysIncludeInToken"] is True, "access token claims are always included"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("user.", "position"),
        ("String.nope(user.email)", "nope"),
        ('"unterminated', ""),
        ("bogus.attr", "Unknown reference"),
        ("", "blank"),
    ],
)
async def test_invalid_expression_is_refused_with_the_reason(
    admin: httpx.AsyncClient, value: str, problem: str
) -> None:
    server_id = await new_server(admin)
    before = await claims_of(admin, server_id)
    response = await admin.post(f"{AS}/{server_id}/claims", json=expression_claim(value=value))
    assert_okta_error(response, 400, "E0000001", "Api validation failed: value")
    [cause] = response.json()["errorCauses"]
    assert cause["errorSummary"].startswith("value: ")
    assert problem in cause["errorSummary"]
    assert await claims_of(admin, server_id) == before


@pytest.mark.parametrize(
    "name",
    [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "jti",
        "cid",
        "uid",
        "scp",
        "ver",
        "auth_time",
        "amr",
        "at_hash",
        "nonce",
    ],
)
async def test_reserved_claim_names_are_refused(admin: httpx.AsyncClient, name: str) -> None:
    server_id = await new_server(admin)
    response = await admin.post(f"{AS}/{server_id}/claims", json=expression_claim(name, '"x"'))
    assert_okta_error(response, 400, "E0000001", "Api validation failed: name")
    assert "reserved" in response.json()["errorCauses"][0]["errorSummary"]
    assert [c["name"] for c in await claims_of(admin, server_id)] == ["sub"]


async def test_condition_scopes_must_exist_on_the_server(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    response = await admin.post(
        f"{AS}/{server_id}/claims", json=expression_claim(conditions={"scopes": ["openid", "missing:scope"]})
    )
    assert_okta_error(response, 400, "E0000001", "Api validation failed: conditions.scopes")
    assert "missing:scope" in response.json()["errorCauses"][0]["errorSummary"]
    assert len(await claims_of(admin, server_id)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "g", "claimType": "IDENTITY", "valueType": "GROUPS", "value": "x"}, "group_filter_type"),
        (
            {
                "name": "g",
                "claimType": "IDENTITY",
                "valueType": "GROUPS",
                "value": "x",
                "group_filter_type": "LIKE",
            },
            "group_filter_type",
        ),
        (
            {
                "name": "g",
                "claimType": "IDENTITY",
                "valueType": "GROUPS",
                "value": "(?!admin).*",
                "group_filter_type": "REGEX",
            },
            "value",
        ),
        ({"name": "g", "claimType": "IDENTITY", "valueType": "SYSTEM", "value": "x"}, "valueType"),
        ({"name": "g", "valueType": "EXPRESSION", "value": '"x"'}, "claimType"),
        ({"name": "g", "claimType": "ACCESS", "value": '"x"'}, "claimType"),
        ({"name": "g", "claimType": "RESOURCE"}, "value"),
        ({"name": "g", "claimType": "RESOURCE", "value": '"x"', "status": "ON"}, "status"),
        (
            {"name": "g", "claimType": "RESOURCE", "value": '"x"', "conditions": {"scopes": "openid"}},
            "conditions.scopes",
        ),
        ({"claimType": "RESOURCE", "value": '"x"'}, "name"),
    ],
)
async def test_bad_claims_are_refused_and_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    server_id = await new_server(admin)
    response = await admin.post(f"{AS}/{server_id}/claims", json=body)
    assert_okta_error(response, 400, "E0000001", f"Api validation failed: {field}")
    assert len(await claims_of(admin, server_id)) == 1


async def test_a_claim_name_is_unique_per_claim_type(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    await any_admin.post(f"{AS}/{server_id}/claims", json=expression_claim("tier"))
    duplicate = await any_admin.post(f"{AS}/{server_id}/claims", json=expression_claim("tier"))
    assert_okta_error(duplicate, 400, "E0000001", "Api validation failed: name")
    identity = await any_admin.post(
        f"{AS}/{server_id}/claims", json=expression_claim("tier", claimType="IDENTITY")
    )
    assert identity.status_code == 201


async def test_replace_claim_answers_200_and_rechecks_everything(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    claim = (await any_admin.post(f"{AS}/{server_id}/claims", json=expression_claim())).json()
    url = f"{AS}/{server_id}/claims/{claim['id']}"
    body = {
        "alwaysIncludeInToken": True,
        "claimType": "IDENTITY",
        "conditions": {"scopes": ["profile"]},
        "group_filter_type": "CONTAINS",
        "name": "Knowledge_Base",
        "status": "ACTIVE",
        "value": "Knowledge Base",
        "valueType": "GROUPS",
    }
    response = await any_admin.put(url, json=body)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["valueType"]) == ("Knowledge_Base", "GROUPS")
    bad = await any_admin.put(url, json=expression_claim(value="user.("))
    assert_okta_error(bad, 400, "E0000001", "Api validation failed: value")
    assert (await any_admin.get(url)).json() == response.json()


async def test_system_claims_can_be_read_but_not_changed(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    [sub] = await claims_of(admin, server_id)
    assert (sub["name"], sub["system"], sub["valueType"]) == ("sub", True, "EXPRESSION")
    url = f"{AS}/{server_id}/claims/{sub['id']}"
    assert_okta_error(await admin.put(url, json=expression_claim("subject")), 403, "E0000006")
    assert_okta_error(await admin.delete(url), 403, "E0000006")
    assert await claims_of(admin, server_id) == [sub]


async def test_delete_claim_answers_204_and_unknown_claims_404(any_admin: httpx.AsyncClient) -> None:
    server_id = await new_server(any_admin)
    claim = (await any_admin.post(f"{AS}/{server_id}/claims", json=expression_claim())).json()
    url = f"{AS}/{server_id}/claims/{claim['id']}"
    response = await any_admin.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    for call in (any_admin.get(url), any_admin.put(url, json=expression_claim()), any_admin.delete(url)):
        assert_okta_error(
            await call, 404, "E0000007", f"Not found: Resource not found: {claim['id']} (OAuth2Claim)"
        )


async def test_claims_require_the_manage_scope_to_change(admin: httpx.AsyncClient) -> None:
    server_id = await new_server(admin)
    async with httpx.AsyncClient(transport=admin._transport, base_url=ORG) as anonymous:
        assert_okta_error(
            await anonymous.post(f"{AS}/{server_id}/claims", json=expression_claim()), 403, "E0000005"
        )
    assert len(await claims_of(admin, server_id)) == 1
