"""/api/v1/apps/{appId}/credentials/keys: an app's X.509 key credentials, generated for
``validityYears``, read, listed and cloned to another app, as Okta's JsonWebKey with x5c."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import httpx
import pytest
from cryptography import x509
from okta.models import JsonWebKey

from ostiary.jose.b64 import b64url_encode
from ostiary.timeutil import parse_iso, utcnow
from tests.conftest import Server
from tests.support.refresh_tokens import web_client
from tests.unit.management.test_admin_roles_api import admin_with


def keys_url(app_id: str) -> str:
    return f"/api/v1/apps/{app_id}/credentials/keys"


async def generate(admin: httpx.AsyncClient, app_id: str, years: str = "2") -> httpx.Response:
    return await admin.post(f"{keys_url(app_id)}/generate", params={"validityYears": years})


async def test_a_generated_key_is_a_self_signed_certificate_jwk(any_admin: httpx.AsyncClient) -> None:
    app_id, _ = await web_client(any_admin)
    assert (await any_admin.get(keys_url(app_id))).json() == []
    response = await generate(any_admin, app_id, "5")
    assert response.status_code == 201, response.text
    key = response.json()
    assert (key["kty"], key["use"], key["e"]) == ("RSA", "sig", "AQAB")
    der = base64.b64decode(key["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    assert cert.issuer == cert.subject
    assert key["x5t#S256"] == b64url_encode(hashlib.sha256(der).digest())
    numbers = cert.public_key().public_numbers()  # type: ignore[union-attr]
    assert base64.urlsafe_b64decode(key["n"] + "==") == numbers.n.to_bytes(256, "big")
    expires = parse_iso(key["expiresAt"])
    assert abs(expires - (utcnow() + timedelta(days=365 * 5))) < timedelta(minutes=5)
    assert abs(cert.not_valid_after_utc - expires) < timedelta(seconds=1)
    assert parse_iso(key["created"]) <= utcnow()
    assert JsonWebKey.from_dict(key) is not None
    assert (await any_admin.get(keys_url(app_id))).json() == [key]
    assert (await any_admin.get(f"{keys_url(app_id)}/{key['kid']}")).json() == key


async def test_cloning_copies_the_certificate_once(admin: httpx.AsyncClient) -> None:
    source, _ = await web_client(admin)
    target, _ = await web_client(admin, label="Target")
    key = (await generate(admin, source)).json()
    response = await admin.post(f"{keys_url(source)}/{key['kid']}/clone", params={"targetAid": target})
    assert response.status_code == 201, response.text
    assert response.json()["x5c"] == key["x5c"] and response.json()["kid"] == key["kid"]
    assert [k["kid"] for k in (await admin.get(keys_url(target))).json()] == [key["kid"]]
    again = await admin.post(f"{keys_url(source)}/{key['kid']}/clone", params={"targetAid": target})
    assert (again.status_code, again.json()["errorCode"]) == (400, "E0000001")
    assert again.json()["errorSummary"] == "Api validation failed: cloneKey"
    assert again.json()["errorCauses"] == [
        {"errorSummary": "Key already exists in the list of key credentials for the target app."}
    ]


@pytest.mark.parametrize("years", ["1", "11", "x", ""])
async def test_validity_out_of_range_is_okta_e0000001(admin: httpx.AsyncClient, years: str) -> None:
    app_id, _ = await web_client(admin)
    response = await generate(admin, app_id, years)
    assert response.status_code == 400
    body = response.json()
    assert (body["errorCode"], body["errorSummary"]) == ("E0000001", "Api validation failed: generateKey")
    assert body["errorCauses"] == [
        {"errorSummary": "Validity years out of range. It should be 2 - 10 years."}
    ]


async def test_unknown_apps_and_keys_are_okta_404s(admin: httpx.AsyncClient) -> None:
    app_id, _ = await web_client(admin)
    key = (await generate(admin, app_id)).json()
    for method, path, params in (
        ("GET", keys_url("0oa00000000000000000"), {}),
        ("POST", f"{keys_url('0oa00000000000000000')}/generate", {"validityYears": "2"}),
        ("GET", f"{keys_url(app_id)}/nope", {}),
        ("POST", f"{keys_url(app_id)}/nope/clone", {"targetAid": app_id}),
        ("POST", f"{keys_url(app_id)}/{key['kid']}/clone", {"targetAid": "0oa00000000000000000"}),
    ):
        response = await admin.request(method, path, params=params)
        assert (response.status_code, response.json()["errorCode"]) == (404, "E0000007"), path


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("APP_ADMIN", 200, 201), ("API_ACCESS_MANAGEMENT_ADMIN", 200, 403), ("USER_ADMIN", 403, 403)],
)
async def test_reading_needs_apps_read_and_generating_apps_manage(
    admin: httpx.AsyncClient, server: Server, role: str, read: int, write: int
) -> None:
    app_id, _ = await web_client(admin)
    _holder, token = await admin_with(server, admin, f"{role.lower()}@example.com", role)
    async with server.client(token) as caller:
        assert (await caller.get(keys_url(app_id))).status_code == read
        response = await generate(caller, app_id)
    assert response.status_code == write
    if write == 403:
        assert response.json()["errorCode"] == "E0000006"
