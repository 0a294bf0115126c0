"""The seed's setup (setting-up-okta-for-api-integration-examples.md) done through the admin
console's forms (issue 19, slice 2), then a real code flow gets the silver/gold tokens that
what was submitted implies."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Server
from tests.support.authorize import (
    REDIRECT,
    authorize,
    claims,
    code_for,
    exchange,
    redirected,
    session_token,
)
from tests.support.console import form_csrf, make_admin, signed_in
from tests.support.policies import USER_PASSWORD

SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].split("#")[0].rstrip("/").rsplit("/", 1)[-1]


async def post(browser: httpx.AsyncClient, csrf: str, path: str, data: dict[str, object]) -> httpx.Response:
    return await browser.post(path, data={"csrfToken": csrf, **data})


async def test_the_seed_setup_through_the_console_issues_silver_and_gold(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    async with signed_in(server, "root.admin@example.com") as (browser, landed):
        csrf = form_csrf(landed)
        silver_group = created_id(await post(browser, csrf, "/admin/groups", {"name": "silverSubscribers"}))
        gold_group = created_id(await post(browser, csrf, "/admin/groups", {"name": "goldSubscribers"}))
        people = {}
        for login, group in (("silver@example.com", silver_group), ("gold@example.com", gold_group)):
            user = {
                "firstName": "S",
                "lastName": "U",
                "login": login,
                "password": USER_PASSWORD,
                "activate": "on",
            }
            people[login] = created_id(await post(browser, csrf, "/admin/users", user))
            added = await post(browser, csrf, f"/admin/users/{people[login]}/groups", {"groupId": group})
            assert added.status_code == 303, added.text
        server_id = created_id(
            await post(
                browser,
                csrf,
                "/admin/authorization-servers",
                {"name": "API Center", "audience": "api://solar"},
            )
        )
        base = f"/admin/authorization-servers/{server_id}"
        for scope in (SILVER, GOLD):
            assert (await post(browser, csrf, f"{base}/scopes", {"name": scope})).status_code == 303
        bad_claim = await post(browser, csrf, f"{base}/claims", {"name": "broken", "value": "user.("})
        assert bad_claim.status_code == 400
        assert 'role="alert"' in bad_claim.text
        assert (
            await post(browser, csrf, f"{base}/policies", {"name": "API Center policy"})
        ).status_code == 303
        page = await browser.get(base)
        policy_id = re.search(r'id="policy-([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        for name, group, scopes in (
            ("silver rule", silver_group, f"openid profile email {SILVER}"),
            ("gold rule", gold_group, f"openid profile email {SILVER} {GOLD}"),
        ):
            rule = {
                "policyId": policy_id,
                "name": name,
                "grantTypes": ["authorization_code", "implicit"],
                "groups": group,
                "scopes": scopes,
            }
            made = await post(browser, csrf, f"{base}/rules", rule)
            assert made.status_code == 303, made.text
        app_page = await post(
            browser,
            csrf,
            "/admin/apps",
            {
                "label": "API Center",
                "kind": "web",
                "grantTypes": ["authorization_code", "implicit"],
                "redirectUris": REDIRECT,
            },
        )
        assert app_page.status_code == 200, app_page.text
        client_id = re.search(r'id="client-id">([^<]+)<', app_page.text).group(1)  # type: ignore[union-attr]
        secret = re.search(r'id="client-secret">([^<]+)<', app_page.text).group(1)  # type: ignore[union-attr]
        assert secret not in (await browser.get(f"/admin/apps/{client_id}")).text  # shown once
        everyone = (await admin.get("/api/v1/groups", params={"q": "Everyone"})).json()[0]["id"]
        assert (
            await post(browser, csrf, f"/admin/apps/{client_id}/groups", {"groupId": everyone})
        ).status_code == 303
        origin = {"name": "API Center", "origin": "https://app.example.com", "cors": "on", "redirect": "on"}
        assert (await post(browser, csrf, "/admin/trusted-origins", origin)).status_code == 303
    assert (await admin.get("/api/v1/trustedOrigins")).json()[0]["origin"] == "https://app.example.com"

    granted = {}
    for login, wanted in (("silver@example.com", SILVER), ("gold@example.com", f"{SILVER} {GOLD}")):
        code = await code_for(admin, client_id, login, server_id, scope=f"openid {wanted}")
        tokens = await exchange(admin, code, client_id, secret, server_id)
        assert tokens.status_code == 200, tokens.text
        granted[login] = set(claims(tokens.json()["access_token"])["scp"])
    assert granted["silver@example.com"] == {"openid", SILVER}
    assert granted["gold@example.com"] == {"openid", SILVER, GOLD}
    token = await session_token(admin, "silver@example.com")
    refused = await authorize(admin, client_id, server_id, sessionToken=token, scope=f"openid {GOLD}")
    assert redirected(refused)["error"] == "access_denied"


async def test_the_preview_page_shows_claims_and_the_trace(server: Server, admin: httpx.AsyncClient) -> None:
    from ostiary.demo.seed import GOLD as DEMO_GOLD
    from tests.support.demo_seed import seed_demo

    demo = await seed_demo(server)
    await make_admin(admin)
    server_id = demo["authorization_server"]["id"]
    async with signed_in(server, "root.admin@example.com") as (browser, _):
        page = await browser.get(
            f"/admin/authorization-servers/{server_id}/preview",
            params={
                "clientId": demo["web_client"]["client_id"],
                "grantType": "authorization_code",
                "user": "clark.kent@example.com",
                "scopes": f"openid {DEMO_GOLD}",
            },
        )
        assert page.status_code == 200, page.text
        assert "access_denied" in page.text
        assert "user is not among the rule&#39;s users or in its groups" in page.text
        granted = await browser.get(
            f"/admin/authorization-servers/{server_id}/preview",
            params={
                "clientId": demo["web_client"]["client_id"],
                "grantType": "authorization_code",
                "user": "lois.lane@example.com",
                "scopes": f"openid {DEMO_GOLD}",
            },
        )
        assert 'id="preview-access"' in granted.text and "lois.lane@example.com" in granted.text


async def test_rule_priority_app_kinds_user_lifecycle_and_key_rotation(
    server: Server, admin: httpx.AsyncClient
) -> None:
    from tests.support.demo_seed import seed_demo

    demo = await seed_demo(server)
    await make_admin(admin)
    server_id = demo["authorization_server"]["id"]
    rules_url = f"/api/v1/authorizationServers/{server_id}/policies"
    policy_id = (await admin.get(rules_url)).json()[0]["id"]

    async def order() -> list[str]:
        rules = (await admin.get(f"{rules_url}/{policy_id}/rules")).json()
        return [r["name"] for r in sorted(rules, key=lambda r: r["priority"])]

    assert await order() == ["gold access to solar system API", "silver access to solar system API"]
    async with signed_in(server, "root.admin@example.com") as (browser, landed):
        csrf = form_csrf(landed)
        base = f"/admin/authorization-servers/{server_id}"
        silver_rule = next(
            r["id"]
            for r in (await admin.get(f"{rules_url}/{policy_id}/rules")).json()
            if r["name"].startswith("silver")
        )
        moved = await post(
            browser,
            csrf,
            f"{base}/rules/move",
            {"policyId": policy_id, "ruleId": silver_rule, "direction": "up"},
        )
        assert moved.status_code == 303
        assert await order() == ["silver access to solar system API", "gold access to solar system API"]

        keys_before = (await admin.get(f"/api/v1/authorizationServers/{server_id}/credentials/keys")).json()
        assert (await post(browser, csrf, f"{base}/keys/rotate", {})).status_code == 303
        keys_after = (await admin.get(f"/api/v1/authorizationServers/{server_id}/credentials/keys")).json()
        assert {k["kid"] for k in keys_after} != {k["kid"] for k in keys_before}

        service = await post(browser, csrf, "/admin/apps", {"label": "Nightly job", "kind": "service"})
        assert 'id="client-secret"' in service.text
        service_id = re.search(r'id="client-id">([^<]+)<', service.text).group(1)  # type: ignore[union-attr]
        as_api = (await admin.get(f"/api/v1/apps/{service_id}")).json()
        assert as_api["settings"]["oauthClient"]["grant_types"] == ["client_credentials"]
        spa = await post(
            browser,
            csrf,
            "/admin/apps",
            {"label": "SPA", "kind": "browser", "redirectUris": "https://spa.example.com/cb"},
        )
        assert spa.status_code == 200 and 'id="client-secret"' not in spa.text
        granted = await post(
            browser, csrf, f"/admin/apps/{service_id}/grants", {"scopeId": "okta.users.read"}
        )
        assert granted.status_code == 303
        grants = (await admin.get(f"/api/v1/apps/{service_id}/grants")).json()
        assert [g["scopeId"] for g in grants] == ["okta.users.read"]

        clark = demo["users"][0]["id"]
        suspended = await post(browser, csrf, f"/admin/users/{clark}/lifecycle", {"action": "suspend"})
        assert suspended.status_code == 303
        assert (await admin.get(f"/api/v1/users/{clark}")).json()["status"] == "SUSPENDED"
        refused = await post(browser, csrf, f"/admin/users/{clark}/lifecycle", {"action": "suspend"})
        assert refused.status_code == 400 and 'role="alert"' in refused.text
        found = await browser.get("/admin/users", params={"q": "lois"})
        assert "lois.lane@example.com" in found.text and "clark.kent@example.com" not in found.text
