"""A client assertion (private_key_jwt / client_secret_jwt) must name the endpoint it is sent to
as ``aud``, as Okta requires ("The audience claim for client_assertion must be the endpoint
invoked for the request."): the issuer URL, which for the org authorization server is the org
URL itself, is not an audience of the token, introspect or revoke endpoint (RFC 7523 §3: an
assertion meant for one use must not be replayable at another). The okta SDK's PrivateKey mode
sends ``{orgUrl}/oauth2/v1/token`` and keeps working (tests/e2e/test_okta_sdk_private_key.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.oauth import ORG, TOKEN_URL, assertion, key_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
BAD_AUDIENCE = "The audience claim for client_assertion must be the endpoint invoked for the request."
CUSTOM = f"{ORG}/oauth2/default"


def form(signed: str, **params: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **params}


def assert_bad_audience(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_client", "error_description": BAD_AUDIENCE}


@pytest.mark.parametrize(
    ("path", "aud"),
    [
        ("/oauth2/v1/token", ORG),  # the org AS's issuer
        ("/oauth2/v1/introspect", ORG),
        ("/oauth2/v1/revoke", ORG),
        ("/oauth2/v1/introspect", TOKEN_URL),  # another endpoint of the same server
        ("/oauth2/default/v1/introspect", CUSTOM),  # a custom AS's issuer
        ("/oauth2/default/v1/revoke", CUSTOM),
        ("/oauth2/default/v1/introspect", f"{CUSTOM}/v1/token"),
        ("/oauth2/default/v1/introspect", f"{ORG}/oauth2/v1/introspect"),  # another server's
    ],
)
async def test_an_assertion_naming_anything_but_the_invoked_endpoint_is_invalid_client(
    admin: httpx.AsyncClient, server: Server, path: str, aud: str
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    if path.endswith("/token"):
        params = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    else:
        params = {"token": "not-a-token"}
    async with server.client() as anon:
        response = await anon.post(path, data=form(assertion(client_id, key, kid, aud=aud), **params))
    assert_bad_audience(response)


async def test_the_issuer_audience_is_refused_as_a_string_in_a_list_too(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    body = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    async with server.client() as anon:
        response = await anon.post(
            "/oauth2/v1/token", data=form(assertion(client_id, key, kid, aud=[ORG]), **body)
        )
    assert_bad_audience(response)


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/v1/introspect",
        "/oauth2/v1/revoke",
        "/oauth2/default/v1/introspect",
        "/oauth2/default/v1/revoke",
    ],
)
async def test_the_invoked_endpoints_url_is_accepted(
    admin: httpx.AsyncClient, server: Server, path: str
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    async with server.client() as anon:
        response = await anon.post(
            path, data=form(assertion(client_id, key, kid, aud=f"{ORG}{path}"), token="not-a-token")
        )
    assert response.status_code == 200, response.text
    # the client was authenticated and the token read: an unknown token is inactive (RFC 7662
    # §2.2), and revoking one is a success with an empty body (RFC 7009 §2.2)
    assert response.json() == {"active": False} if path.endswith("introspect") else response.content == b""


async def test_the_okta_sdks_private_key_assertion_still_gets_a_token(
    admin: httpx.AsyncClient, server: Server
) -> None:
    """okta 3.4.6 ``okta/jwt.py``: ``aud`` = ``orgUrl + "/oauth2/v1/token"``, iss = sub = client id."""
    client_id, key, kid = await key_client(admin, "okta.users.read")
    body = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    async with server.client() as anon:
        response = await anon.post(
            "/oauth2/v1/token", data=form(assertion(client_id, key, kid, aud=TOKEN_URL), **body)
        )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "okta.users.read"
