"""Issue 6 acceptance in a real browser (Playwright on Debian's Chromium) against ``ostiary serve``
over TLS, with a small client web app: sign-in on the hosted page and the code exchange, the
implicit ``token id_token`` flow, ``prompt=login`` despite a session, and logout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.client_app import ClientConfig, build_client_app, decoded, serve_in_thread
from tests.e2e.servers import OrgServer, free_port

playwright_api = pytest.importorskip("playwright.sync_api")

LOGIN = "clark.kent@example.com"
PASSWORD = "Tr1cky-Secret!"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def client_app(org: OrgServer) -> Iterator[ClientConfig]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    admin = requests.Session()
    admin.headers.update(
        {"Authorization": f"SSWS {org.create_token('browser')}", "Accept": "application/json"}
    )
    user = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Clark", "lastName": "Kent"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    assert admin.post(f"{org.url}/api/v1/users?activate=true", json=user).status_code == 200
    body = {
        "name": "oidc_client",
        "label": "Browser Test App",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {
            "oauthClient": {"token_endpoint_auth_method": "client_secret_basic", "pkce_required": False}
        },
        "settings": {
            "oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code", "implicit"],
                "response_types": ["code", "token", "id_token"],
                "redirect_uris": [f"{base}/callback", f"{base}/implicit"],
                "post_logout_redirect_uris": [f"{base}/signed-out"],
            }
        },
    }
    app = admin.post(f"{org.url}/api/v1/apps", json=body).json()
    everyone = admin.get(f"{org.url}/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assert admin.put(f"{org.url}/api/v1/apps/{app['id']}/groups/{everyone}", json={}).status_code == 200
    oauth = app["credentials"]["oauthClient"]
    config = ClientConfig(
        issuer=f"{org.url}/oauth2/default",
        client_id=oauth["client_id"],
        client_secret=oauth["client_secret"],
        base_url=base,
    )
    with serve_in_thread(build_client_app(config), port):
        yield config


@pytest.fixture(scope="module")
def browser(client_app: ClientConfig) -> Iterator[Any]:
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
    context = browser.new_context(ignore_https_errors=True)  # the org's certificate comes from a test CA
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def result(page: Any) -> dict[str, Any]:
    page.wait_for_function(
        "document.getElementById('result') && document.getElementById('result').textContent"
    )
    return dict(json.loads(page.locator("#result").text_content()))


def sign_in(page: Any, client_app: ClientConfig, *, screenshot: bool = False) -> dict[str, Any]:
    """Start the code flow, sign in on the hosted page, and return what the client app received."""
    page.goto(f"{client_app.base_url}/start?flow=code&login_hint={LOGIN}")
    page.wait_for_url("**/login?**")
    assert page.locator("#username").input_value() == LOGIN  # login_hint
    if screenshot:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "signin.png"), full_page=True)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{client_app.callback}?**")
    return result(page)


def test_a_user_signs_in_on_the_hosted_page_and_the_app_gets_tokens(
    page: Any, client_app: ClientConfig
) -> None:
    received = sign_in(page, client_app, screenshot=True)
    assert received["status"] == 200, received
    assert received["state_known"] and received["nonce_ok"]
    assert received["access_token"]["sub"] == LOGIN and received["access_token"]["aud"] == "api://default"
    assert (
        received["id_token"]["aud"] == client_app.client_id and received["id_token"]["name"] == "Clark Kent"
    )
    assert (ARTIFACTS / "signin.png").stat().st_size > 1000


def test_the_implicit_flow_delivers_both_tokens_in_the_fragment(page: Any, client_app: ClientConfig) -> None:
    sign_in(page, client_app)
    page.goto(f"{client_app.base_url}/start?flow=implicit")
    page.wait_for_url(f"{client_app.implicit_callback}#**")
    received = result(page)
    nonce = client_app.pending.pop(received["state"])  # the nonce the app sent with this state
    assert received["token_type"] == "Bearer" and received["scope"] == "openid profile email"
    assert decoded(received["id_token"])["nonce"] == nonce
    assert decoded(received["access_token"])["sub"] == LOGIN


def test_prompt_login_asks_for_credentials_again_despite_a_session(
    page: Any, client_app: ClientConfig
) -> None:
    sign_in(page, client_app)
    page.goto(f"{client_app.base_url}/start?flow=code")  # the session signs in silently
    page.wait_for_url(f"{client_app.callback}?**")
    page.goto(f"{client_app.base_url}/start?flow=code&prompt=login")
    page.wait_for_url("**/login?**")
    assert page.locator("#password").is_visible()
    page.fill("#username", LOGIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{client_app.callback}?**")
    assert result(page)["status"] == 200


def test_logout_ends_the_session(page: Any, client_app: ClientConfig) -> None:
    sign_in(page, client_app)
    page.goto(f"{client_app.base_url}/logout")
    page.wait_for_url(f"{client_app.signed_out}?**")
    assert result(page) == {"state": "bye"}
    page.goto(f"{client_app.base_url}/start?flow=code&prompt=none")
    page.wait_for_url(f"{client_app.callback}?**")
    assert result(page)["error"] == "login_required"
