"""A client assertion's ``jti`` is used up by client authentication, whatever follows (RFC 7523
§3): a ``/revoke`` or ``/introspect`` request that fails after authenticating the client must
not leave the assertion replayable, at those endpoints or at ``/token``."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.oauth import ORG, assertion, client_token, key_client, service_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REPLAYED = "The client_assertion token has already been used."
FOREIGN = "(an access token of another client)"


def assertion_form(endpoint: str, client_id: str, key: object, kid: str, **params: str) -> dict[str, str]:
    """An assertion for the org AS's ``endpoint`` (its ``aud`` is that endpoint's URL, as Okta
    requires: test_client_assertion_audience.py)."""
    signed = assertion(client_id, key, kid, aud=f"{ORG}/oauth2/v1/{endpoint}")
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **params}


def assert_replayed(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_client", "error_description": REPLAYED}


@pytest.mark.parametrize(
    ("endpoint", "failing_params", "failure"),
    [
        ("revoke", {}, "invalid_request"),  # no token
        ("revoke", {"token": FOREIGN}, "unauthorized_client"),
        ("introspect", {}, "invalid_request"),
        ("introspect", {"token": "t", "token_type_hint": "nope"}, "unsupported_token_type"),
    ],
)
async def test_an_assertion_of_a_request_failing_after_authentication_cannot_be_replayed(
    any_admin: httpx.AsyncClient,
    any_server: Server,
    endpoint: str,
    failing_params: dict[str, str],
    failure: str,
) -> None:
    client_id, key, kid = await key_client(any_admin, "okta.users.read")
    other, other_secret = await service_client(any_admin, "okta.users.read")
    async with any_server.client() as anon:
        if failing_params.get("token") == FOREIGN:
            token = (await client_token(anon, other, other_secret, "okta.users.read")).json()["access_token"]
            failing_params = {"token": token}
        form = assertion_form(endpoint, client_id, key, kid, **failing_params)
        failed = await anon.post(f"/oauth2/v1/{endpoint}", data=form)
        assert (failed.status_code, failed.json()["error"]) == (400, failure), failed.text
        assert_replayed(await anon.post(f"/oauth2/v1/{endpoint}", data={**form, "token": "t"}))
        token_form = {**form, "grant_type": "client_credentials", "scope": "okta.users.read"}
        token_form.pop("token", None)
        token_form.pop("token_type_hint", None)
        at_token = await anon.post("/oauth2/v1/token", data=token_form)
    # Not an assertion for /token either: refused whatever its jti.
    assert (at_token.status_code, at_token.json()["error"]) == (401, "invalid_client"), at_token.text


async def test_a_failed_revocation_with_an_assertion_changes_nothing_else(
    admin: httpx.AsyncClient, server: Server
) -> None:
    """The request's own writes are undone: the other client's token stays valid."""
    client_id, key, kid = await key_client(admin, "okta.users.read")
    other, other_secret = await service_client(admin, "okta.users.read")
    async with server.client() as anon:
        token = (await client_token(anon, other, other_secret, "okta.users.read")).json()["access_token"]
        form = assertion_form("revoke", client_id, key, kid, token=token)
        refused = await anon.post("/oauth2/v1/revoke", data=form)
        assert refused.status_code == 400, refused.text
        users = await anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200, users.text


async def test_a_successful_revocation_with_an_assertion_uses_it_up(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, key, kid = await key_client(admin, "okta.users.read")
    async with server.client() as anon:
        form = assertion_form("revoke", client_id, key, kid, token="unknown")
        assert (await anon.post("/oauth2/v1/revoke", data=form)).status_code == 200
        assert_replayed(await anon.post("/oauth2/v1/revoke", data=form))
