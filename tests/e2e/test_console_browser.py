"""Issue 19 acceptance in a real browser (Playwright on Debian's Chromium) against ``ostiary
serve`` over TLS: an admin signs in to ``/admin`` through the hosted sign-in page and walks the
seed's setup (groups, users, authorization server, scopes, policy, rules, app, trusted origin);
a scripted code flow then gets the silver/gold tokens that what was clicked implies. A
non-admin gets the 403 page; a form posted without its CSRF token changes nothing.
Screenshots of each page go to ``test-artifacts/console-*.png``."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.servers import OrgServer

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADMIN = "ada.admin@example.com"
PASSWORD = "Tr1cky-Secret!"
SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"
REDIRECT = "https://apicenter.example.com/callback"
PEOPLE = {"silver": "sam.silver@example.com", "gold": "gia.gold@example.com"}


@pytest.fixture(scope="module")
def api(org: OrgServer) -> requests.Session:
    """SSWS access, and the bootstrap the docs describe: an admin in the ``Ostiary Admins`` group."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"SSWS {org.create_token('console')}", "Accept": "application/json"}
    )
    user = {
        "profile": {"login": ADMIN, "email": ADMIN, "firstName": "Ada", "lastName": "Admin"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    created = session.post(f"{org.url}/api/v1/users?activate=true", json=user)
    assert created.status_code == 200, created.text
    group = session.post(f"{org.url}/api/v1/groups", json={"profile": {"name": "Ostiary Admins"}}).json()
    assert (
        session.put(f"{org.url}/api/v1/groups/{group['id']}/users/{created.json()['id']}").status_code == 204
    )
    return session


@pytest.fixture(scope="module")
def browser(api: requests.Session) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser: Any) -> Any:
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def console_sign_in(page: Any, org: OrgServer, login: str) -> None:
    page.goto(f"{org.url}/admin")
    page.wait_for_url("**/login?**")
    page.fill("#username", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def scripted_code_flow(
    org: OrgServer, server_id: str, client_id: str, secret: str, login: str, scope: str
) -> Any:
    """What the API Center app does: sign in, authorize, exchange the code."""
    authn = requests.post(f"{org.url}/api/v1/authn", json={"username": login, "password": PASSWORD})
    assert authn.status_code == 200, authn.text
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s",
        "nonce": "n",
        "sessionToken": authn.json()["sessionToken"],
    }
    issuer = f"{org.url}/oauth2/{server_id}"
    answer = requests.get(f"{issuer}/v1/authorize", params=params, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert "code" in query, query
    return requests.post(
        f"{issuer}/v1/token",
        data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT},
        auth=(client_id, secret),
    )


def test_an_admin_sets_up_the_seed_in_the_console(
    browser: Any, org: OrgServer, api: requests.Session
) -> None:
    page = new_page(browser)
    console_sign_in(page, org, ADMIN)
    page.wait_for_url(f"{org.url}/admin")
    assert ADMIN in page.locator(".who").text_content()
    shot(page, "home")

    for name in ("silverSubscribers", "goldSubscribers"):
        page.goto(f"{org.url}/admin/groups")
        page.fill("#group-name", name)
        page.fill("#group-description", f"{name} of the API Center")
        page.click("button[name=create-group]")
        page.wait_for_url("**/admin/groups/00g*")
    page.goto(f"{org.url}/admin/groups")
    shot(page, "groups")

    for tier, login in PEOPLE.items():
        page.goto(f"{org.url}/admin/users")
        page.fill("#user-first", tier.capitalize())
        page.fill("#user-last", "Subscriber")
        page.fill("#user-login", login)
        page.fill("#user-password", PASSWORD)
        page.click("button[name=create-user]")
        page.wait_for_url("**/admin/users/00u*")
        page.select_option("#user-add-group", label=f"{tier}Subscribers")
        page.click("button[name=add-to-group]")
        page.wait_for_load_state()
        assert f"{tier}Subscribers" in page.locator("#groups").text_content()
    shot(page, "user")
    page.goto(f"{org.url}/admin/users")
    shot(page, "users")

    page.goto(f"{org.url}/admin/authorization-servers")
    page.fill("#server-name", "API Center")
    page.fill("#server-audience", "api://apicenter")
    page.click("button[name=create-server]")
    page.wait_for_url("**/admin/authorization-servers/aus*")
    server_id = page.locator("#server-id").text_content()
    for scope in (SILVER, GOLD):
        page.fill("#scope-name", scope)
        page.click("button[name=create-scope]")
        page.wait_for_load_state()
    page.fill("#claim-name", "broken")
    page.fill("#claim-value", "user.(")
    page.click("button[name=create-claim]")
    page.wait_for_load_state()
    assert page.locator("[role=alert]").count() == 1  # the expression is refused on save
    page.goto(f"{org.url}/admin/authorization-servers/{server_id}")
    page.fill("#policy-name", "API Center access")
    page.click("button[name=create-policy]")
    page.wait_for_load_state()
    for name, group, scopes in (
        ("silver access", "silverSubscribers", f"openid profile email {SILVER}"),
        ("gold access", "goldSubscribers", f"openid profile email {SILVER} {GOLD}"),
    ):
        form = page.locator("form.rule-form").first
        form.locator("input[name=name]").fill(name)
        form.locator("input[value=implicit]").check()
        form.locator("select[name=groups]").select_option(label=group)
        form.locator("input[name=scopes]").fill(scopes)
        form.locator("button[name=create-rule]").click()
        page.wait_for_load_state()
    assert page.locator("#policies").get_by_text("gold access").count() == 1
    shot(page, "authorization-server")

    page.goto(f"{org.url}/admin/apps")
    page.fill("#app-label", "API Center")
    page.check("#app-kind-web")
    page.check("#app-gt-implicit")
    page.fill("#app-redirects", REDIRECT)
    page.click("button[name=create-app]")
    page.wait_for_selector("#client-secret")
    client_id = page.locator("#client-id").text_content()
    secret = page.locator("#client-secret").text_content()
    shot(page, "app-created")
    page.select_option("#assign-group", label="Everyone")
    page.click("button[name=assign-group]")
    page.wait_for_load_state()
    assert page.locator("#client-secret").count() == 0  # shown once
    shot(page, "app")

    page.goto(f"{org.url}/admin/trusted-origins")
    page.fill("#origin-name", "API Center")
    page.fill("#origin-url", "https://apicenter.example.com")
    page.click("button[name=create-origin]")
    page.wait_for_load_state()
    shot(page, "trusted-origins")

    page.goto(f"{org.url}/admin/authorization-servers/{server_id}/preview")
    page.select_option("#preview-client", value=client_id)
    page.fill("#preview-user", PEOPLE["silver"])
    page.fill("#preview-scopes", f"openid {GOLD}")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview-trace")
    assert "access_denied" in page.locator("#preview-error").text_content()
    shot(page, "token-preview")

    origins = api.get(f"{org.url}/api/v1/trustedOrigins").json()
    assert [o["origin"] for o in origins] == ["https://apicenter.example.com"]
    silver = scripted_code_flow(org, server_id, client_id, secret, PEOPLE["silver"], f"openid {SILVER}")
    assert silver.status_code == 200, silver.text
    assert claims(silver.json()["access_token"])["scp"] == ["openid", SILVER]
    gold = scripted_code_flow(org, server_id, client_id, secret, PEOPLE["gold"], f"openid {SILVER} {GOLD}")
    assert gold.status_code == 200, gold.text
    assert claims(gold.json()["access_token"])["scp"] == ["openid", SILVER, GOLD]
    assert claims(gold.json()["access_token"])["aud"] == "api://apicenter"

    page.goto(f"{org.url}/admin/logs")
    page.fill("#log-filter", 'eventType eq "oauth2.as.policy.rule.created"')
    page.click("button[name=filter-logs]")
    page.wait_for_load_state()
    assert page.locator("#log-events").get_by_text(ADMIN).count() >= 1
    shot(page, "logs")

    # API tokens: shown once; revoking asks first (console.js, allowed by the CSP): a dismissed
    # question changes nothing, an accepted one revokes.
    page.goto(f"{org.url}/admin/api-tokens")
    page.fill("#token-name", "ci")
    page.click("button[name=create-token]")
    token = page.locator("#new-token").text_content()
    shot(page, "api-tokens")
    headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
    assert requests.get(f"{org.url}/api/v1/groups", headers=headers).status_code == 200
    page.goto(f"{org.url}/admin/api-tokens")
    row = page.locator("tr", has_text="ci")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button[name=revoke-token]").click()
    assert requests.get(f"{org.url}/api/v1/groups", headers=headers).status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.locator("button[name=revoke-token]").click()
    assert requests.get(f"{org.url}/api/v1/groups", headers=headers).status_code == 401

    # A form posted without its CSRF token (same browser, signed in) changes nothing.
    forged = page.request.post(f"{org.url}/admin/groups", form={"name": "Forged"})
    assert forged.status == 403
    assert api.get(f"{org.url}/api/v1/groups", params={"q": "Forged"}).json() == []
    page.context.close()


def test_a_non_admin_gets_the_403_page(browser: Any, org: OrgServer, api: requests.Session) -> None:
    login = "nora.nobody@example.com"
    user = {
        "profile": {"login": login, "email": login, "firstName": "Nora", "lastName": "Nobody"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    assert api.post(f"{org.url}/api/v1/users?activate=true", json=user).status_code == 200
    page = new_page(browser)
    console_sign_in(page, org, login)
    page.wait_for_selector("#forbidden-message")
    assert "not an administrator" in page.locator("#forbidden-message").text_content()
    shot(page, "forbidden")
    response = page.goto(f"{org.url}/admin/groups")
    assert response is not None and response.status == 403
    page.context.close()
