"""Issue 16 in a real browser (Debian's Chromium): a legacy app behind the access gateway
proxy. The browser opens the app's public URL on ``*.localhost``, signs in on the org's
hosted page, and the app sees its login in ``X-Remote-User``; a forged ``X-Remote-User``
never reaches the app; the assertion header verifies against the JWKS; a user outside the
app's groups gets the denied page; logout (single logout) forces a new sign-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from ostiary.access_gateway.proxy.app import make_proxy_app
from ostiary.access_gateway.proxy.assertion import jwks_app
from ostiary.access_gateway.proxy.catalog import StaticAppCatalog
from tests.e2e.oag_proxy_env import PASSWORD, EchoApp, Org, app_document, serve_asgi
from tests.e2e.okta_libs import CHROMIUM, launched_chromium
from tests.e2e.servers import OrgServer, free_port

pytest.importorskip("playwright.sync_api")

ALICE = "alice.browser@example.com"
BOB = "bob.browser@example.com"


@dataclass
class Gateway:
    public: str
    jwks_url: str
    issuer: str
    echo: EchoApp


@pytest.fixture(scope="module")
def gateway(org: OrgServer) -> Iterator[Gateway]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    admin = Org(org, "oag-browser")
    alice = admin.user(ALICE, "Alice", "Browser")
    admin.user(BOB, "Bob", "Browser")
    staff = admin.group("Staff", alice)
    port, echo_port, jwks_port = free_port(), free_port(), free_port()
    public = f"http://legacy.localhost:{port}"
    oidc = admin.gateway_client("Legacy (browser)", public, staff)
    echo = EchoApp("legacy")
    document = app_document(
        "legacy-browser",
        f"legacy.localhost:{port}",
        [(f"http://127.0.0.1:{echo_port}", 1)],
        oidc,
        groups=[staff],
        behavior={"singleLogout": True},
    )
    proxy = make_proxy_app(StaticAppCatalog([document]), public_url=f"http://localhost:{jwks_port}")
    with (
        serve_asgi(echo, echo_port),
        serve_asgi(jwks_app(proxy.assertion_keys), jwks_port),
        serve_asgi(proxy, port, lifespan="on"),
    ):
        yield Gateway(
            public,
            f"http://localhost:{jwks_port}/api/v2/.well-known/jwks.json",
            f"http://localhost:{jwks_port}",
            echo,
        )
    admin.close()


@pytest.fixture(scope="module")
def browser(gateway: Gateway) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(ignore_https_errors=True)  # the org's certificate comes from a test CA
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def hosted_sign_in(page: Any, login: str) -> None:
    page.wait_for_url("**/login?**")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def pages_seen(echo: EchoApp) -> list[str]:
    return [path for path in echo.hits if path != "/favicon.ico"]


def echoed(page: Any) -> dict[str, Any]:
    return dict(json.loads(page.locator("pre").first.inner_text()))


def test_sign_in_through_the_gateway_and_the_app_sees_who_it_is(page: Any, gateway: Gateway) -> None:
    page.goto(f"{gateway.public}/reports/2024?view=full")
    hosted_sign_in(page, ALICE)
    page.wait_for_url(f"{gateway.public}/reports/2024?view=full")  # the deep link, after the callback
    seen = echoed(page)
    assert seen["headers"]["x-remote-user"] == ALICE
    assert "cookie" not in seen["headers"]  # the gateway's session cookie stays with the gateway

    page.context.set_extra_http_headers({"X-Remote-User": "admin@example.com"})
    page.reload()
    assert echoed(page)["headers"]["x-remote-user"] == ALICE  # the forged header never arrives

    token = echoed(page)["headers"]["x-ostiary-assertion"]
    key = jwt.PyJWKClient(gateway.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=gateway.public, issuer=gateway.issuer)
    assert claims["email"] == ALICE and "Staff" in claims["groups"]

    hits = len(pages_seen(gateway.echo))
    page.goto(f"{gateway.public}/oagLogout")
    page.wait_for_url(f"{gateway.public}/_ostiary/signed-out")
    page.goto(f"{gateway.public}/reports/2024")
    hosted_sign_in(page, ALICE)  # the org's session ended too: a new sign-in
    page.wait_for_url(f"{gateway.public}/reports/2024")
    assert len(pages_seen(gateway.echo)) == hits + 1


def test_a_user_outside_the_apps_groups_gets_the_denied_page(page: Any, gateway: Gateway) -> None:
    hits = len(pages_seen(gateway.echo))
    page.goto(f"{gateway.public}/reports")
    hosted_sign_in(page, BOB)
    page.wait_for_selector('[data-page="denied"]')
    assert "Access denied" in page.content()
    assert len(pages_seen(gateway.echo)) == hits
