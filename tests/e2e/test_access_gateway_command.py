"""Issue 16 end to end through the real command: ``ostiary access-gateway`` as a process over
a data dir, a real ``ostiary serve`` org, an API client from ``api-client create``, and
everything configured through ``/api/v2`` only (the IdP with an SSWS token of the org, the
app on ``legacy.localhost``, its protected resource, ``X-Remote-User``, its group, single
logout). Then Debian's Chromium opens the app's public URL and signs in on the org's hosted
page; the legacy app sees the login and never a forged ``X-Remote-User``; the assertion
verifies against the JWKS the command serves; a user outside the group gets the denied page;
logout forces a new sign-in; and after a restart of the gateway process the browser's
session and the JWKS ``kid`` still hold."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.e2e.oag_admin import AccessGateway, admin_session
from tests.e2e.oag_proxy_env import PASSWORD, EchoApp, Org, serve_asgi
from tests.e2e.okta_libs import CHROMIUM, launched_chromium
from tests.e2e.servers import OSTIARY, OrgServer, free_port, running

pytest.importorskip("playwright.sync_api")

ALICE = "alice.command@example.com"
BOB = "bob.command@example.com"
GROUP = "Legacy Staff"
METRICS_TOKEN = "metrics-e2e-token"


class GatewayProcess:
    """``ostiary access-gateway --port P --data-dir D``, which a test can restart in place."""

    def __init__(self, gateway: AccessGateway, log_dir: Path) -> None:
        self.gateway = gateway
        self.log_dir = log_dir
        self.starts = 0
        self._stack = ExitStack()

    def start(self) -> None:
        self.starts += 1
        args = [
            OSTIARY,
            "access-gateway",
            "--port",
            str(self.gateway.port),
            "--data-dir",
            str(self.gateway.data_dir),
        ]
        log = self.log_dir / f"access-gateway-{self.starts}.log"
        self._stack.enter_context(
            running(
                args,
                f"{self.gateway.url}/healthz",
                {"OSTIARY_LOG_LEVEL": "info", "OSTIARY_ACCESS_GATEWAY_METRICS_TOKEN": METRICS_TOKEN},
                log,
            )
        )

    def stop(self) -> None:
        self._stack.close()
        self._stack = ExitStack()

    def log_lines(self) -> list[str]:
        return (self.log_dir / f"access-gateway-{self.starts}.log").read_text().splitlines()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Stack:
    process: GatewayProcess
    public: str
    admin_url: str
    alice_id: str
    echo: EchoApp
    org_url: str

    @property
    def jwks_url(self) -> str:
        return f"{self.admin_url}/api/v2/.well-known/jwks.json"

    def session_rows(self) -> int:
        with sqlite3.connect(self.process.gateway.data_dir / "access-gateway.db") as db:
            count: int = db.execute("SELECT count(*) FROM oag_sessions").fetchone()[0]
        return count


def configure(gateway: AccessGateway, org: OrgServer, staff: str, echo_port: int) -> None:
    """What an operator does: an API client, then /api/v2 calls only."""
    admin = admin_session(gateway.create_client("operator"))
    base = f"{gateway.url}/api/v2"
    idp = admin.post(
        f"{base}/idps",
        json={"name": "Org", "type": "IDP_OKTA", "domain": org.url, "apiToken": org.create_token("oag-idp")},
    )
    assert idp.status_code == 200, idp.text
    certificate = admin.get(f"{base}/certificates").json()[0]["id"]
    app = admin.post(
        f"{base}/apps",
        json={
            "type": "OAG_HEADER_BASED",
            "label": "Legacy",
            "idpId": idp.json()["id"],
            "publicDomain": "legacy.localhost",
            "postLoginUrl": f"http://legacy.localhost:{gateway.port}/",
            "groups": [staff],
            "certificateId": certificate,
            "loadBalanced": False,
        },
    )
    assert app.status_code == 200, app.text
    app_url = f"{base}/apps/{app.json()['id']}"
    steps = [
        admin.post(f"{app_url}/resources", json={"hostname": f"http://127.0.0.1:{echo_port}"}),
        admin.post(
            f"{app_url}/attributes",
            json={"name": "X-Remote-User", "source": "IDP", "value": "login", "type": "HEADER"},
        ),
        admin.put(f"{app_url}/behavior", json={"singleLogout": True}),
        admin.post(f"{app_url}/activate"),
    ]
    for step in steps:
        assert step.status_code == 200, step.text
    admin.close()


@pytest.fixture(scope="module")
def stack(org: OrgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    tmp = Path(tmp_path_factory.mktemp("oag-command"))
    org_admin = Org(org, "oag-command")
    alice = org_admin.user(ALICE, "Alice", "Command")
    org_admin.user(BOB, "Bob", "Command")
    staff = org_admin.group(GROUP, alice)
    org_admin.close()
    gateway = AccessGateway(tmp / "oag", free_port())
    process = GatewayProcess(gateway, tmp)
    echo, echo_port = EchoApp("legacy"), free_port()
    with serve_asgi(echo, echo_port):
        process.start()
        try:
            configure(gateway, org, staff, echo_port)
            yield Stack(process, f"http://legacy.localhost:{gateway.port}", gateway.url, alice, echo, org.url)
        finally:
            process.stop()


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
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


def echoed(page: Any) -> dict[str, Any]:
    return dict(json.loads(page.locator("pre").first.inner_text()))


def pages_seen(echo: EchoApp) -> list[str]:
    return [path for path in echo.hits if path != "/favicon.ico"]


def verified(stack: Stack, token: str) -> dict[str, Any]:
    key = jwt.PyJWKClient(stack.jwks_url).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["ES256"], audience=stack.public, issuer=stack.admin_url
    )
    return claims


def test_sign_in_the_app_sees_its_login_never_a_forged_one_and_the_assertion_verifies(
    page: Any, stack: Stack
) -> None:
    page.goto(f"{stack.public}/reports/2024?view=full")
    hosted_sign_in(page, ALICE)
    page.wait_for_url(f"{stack.public}/reports/2024?view=full")  # the deep link, after the callback
    seen = echoed(page)
    assert seen["headers"]["x-remote-user"] == ALICE
    assert "cookie" not in seen["headers"]

    page.context.set_extra_http_headers({"X-Remote-User": "admin@example.com", "X-Remote_User": "root"})
    page.reload()
    headers = echoed(page)["headers"]
    assert headers["x-remote-user"] == ALICE and "x-remote_user" not in headers

    claims = verified(stack, headers["x-ostiary-assertion"])
    assert claims["sub"] == stack.alice_id and claims["email"] == ALICE
    assert GROUP in claims["groups"]
    assert claims["exp"] - claims["iat"] <= 60


def test_the_command_logs_each_request_as_json_and_serves_metrics_with_its_token(stack: Stack) -> None:
    lines = [json.loads(line) for line in stack.process.log_lines() if line.startswith("{")]
    seen = [line for line in lines if line["user"] == ALICE and line["path"] == "/reports/2024"]
    assert seen and all(line["status"] == 200 and line["app"] == "legacy" for line in seen)
    assert seen[0]["upstream"].startswith("http://127.0.0.1:")
    assert not any("code" in line["path"] or "state" in line["path"] for line in lines)

    metrics = f"{stack.admin_url}/metrics"
    assert requests.get(metrics, timeout=10).status_code == 401
    shown = requests.get(metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert shown.status_code == 200
    assert 'ostiary_oag_signins_total{app="legacy",result="success"} 1' in shown.text
    assert 'ostiary_oag_requests_total{app="legacy",status="200"}' in shown.text


def test_a_user_outside_the_apps_group_gets_the_denied_page(page: Any, stack: Stack) -> None:
    hits = len(pages_seen(stack.echo))
    page.goto(f"{stack.public}/reports")
    hosted_sign_in(page, BOB)
    page.wait_for_selector('[data-page="denied"]')
    assert "Access denied" in page.content()
    assert len(pages_seen(stack.echo)) == hits


def test_logout_ends_the_session_here_and_at_the_org(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.public}/before-logout")
    hosted_sign_in(page, ALICE)
    page.wait_for_url(f"{stack.public}/before-logout")
    rows = stack.session_rows()
    page.goto(f"{stack.public}/oagLogout")
    page.wait_for_url(f"{stack.public}/_ostiary/signed-out")  # registered in the org by the gateway
    assert stack.session_rows() == rows - 1
    hits = len(pages_seen(stack.echo))
    page.goto(f"{stack.public}/after-logout")
    hosted_sign_in(page, ALICE)  # the org's session ended too: a new sign-in
    page.wait_for_url(f"{stack.public}/after-logout")
    assert len(pages_seen(stack.echo)) == hits + 1


def test_a_restart_keeps_the_browsers_session_and_the_jwks_kid(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.public}/before-restart")
    hosted_sign_in(page, ALICE)
    page.wait_for_url(f"{stack.public}/before-restart")
    kids = [key["kid"] for key in requests.get(stack.jwks_url, timeout=10).json()["keys"]]

    stack.process.restart()

    requested: list[str] = []
    page.on("request", lambda request: request.is_navigation_request() and requested.append(request.url))
    page.goto(f"{stack.public}/after-restart")
    assert page.url == f"{stack.public}/after-restart"
    assert requested == [f"{stack.public}/after-restart"]  # no trip to the org: the session held
    headers = echoed(page)["headers"]
    assert headers["x-remote-user"] == ALICE
    assert [key["kid"] for key in requests.get(stack.jwks_url, timeout=10).json()["keys"]] == kids
    assert jwt.get_unverified_header(headers["x-ostiary-assertion"])["kid"] == kids[0]
    assert verified(stack, headers["x-ostiary-assertion"])["sub"] == stack.alice_id
