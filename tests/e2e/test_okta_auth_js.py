"""Issue 14: ``@okta/okta-auth-js`` 8 (pinned in ``tests/e2e/node``), unchanged, in Debian's
Chromium against ``ostiary serve`` over TLS. A single-page app on its own https origin, set up as
docs/okta-sdks.md says (a browser app, its origin a trusted origin): sign-in with redirect,
``handleLoginRedirect``, ``token.getWithoutPrompt`` and ``tokenManager.renew`` without a refresh
token (a hidden iframe with ``response_mode=okta_post_message``), ``signOut`` with revocation
(``Authorization: Basic base64(clientId)``), then ``login_required``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
    install_node_modules,
    launched_chromium,
    serve_tls_in_thread,
    spa_site,
    trust_origin,
)
from tests.e2e.servers import OrgServer, free_port

playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass(frozen=True)
class Spa:
    origin: str
    issuer: str
    client_id: str


@pytest.fixture(scope="module")
def spa(org: OrgServer) -> Iterator[Spa]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    install_node_modules()
    port = free_port()
    origin = f"https://localhost:{port}"
    admin = admin_session(org, "okta-auth-js")
    ensure_user(admin, org)
    trust_origin(admin, org, origin)
    app = create_assigned_app(
        admin,
        org,
        {
            "name": "oidc_client",
            "label": "okta-auth-js SPA",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "none"}},
            "settings": {
                "oauthClient": {
                    "application_type": "browser",
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "redirect_uris": [f"{origin}/login/callback"],
                    "post_logout_redirect_uris": [f"{origin}/"],
                }
            },
        },
    )
    issuer = f"{org.url}/oauth2/default"
    with serve_tls_in_thread(spa_site(issuer, app["id"]), port):
        yield Spa(origin, issuer, app["id"])


@pytest.fixture(scope="module")
def browser(spa: Spa) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True)  # both servers use the tests' CA
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def ready(page: Any) -> str:
    return str(page.evaluate("window.ready"))


def sign_in_with_redirect(page: Any, spa: Spa) -> dict[str, Any]:
    """``signInWithRedirect`` → the hosted sign-in page → ``handleLoginRedirect``; the stored tokens."""
    page.goto(f"{spa.origin}/")
    assert ready(page) == "loaded"
    page.evaluate("authClient.signInWithRedirect()")
    page.wait_for_url("**/login?**")
    page.fill("#username", LOGIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{spa.origin}/login/callback?**")
    assert ready(page) == "signed-in", page.locator("#status").text_content()
    return dict(page.evaluate("authClient.tokenManager.getTokens()"))


def active(spa: Spa, token: str) -> bool:
    response = requests.post(
        f"{spa.issuer}/v1/introspect", data={"token": token, "client_id": spa.client_id}, timeout=10
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


def test_sign_in_with_redirect_and_handle_login_redirect(page: Any, spa: Spa) -> None:
    tokens = sign_in_with_redirect(page, spa)
    assert tokens["idToken"]["claims"]["email"] == LOGIN and tokens["idToken"]["issuer"] == spa.issuer
    assert decoded(tokens["accessToken"]["accessToken"])["cid"] == spa.client_id
    assert "refreshToken" not in tokens  # no offline_access: renewal must go through the iframe


def test_get_without_prompt_renews_silently_in_a_hidden_iframe(page: Any, spa: Spa) -> None:
    tokens = sign_in_with_redirect(page, spa)
    modes = []
    page.on("request", lambda r: "/v1/authorize?" in r.url and modes.append(r.url))
    renewed = page.evaluate("authClient.token.getWithoutPrompt().then((r) => r.tokens)")
    assert any("response_mode=okta_post_message" in url and "prompt=none" in url for url in modes)
    fresh = decoded(renewed["accessToken"]["accessToken"])
    assert fresh["sub"] == LOGIN and fresh["jti"] != decoded(tokens["accessToken"]["accessToken"])["jti"]
    assert renewed["idToken"]["claims"]["sub"] == tokens["idToken"]["claims"]["sub"]


def test_token_manager_renew_without_a_refresh_token(page: Any, spa: Spa) -> None:
    tokens = sign_in_with_redirect(page, spa)
    renewed = page.evaluate("authClient.tokenManager.renew('accessToken')")
    stored = page.evaluate("authClient.tokenManager.getTokens()")
    assert renewed["accessToken"] == stored["accessToken"]["accessToken"]
    assert renewed["accessToken"] != tokens["accessToken"]["accessToken"]
    assert decoded(renewed["accessToken"])["sub"] == LOGIN


def test_sign_out_revokes_the_token_and_then_silent_renewal_is_login_required(page: Any, spa: Spa) -> None:
    tokens = sign_in_with_redirect(page, spa)
    access_token = tokens["accessToken"]["accessToken"]
    revocations: list[str | None] = []
    page.on(
        "request",
        lambda r: r.url.endswith("/v1/revoke") and revocations.append(r.headers.get("authorization")),
    )
    logouts: list[str] = []
    page.on("request", lambda r: "/v1/logout?" in r.url and logouts.append(r.url))
    assert active(spa, access_token)
    with page.expect_navigation(url=f"{spa.origin}/"):
        page.evaluate("() => { authClient.signOut(); }")  # it navigates away: nothing to await
    assert ready(page) == "loaded"
    assert len(logouts) == 1 and "id_token_hint=" in logouts[0]
    assert revocations == ["Basic " + base64.b64encode(spa.client_id.encode()).decode()]
    assert not active(spa, access_token)
    error = page.evaluate(
        "authClient.token.getWithoutPrompt().then(() => null, (e) => ({name: e.name, code: e.errorCode}))"
    )
    assert error == {"name": "OAuthError", "code": "login_required"}


def test_a_foreign_site_cannot_frame_the_post_message_page(page: Any, spa: Spa) -> None:
    """The same silent request framed by another origin (https://127.0.0.1 instead of localhost):
    the browser refuses to render the page (frame-ancestors) and no message arrives."""
    query = urlencode(
        {
            "client_id": spa.client_id,
            "redirect_uri": f"{spa.origin}/login/callback",
            "response_type": "code",
            "response_mode": "okta_post_message",
            "prompt": "none",
            "scope": "openid",
            "state": "foreign",
            "nonce": "n",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    src = f"{spa.issuer}/v1/authorize?{query}"
    blocked: list[str] = []
    page.on("console", lambda m: "frame-ancestors" in m.text and blocked.append(m.text))
    foreign = spa.origin.replace("localhost", "127.0.0.1")
    page.goto(f"{foreign}/foreign?{urlencode({'src': src})}")
    page.wait_for_function("window.frameLoaded === true")
    assert blocked, "the browser did not report a frame-ancestors violation"
    assert page.evaluate("window.messages") == []


def test_get_with_popup_posts_to_the_opener(page: Any, spa: Spa) -> None:
    tokens = sign_in_with_redirect(page, spa)
    authorizations: list[str] = []
    page.context.on("request", lambda r: "/v1/authorize?" in r.url and authorizations.append(r.url))
    with page.expect_popup():
        renewed = page.evaluate("authClient.token.getWithPopup({}).then((r) => r.tokens)")
    assert any("display=popup" in u and "response_mode=okta_post_message" in u for u in authorizations)
    assert decoded(renewed["accessToken"]["accessToken"])["sub"] == LOGIN
    assert renewed["idToken"]["claims"]["sub"] == tokens["idToken"]["claims"]["sub"]
