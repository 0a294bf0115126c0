"""Two processes on one PostgreSQL database: a write made by one takes effect in the other at
once, not when the other's cached copy expires (clients 5 s, policy sets 10 s).

Process B is a real ``ostiary serve``; process A is this test's own in-process app on the same
database. Each scenario first makes B cache the state, then changes it through A, then asks B
again for up to 2 s — well inside the TTLs, so only the announcement can explain the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests

from tests.conftest import Server, _server
from tests.e2e.api_token_revocation import revoked_token_is_refused_by_the_other
from tests.e2e.servers import OrgServer, client_credentials_server, org_server, until
from tests.support.apps import service_app
from tests.support.oauth import basic

pytestmark = pytest.mark.postgres


@pytest.fixture
async def process_a(tmp_path: Path, postgres_database: str | None) -> Server:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    async for server in _server(tmp_path / "a", postgres_database):  # empties the tables first
        yield server  # type: ignore[misc]


@pytest.fixture
def process_b(process_a: Server, tmp_path: Path) -> Iterator[OrgServer]:
    (tmp_path / "b").mkdir()
    with org_server(tmp_path / "b", OSTIARY_DATABASE_URL=process_a.rt.settings.database_url) as server:
        until(
            lambda: requests.get(f"{server.url}/healthz", timeout=2).json().get("cacheEvents") == "listening"
        )
        yield server


def _admin_and_service_app(process_b: OrgServer, token: str) -> tuple[requests.Session, str, str]:
    """An SSWS session on B and a new client_credentials app (id, secret) made through it."""
    session = requests.Session()
    session.headers["Authorization"] = f"SSWS {token}"
    app = session.post(f"{process_b.url}/api/v1/apps", json=service_app()).json()
    credentials = app["credentials"]["oauthClient"]
    return session, credentials["client_id"], credentials["client_secret"]


async def test_a_deactivated_app_stops_working_in_the_other_process_at_once(
    process_a: Server, process_b: OrgServer
) -> None:
    token = await process_a.create_token()
    b, client_id, secret = _admin_and_service_app(process_b, token)
    grant = b.post(
        f"{process_b.url}/api/v1/apps/{client_id}/grants",
        json={"issuer": process_b.url, "scopeId": "okta.users.read"},
    )
    assert grant.status_code == 201, grant.text
    issued = requests.post(
        f"{process_b.url}/oauth2/v1/token",
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        headers=basic(client_id, secret),
    )
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert (
        requests.get(f"{process_b.url}/api/v1/users", headers=bearer).status_code == 200
    )  # B caches the app

    async with process_a.client(token) as a:
        deactivated = await a.post(f"/api/v1/apps/{client_id}/lifecycle/deactivate")
    assert deactivated.status_code == 200, deactivated.text

    assert until(
        lambda: requests.get(f"{process_b.url}/api/v1/users", headers=bearer).status_code == 401, seconds=2
    ), "process B still honours the deactivated app's token"


async def test_a_policy_change_applies_in_the_other_process_at_once(
    process_a: Server, process_b: OrgServer
) -> None:
    token = await process_a.create_token()
    b, client_id, secret = _admin_and_service_app(process_b, token)
    server_id, policy_id = client_credentials_server(b, process_b.url, "two:read")

    def token_status() -> int:
        return requests.post(
            f"{process_b.url}/oauth2/{server_id}/v1/token",
            data={"grant_type": "client_credentials", "scope": "two:read"},
            headers=basic(client_id, secret),
        ).status_code

    assert token_status() == 200  # B caches the server's policy set

    async with process_a.client(token) as a:
        response: httpx.Response = await a.post(
            f"/api/v1/authorizationServers/{server_id}/policies/{policy_id}/lifecycle/deactivate"
        )
    assert response.status_code == 204, response.text

    assert until(lambda: token_status() == 400, seconds=2), "process B still applies the old policy"


async def test_a_revoked_api_token_stops_working_in_the_other_process_at_once(
    process_a: Server, process_b: OrgServer
) -> None:
    await revoked_token_is_refused_by_the_other(process_a, process_b)
