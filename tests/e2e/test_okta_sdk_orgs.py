"""Issue 17: the unmodified ``okta`` SDK (3.4.6) pointed at org B's URL (``https://orgb.localhost:<port>``)
works with org B's API token and is refused with org A's; org A's token works at org A only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import CreateUserRequest

from tests.e2e.localhost_names import localhost_subdomains
from tests.e2e.servers import OSTIARY, free_port, ostiary_cli, running


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    """``{name: (url, API token)}`` for ``orga`` and ``orgb`` on one ``ostiary serve`` over TLS."""
    tmp = Path(tmp_path_factory.mktemp("sdk-orgs"))
    port = free_port()
    env = {
        "OSTIARY_DATA_DIR": str(tmp / "data"),
        "OSTIARY_BASE_URL": f"https://localhost:{port}",
        "OSTIARY_LOG_LEVEL": "warning",
    }
    found = {}
    for name in ("orga", "orgb"):
        url = ostiary_cli(env, "org", "create", name).strip().splitlines()[-1]
        token = ostiary_cli(env, "token", "create", "--name", "sdk", "--org", name).strip().splitlines()[-1]
        found[name] = (url, token)
    args = [
        OSTIARY,
        "serve",
        "--port",
        str(port),
        "--tls-cert",
        os.environ["OSTIARY_TEST_TLS_CERT"],
        "--tls-key",
        os.environ["OSTIARY_TEST_TLS_KEY"],
    ]
    with localhost_subdomains(), running(args, f"https://localhost:{port}/healthz", env, tmp / "serve.log"):
        yield found


def sdk(url: str, token: str) -> OktaClient:
    return OktaClient({"orgUrl": url, "token": token, "rateLimit": {"maxRetries": 0}})


def user(login: str) -> CreateUserRequest:
    return CreateUserRequest.from_dict(
        {"profile": {"login": login, "email": login, "firstName": "Sdk", "lastName": "User"}}
    )


async def test_org_b_with_org_b_token_works_and_with_org_a_token_is_refused(
    orgs: dict[str, tuple[str, str]],
) -> None:
    (a_url, a_token), (b_url, b_token) = orgs["orga"], orgs["orgb"]
    assert b_url.startswith("https://orgb.localhost:")
    async with sdk(b_url, b_token) as client:
        created, _, err = await client.create_user(user("b@orgb.example"), activate=False)
        assert err is None, err
        users, _, err = await client.list_users()
        assert err is None, err
        assert [u.profile.login for u in users] == ["b@orgb.example"]
    async with sdk(b_url, a_token) as client:
        _, _, err = await client.list_users()
        assert isinstance(err, OktaAPIError)
        assert err.error_code == "E0000011"
        _, _, err = await client.get_user(created.id)
        assert isinstance(err, OktaAPIError)
    async with sdk(a_url, a_token) as client:
        users, _, err = await client.list_users()
        assert err is None, err
        assert users == []  # org B's user is not org A's
        _, _, err = await client.get_user(created.id)
        assert isinstance(err, OktaAPIError)
        assert err.error_code == "E0000007"
