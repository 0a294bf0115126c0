"""Issue 7 acceptance for users, against the running demo: the scripted sign-in
(authn → authorize with code + PKCE → token) for clark and lois, then the gateway matrix; and the
API Center demo app driven by Playwright on Debian's Chromium, with screenshots as artifacts."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from tests.e2e.demo_server import running_demo

PASSWORD = "Demo-Passw0rd-users"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CLARK, LOIS = "clark.kent@example.com", "lois.lane@example.com"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_demo(Path(tmp_path_factory.mktemp("demo-users")) / "data", PASSWORD) as found:
        yield found


def test_tier_groups_are_filled_by_active_group_rules(demo: dict[str, Any]) -> None:
    with requests.Session() as admin:
        admin.headers["Authorization"] = f"SSWS {demo['api_token']}"
        rules = admin.get(f"{demo['org_url']}/api/v1/groups/rules").json()
        assert sorted((r["name"], r["status"]) for r in rules) == [
            ("gold subscribers", "ACTIVE"),
            ("silver subscribers", "ACTIVE"),
        ]
        for rule in rules:
            (group_id,) = rule["actions"]["assignUserToGroups"]["groupIds"]
            members = admin.get(f"{demo['org_url']}/api/v1/groups/{group_id}/users").json()
            expected = CLARK if rule["name"].startswith("silver") else LOIS
            assert [m["profile"]["login"] for m in members] == [expected]


def authorize(demo: dict[str, Any], login: str, scopes: list[str]) -> dict[str, list[str]]:
    """authn → sessionToken → authorize; returns the parameters the redirect URI received."""
    org, issuer = demo["org_url"], demo["authorization_server"]["issuer"]
    web = demo["web_client"]
    authn = requests.post(f"{org}/api/v1/authn", json={"username": login, "password": PASSWORD}, timeout=10)
    assert authn.status_code == 200, authn.text
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = requests.get(
        f"{issuer}/v1/authorize",
        params={
            "client_id": web["client_id"],
            "response_type": "code",
            "scope": " ".join(["openid", *scopes]),
            "redirect_uri": web["redirect_uri"],
            "state": "s-1",
            "nonce": "n-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "sessionToken": authn.json()["sessionToken"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(web["redirect_uri"])
    received = parse_qs(urlsplit(location).query)
    received["verifier"] = [verifier]
    return received


def access_token(demo: dict[str, Any], login: str, scopes: list[str]) -> str:
    received = authorize(demo, login, scopes)
    assert received["state"] == ["s-1"]
    web = demo["web_client"]
    token = requests.post(
        f"{demo['authorization_server']['issuer']}/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": received["code"][0],
            "redirect_uri": web["redirect_uri"],
            "code_verifier": received["verifier"][0],
        },
        auth=(web["client_id"], web["client_secret"]),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def call(demo: dict[str, Any], path: str, token: str) -> requests.Response:
    return requests.get(
        f"{demo['gateway_url']}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_clark_reads_planets_but_not_moons(demo: dict[str, Any]) -> None:
    silver = demo["scopes"]["silver"]
    token = access_token(demo, CLARK, [silver])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == CLARK and claims["scp"] == ["openid", silver]
    planets = call(demo, "/planets", token)
    assert planets.status_code == 200
    assert planets.content == requests.get(f"{demo['upstream_url']}/planets", timeout=10).content
    moons = call(demo, "/moons", token)
    assert moons.status_code == 403
    assert 'error="insufficient_scope"' in moons.headers["WWW-Authenticate"]


def test_lois_reads_planets_and_moons(demo: dict[str, Any]) -> None:
    token = access_token(demo, LOIS, [demo["scopes"]["silver"], demo["scopes"]["gold"]])
    assert call(demo, "/planets", token).status_code == 200
    moons = call(demo, "/moons", token)
    assert moons.status_code == 200
    assert moons.json() == ["adrastea", "amalthea", "callisto", "europa", "ganymede", "io", "metis", "thebe"]


def test_clark_asking_for_gold_is_denied(demo: dict[str, Any]) -> None:
    received = authorize(demo, CLARK, [demo["scopes"]["silver"], demo["scopes"]["gold"]])
    assert received["error"] == ["access_denied"]
    assert "code" not in received


# --- the API Center demo app in a browser ---------------------------------------------------

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_on_demo_app(page: Any, demo: dict[str, Any], user_index: int, flow: str) -> None:
    page.goto(demo["app_url"] + "/")
    page.click(f"#{flow}-{user_index + 1}")
    page.wait_for_url("**/login?**")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#whoami")


def press(page: Any, button: str) -> tuple[str, str]:
    page.click(f"#call-{button}")
    page.wait_for_selector("#result-status")
    return page.locator("#result-status").text_content().strip(), page.locator("#result-body").text_content()


def test_lois_sees_her_tokens_planets_and_moons_in_the_demo_app(page: Any, demo: dict[str, Any]) -> None:
    sign_in_on_demo_app(page, demo, 1, "code")
    assert LOIS in page.locator("#whoami").text_content()
    assert demo["scopes"]["gold"] in page.locator("#access-claims").text_content()
    assert '"nonce"' in page.locator("#id-claims").text_content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-app-lois.png"), full_page=True)
    assert press(page, "planets")[0] == "200"
    status, body = press(page, "moons")
    assert status == "200" and "ganymede" in body
    page.screenshot(path=str(ARTIFACTS / "demo-app-lois-moons.png"), full_page=True)


def test_clark_gets_403_for_moons_in_the_demo_app_with_the_implicit_flow(
    page: Any, demo: dict[str, Any]
) -> None:
    sign_in_on_demo_app(page, demo, 0, "implicit")
    assert "implicit" in page.locator("#whoami").text_content()
    assert press(page, "planets")[0] == "200"
    assert press(page, "moons")[0] == "403"
    page.screenshot(path=str(ARTIFACTS / "demo-app-clark-moons.png"), full_page=True)
