"""The user schema with the unmodified ``okta`` SDK (3.4.6): a custom attribute is declared,
then accepted on users; an undeclared one is refused with E0000001 and a cause."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import CreateUserRequest, UpdateUserRequest, UserSchema

from tests.e2e.servers import OrgServer


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture
async def admin(org: OrgServer, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url, headers={"Authorization": f"SSWS {token}"}) as client:
        yield client


def user(login: str, **custom: Any) -> dict[str, Any]:
    return {"profile": {"login": login, "email": login, "firstName": "Ada", "lastName": "Byron", **custom}}


def custom(properties: dict[str, Any]) -> dict[str, Any]:
    return {"definitions": {"custom": {"id": "#custom", "type": "object", "properties": properties}}}


async def test_custom_attributes_are_declared_then_accepted(
    org: OrgServer, token: str, admin: httpx.AsyncClient
) -> None:
    refused = await admin.post("/api/v1/users", json=user("early@example.com", subscriptionTier="gold"))
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "E0000001"
    assert any("subscriptionTier" in c["errorSummary"] for c in refused.json()["errorCauses"])
    assert (await admin.get("/api/v1/users/early@example.com")).status_code == 404

    async with sdk(org, token) as client:
        schema, _, err = await client.get_user_schema("default")
        assert err is None, err
        assert "login" in schema.definitions.base.to_dict()["properties"]
        tier = {"title": "Subscription tier", "type": "string", "enum": ["silver", "gold"], "required": False}
        updated, _, err = await client.update_user_profile(
            "default", UserSchema.from_dict(custom({"subscriptionTier": tier}))
        )
        assert err is None, err
        assert updated.definitions.custom.properties["subscriptionTier"].title == "Subscription tier"

        created, _, err = await client.create_user(
            CreateUserRequest.from_dict(user("tiered@example.com", subscriptionTier="gold")), activate=False
        )
        assert err is None, err
        assert created.profile.to_dict()["subscriptionTier"] == "gold"
        body = UpdateUserRequest.from_dict(
            {"profile": {**created.profile.to_dict(), "subscriptionTier": "bronze"}}
        )
        _, _, err = await client.update_user(created.id, body)
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000001"  # not in the enum

        types, _, err = await client.list_user_types()
        assert err is None, err
        assert [(t.name, t.default) for t in types] == [("user", True)]
        assert types[0].id == created.type.id

    kept = (await admin.get(f"/api/v1/users/{created.id}")).json()
    assert kept["profile"]["subscriptionTier"] == "gold"
    links = [
        kept["_links"]["type"]["href"],
        (await admin.get("/api/v1/meta/types/user")).json()[0]["_links"]["schema"]["href"],
    ]
    for href in links:
        assert (await admin.get(href)).status_code == 200, href


async def test_a_removed_attribute_is_refused_from_then_on(admin: httpx.AsyncClient) -> None:
    added = await admin.post(
        "/api/v1/meta/schemas/user/default",
        json=custom({"badgeNumber": {"title": "Badge", "type": "integer"}}),
    )
    assert added.status_code == 200, added.text
    created = await admin.post("/api/v1/users?activate=false", json=user("badge@example.com", badgeNumber=7))
    assert created.status_code == 200, created.text
    assert (
        await admin.post("/api/v1/users", json=user("wrong.type@example.com", badgeNumber="seven"))
    ).status_code == 400
    removed = await admin.post("/api/v1/meta/schemas/user/default", json=custom({"badgeNumber": None}))
    assert removed.status_code == 200
    assert "badgeNumber" not in removed.json()["definitions"]["custom"]["properties"]
    assert (
        await admin.post("/api/v1/users", json=user("late@example.com", badgeNumber=8))
    ).status_code == 400
    # a user who still holds the value can be updated; the stale value is dropped
    renamed = await admin.post(f"/api/v1/users/{created.json()['id']}", json={"profile": {"nickName": "b"}})
    assert renamed.status_code == 200, renamed.text
    assert "badgeNumber" not in renamed.json()["profile"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"definitions": []},
        custom({"login": {"title": "Shadow", "type": "string"}}),  # a base name
        custom({"9lives": {"title": "Bad name", "type": "string"}}),
        custom({"noType": {"title": "No type"}}),
        custom({"noTitle": {"type": "string"}}),
        custom({"weird": {"title": "Weird", "type": "object"}}),
        custom({"list": {"title": "List", "type": "array"}}),
        custom({"req": {"title": "Req", "type": "string", "required": "yes"}}),
        custom({"neverDeclared": None}),
    ],
)
async def test_bad_schema_updates_are_e0000001_and_change_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    before = (await admin.get("/api/v1/meta/schemas/user/default")).json()
    response = await admin.post("/api/v1/meta/schemas/user/default", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "E0000001"
    after = (await admin.get("/api/v1/meta/schemas/user/default")).json()
    assert after["definitions"]["custom"] == before["definitions"]["custom"]


async def test_unknown_schema_and_type_ids_are_404(admin: httpx.AsyncClient) -> None:
    for path in ("/api/v1/meta/schemas/user/oscNOPE", "/api/v1/meta/types/user/otyNOPE"):
        response = await admin.get(path)
        assert response.status_code == 404
        assert response.json()["errorCode"] == "E0000007"
    malformed = await admin.post(
        "/api/v1/meta/schemas/user/default", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert malformed.json()["errorCode"] == "E0000003"
