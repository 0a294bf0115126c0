"""Issue 14: an Express app with ``@okta/oidc-middleware`` 5 (pinned in ``tests/e2e/node``), as in
its README and unchanged, against ``ostiary serve`` over TLS: a ``web`` app created the way Okta's
guide creates it (no ``pkce_required``; the middleware never sends PKCE), sign-in on the hosted
page in Chromium, the ID token and userinfo, and ``POST /logout`` (revocation with
``client_secret_basic``, then the org's end-session endpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.client_app import decoded
from tests.e2e.okta_libs import (
    CHROMIUM,
    LOGIN,
    PASSWORD,
    admin_session,
    create_assigned_app,
    ensure_user,
    express_app,
    install_node_modules,
    launched_chromium,
)
from tests.e2e.servers import OrgServer, free_port

playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass(frozen=True)
class WebApp:
    base: str
    issuer: str
    client_id: str
    secret: str


@pytest.fixture(scope="module")
def web(org: OrgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    install_node_modules()
    port = free_port()
    base = f"http://localhost:{port}"
    admin = admin_session(org, "oidc-middleware")
    ensure_user(admin, org)
    app = create_assigned_app(
        admin,
        org,
        {
            "name": "oidc_client",
            "label": "Express app",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "application_type": "web",
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "redirect_uris": [f"{base}/authorization-code/callback"],
                    "post_logout_redirect_uris": [f"{base}/"],
                }
            },
        },
    )
    oauth = app["credentials"]["oauthClient"]
    assert oauth["pkce_required"] is False  # Okta's default for a web app
    issuer = f"{org.url}/oauth2/default"
    log = Path(tmp_path_factory.mktemp("express")) / "express.log"
    with express_app(org, issuer, oauth["client_id"], oauth["client_secret"], port, log):
        yield WebApp(base, issuer, oauth["client_id"], oauth["client_secret"])
    assert "oidc error" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def browser(web: WebApp) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, web: WebApp) -> dict[str, Any]:
    """Open a protected page, sign in on the hosted page, and return what the app received."""
    page.goto(f"{web.base}/protected")
    page.wait_for_url("**/login?**")
    page.fill("#username", LOGIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{web.base}/protected")
    return dict(page.evaluate("JSON.parse(document.body.innerText)"))


def active(web: WebApp, token: str) -> bool:
    response = requests.post(
        f"{web.issuer}/v1/introspect", data={"token": token}, auth=(web.client_id, web.secret), timeout=10
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


def test_a_user_signs_in_through_the_hosted_page(page: Any, web: WebApp) -> None:
    received = sign_in(page, web)
    assert received["userinfo"]["email"] == LOGIN and received["userinfo"]["name"] == "Lois Lane"
    id_token = decoded(received["id_token"])
    assert id_token["aud"] == web.client_id and id_token["iss"] == web.issuer
    assert decoded(received["access_token"])["cid"] == web.client_id
    page.goto(f"{web.base}/")
    assert page.locator("#hello").text_content() == "Hello Lois Lane!"


def test_logout_revokes_the_tokens_and_ends_the_org_session(page: Any, web: WebApp) -> None:
    received = sign_in(page, web)
    assert active(web, received["access_token"])
    page.goto(f"{web.base}/")
    logouts: list[str] = []
    page.on("request", lambda r: "/v1/logout?" in r.url and logouts.append(r.url))
    page.click("#logout")
    page.wait_for_url(f"{web.base}/")
    assert page.locator("#anonymous").is_visible()
    assert len(logouts) == 1 and "id_token_hint=" in logouts[0]
    assert not active(web, received["access_token"])
    page.goto(f"{web.base}/protected")  # the org session is gone too: the sign-in page again
    page.wait_for_url("**/login?**")
