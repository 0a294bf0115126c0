"""/api/v1/authorizationServers/{id}/resourceservercredentials/keys: a resource server's public
encryption keys, added INACTIVE, one ACTIVE at a time, the ACTIVE one undeletable, as Okta's
OAuth2ResourceServerJsonWebKey."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ostiary.jose.b64 import b64url_encode
from tests.conftest import Server
from tests.support.authorization_servers import AS
from tests.support.oauth import ORG
from tests.unit.management.test_admin_roles_api import admin_with

URL = f"{AS}/default/resourceservercredentials/keys"


def _b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(kid: str, bits: int = 2048) -> dict[str, Any]:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()
    return {"kty": "RSA", "use": "enc", "kid": kid, "e": _b64(numbers.e), "n": _b64(numbers.n)}


async def add(admin: httpx.AsyncClient, kid: str) -> dict[str, Any]:
    response = await admin.post(URL, json=public_jwk(kid))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_added_key_is_inactive_until_activated(any_admin: httpx.AsyncClient) -> None:
    body = public_jwk("rs-1")
    response = await any_admin.post(URL, json=body)
    assert response.status_code == 201, response.text
    key = response.json()
    assert key["id"].startswith("apk")
    assert {k: key[k] for k in ("kid", "kty", "use", "e", "n")} == body
    assert key["status"] == "INACTIVE"
    href = f"{ORG}{URL}/{key['id']}"
    assert key["_links"] == {
        "activate": {"href": f"{href}/lifecycle/activate", "hints": {"allow": ["POST"]}},
        "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
    }
    assert (await any_admin.get(URL)).json() == [key]
    assert (await any_admin.get(f"{URL}/{key['id']}")).json() == key
    activated = await any_admin.post(f"{URL}/{key['id']}/lifecycle/activate")
    assert (activated.status_code, activated.json()["status"]) == (200, "ACTIVE")
    deactivated = await any_admin.post(f"{URL}/{key['id']}/lifecycle/deactivate")
    assert (deactivated.status_code, deactivated.json()["status"]) == (200, "INACTIVE")


async def test_only_one_key_is_active_and_it_cannot_be_deleted(admin: httpx.AsyncClient) -> None:
    first, second = await add(admin, "one"), await add(admin, "two")
    assert (await admin.post(f"{URL}/{first['id']}/lifecycle/activate")).status_code == 200
    assert (await admin.post(f"{URL}/{second['id']}/lifecycle/activate")).status_code == 200
    statuses = {k["kid"]: k["status"] for k in (await admin.get(URL)).json()}
    assert statuses == {"one": "INACTIVE", "two": "ACTIVE"}
    refused = await admin.delete(f"{URL}/{second['id']}")
    assert (refused.status_code, refused.json()["errorCode"]) == (400, "E0000001")
    assert (await admin.delete(f"{URL}/{first['id']}")).status_code == 204
    gone = await admin.get(f"{URL}/{first['id']}")
    assert (gone.status_code, gone.json()["errorCode"]) == (404, "E0000007")


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"status": "ACTIVE"}, "Keys cannot be created with an 'ACTIVE' status."),
        ({"kid": "taken"}, "Each key must have a unique 'kid'."),
        (
            {
                "n": _b64(
                    rsa.generate_private_key(public_exponent=65537, key_size=1024)
                    .public_key()
                    .public_numbers()
                    .n
                )
            },
            "less than '2,048' bits",
        ),
        ({"kty": "EC"}, "kty"),
        ({"kid": ""}, "kid"),
    ],
)
async def test_bad_keys_are_okta_e0000001(
    admin: httpx.AsyncClient, change: dict[str, Any], cause: str
) -> None:
    await add(admin, "taken")
    response = await admin.post(URL, json={**public_jwk("new"), **change})
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["errorCode"], body["errorSummary"]) == ("E0000001", "Api validation failed: JsonWebKey")
    assert cause in body["errorCauses"][0]["errorSummary"]


async def test_at_most_five_keys(admin: httpx.AsyncClient) -> None:
    for i in range(5):
        await add(admin, f"k{i}")
    response = await admin.post(URL, json=public_jwk("k5"))
    assert response.status_code == 400
    assert "maximum number of keys allowed (5)" in response.json()["errorCauses"][0]["errorSummary"]


async def test_unknown_servers_and_keys_are_okta_404s(admin: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", f"{AS}/nope/resourceservercredentials/keys"),
        ("GET", f"{URL}/apk00000000000000000"),
        ("DELETE", f"{URL}/apk00000000000000000"),
        ("POST", f"{URL}/apk00000000000000000/lifecycle/activate"),
    ):
        response = await admin.request(method, path)
        assert (response.status_code, response.json()["errorCode"]) == (404, "E0000007"), path


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("API_ACCESS_MANAGEMENT_ADMIN", 200, 201),
        ("ORG_ADMIN", 200, 403),
        ("APP_ADMIN", 200, 403),
        ("USER_ADMIN", 403, 403),
    ],
)
async def test_reading_needs_as_read_and_adding_as_manage(
    admin: httpx.AsyncClient, server: Server, role: str, read: int, write: int
) -> None:
    _holder, token = await admin_with(server, admin, f"{role.lower()}@example.com", role)
    async with server.client(token) as caller:
        assert (await caller.get(URL)).status_code == read
        response = await caller.post(URL, json=public_jwk("k"))
    assert response.status_code == write
    if write == 403:
        assert response.json()["errorCode"] == "E0000006"
