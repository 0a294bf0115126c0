"""Console API tokens (shown once, revoke) and the system log page with its filters (slice 4)."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Server
from tests.support.console import ADMIN_LOGIN, form_csrf, make_admin, signed_in


async def test_an_api_token_is_shown_once_works_and_can_be_revoked(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        csrf = form_csrf(landed)
        made = await browser.post("/admin/api-tokens", data={"csrfToken": csrf, "name": "ci"})
        assert made.status_code == 200
        token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
        assert token not in (await browser.get("/admin/api-tokens")).text
        async with server.client(token) as ci:
            assert (await ci.get("/api/v1/groups")).status_code == 200
            listed = (await admin.get("/api/v1/api-tokens")).json()
            token_id = next(t["id"] for t in listed if t["name"] == "ci")
            revoked = await browser.post(
                "/admin/api-tokens/revoke", data={"csrfToken": csrf, "tokenId": token_id}
            )
            assert revoked.status_code == 303
            assert (await ci.get("/api/v1/groups")).status_code == 401


def events_table(page: httpx.Response) -> str:
    return page.text.split('id="log-events"', 1)[1].split("</table>", 1)[0]


async def test_the_system_log_page_filters(server: Server, admin: httpx.AsyncClient) -> None:
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        csrf = form_csrf(landed)
        assert (
            await browser.post("/admin/groups", data={"csrfToken": csrf, "name": "Auditors"})
        ).status_code == 303
        page = await browser.get("/admin/logs", params={"filter": 'eventType eq "group.lifecycle.create"'})
        assert page.status_code == 200
        table = events_table(page)
        assert "Auditors" in table
        assert "group.lifecycle.create" in table and "user.lifecycle.create" not in table
        searched = await browser.get("/admin/logs", params={"q": ADMIN_LOGIN})  # the actor
        assert "group.lifecycle.create" in events_table(searched)
        assert ADMIN_LOGIN in events_table(searched)  # the console acts as the signed-in admin
        bad = await browser.get("/admin/logs", params={"filter": "eventType eq"})
        assert bad.status_code == 400
        assert 'role="alert"' in bad.text
        late = await browser.get("/admin/logs", params={"since": "2999-01-01T00:00"})
        assert "No events." in events_table(late)


async def test_an_api_service_integration_is_installed_and_uninstalled(
    server: Server, admin: httpx.AsyncClient
) -> None:
    from tests.support.oauth import client_token

    entry = {"type": "pg_sync", "name": "PG Sync", "scopes": ["okta.users.read", "okta.groups.read"]}
    assert (await admin.post("/integrations/api/v1/submissions", json=entry)).status_code == 201
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        csrf = form_csrf(landed)
        page = await browser.get("/admin/api-services")
        assert "PG Sync" in page.text
        made = await browser.post(
            "/admin/api-services", data={"csrfToken": csrf, "type": "pg_sync", "scopes": ["okta.users.read"]}
        )
        assert made.status_code == 200, made.text
        client_id = re.search(r'id="install-client-id">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
        secret = re.search(r'id="install-secret">([^<]+)<', made.text).group(1)  # type: ignore[union-attr]
        async with server.client() as anon:
            assert (await client_token(anon, client_id, secret, "okta.users.read")).status_code == 200
            gone = await browser.post(
                "/admin/api-services/uninstall", data={"csrfToken": csrf, "installId": client_id}
            )
            assert gone.status_code == 303
            assert (await client_token(anon, client_id, secret, "okta.users.read")).status_code == 401
