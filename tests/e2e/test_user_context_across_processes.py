"""Two ``ostiary serve`` processes on one PostgreSQL database: a user suspended through one is
refused by the other at once, although the other has the user's context cached
(``domain.tokens.user_context_cache``, cleared by the ``directory`` cache event that
``store.directory_events`` announces at commit).

Process B redeems a code and checks the tokens (introspection, userinfo, a refresh), which
caches the user; process C suspends the user; B is then asked again until a deadline far
inside the cache's TTL (5 s without events, 300 s with them): only the event explains B's
refusal.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import Server, _server
from tests.e2e.servers import OrgServer, org_server, until

pytestmark = pytest.mark.postgres

REDIRECT = "https://app.example.com/callback"
LOGIN, PASSWORD = "carl.sagan@example.com", "Tr1cky-Secret!"
DELIVERY = 3.0
"""Seconds B may take to hear of C's commit (a NOTIFY arrives in milliseconds; the margin is
for a loaded machine)."""


@pytest.fixture
async def database(tmp_path: Path, postgres_database: str | None) -> AsyncIterator[Server]:
    """The test database, emptied; its in-process server only hands out an API token."""
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    async for server in _server(tmp_path / "setup", postgres_database):
        yield server


def _listening(server: OrgServer) -> bool:
    return bool(requests.get(f"{server.url}/healthz", timeout=2).json().get("cacheEvents") == "listening")


@pytest.fixture
def two_processes(database: Server, tmp_path: Path) -> Iterator[tuple[OrgServer, OrgServer]]:
    url = database.rt.settings.database_url
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    shared = str(tmp_path / "b" / "org")  # C uses B's data dir: the master key of the signing keys
    with (
        org_server(tmp_path / "b", OSTIARY_DATABASE_URL=url) as b,
        org_server(tmp_path / "c", OSTIARY_DATABASE_URL=url, OSTIARY_DATA_DIR=shared) as c,
    ):
        assert until(lambda: _listening(b) and _listening(c))
        yield b, c


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _setup(admin: requests.Session, url: str) -> tuple[str, str, str]:
    """A web app (code and refresh grants) assigned to Everyone, and an active user: the app's
    id and secret, and the user's id."""
    body = {
        "name": "oidc_client",
        "label": "web",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": [REDIRECT],
            }
        },
    }
    created = admin.post(f"{url}/api/v1/apps", json=body)
    assert created.status_code == 200, created.text
    oauth = created.json()["credentials"]["oauthClient"]
    everyone = admin.get(f"{url}/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assert admin.put(f"{url}/api/v1/apps/{oauth['client_id']}/groups/{everyone}", json={}).status_code == 200
    user = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Carl", "lastName": "Sagan"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    made = admin.post(f"{url}/api/v1/users?activate=true", json=user)
    assert made.status_code == 200, made.text
    return oauth["client_id"], oauth["client_secret"], made.json()["id"]


def _tokens(url: str, client_id: str, secret: str) -> dict[str, str]:
    browser = requests.Session()
    authn = browser.post(f"{url}/api/v1/authn", json={"username": LOGIN, "password": PASSWORD})
    assert authn.status_code == 200, authn.text
    answer = browser.get(
        f"{url}/oauth2/default/v1/authorize",
        params={
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "openid offline_access",
            "state": "s",
            "nonce": "n",
            "sessionToken": authn.json()["sessionToken"],
        },
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(answer.headers.get("location", "")).query).get("code")
    assert answer.status_code == 302 and code, answer.text
    redeemed = requests.post(
        f"{url}/oauth2/default/v1/token",
        data={"grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT},
        headers=_basic(client_id, secret),
    )
    assert redeemed.status_code == 200, redeemed.text
    return dict(redeemed.json())


async def test_a_user_suspended_through_one_process_is_refused_by_the_other_at_once(
    database: Server, two_processes: tuple[OrgServer, OrgServer]
) -> None:
    b, c = two_processes
    admin = requests.Session()
    admin.headers["Authorization"] = f"SSWS {await database.create_token()}"
    client_id, secret, user_id = _setup(admin, b.url)
    tokens = _tokens(b.url, client_id, secret)
    access, refresh = tokens["access_token"], tokens["refresh_token"]

    def introspected_active() -> bool:
        answer = requests.post(
            f"{b.url}/oauth2/default/v1/introspect",
            data={"token": access, "token_type_hint": "access_token"},
            headers=_basic(client_id, secret),
        )
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])

    def userinfo_status() -> int:
        return requests.get(
            f"{b.url}/oauth2/default/v1/userinfo", headers={"Authorization": f"Bearer {access}"}
        ).status_code

    def refresh_status() -> int:
        return requests.post(
            f"{b.url}/oauth2/default/v1/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh},
            headers=_basic(client_id, secret),
        ).status_code

    # B has the user's context cached now (the redemption read it; these read it again).
    assert introspected_active() and userinfo_status() == 200

    suspended = admin.post(f"{c.url}/api/v1/users/{user_id}/lifecycle/suspend")
    assert suspended.status_code == 200, suspended.text

    assert until(lambda: not introspected_active(), seconds=DELIVERY), "B still says the token is active"
    assert userinfo_status() == 401
    assert refresh_status() == 400
