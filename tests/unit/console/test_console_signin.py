"""Admin console sign-in (issue 19, slice 1): OIDC code + PKCE through the org's hosted sign-in,
its own cookie, admins only (the ``Ostiary Admins`` group), CSRF on every POST, the sign-in
page's security headers."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import ORG_URL, Server
from tests.support.console import (
    ADMIN_LOGIN,
    PLAIN_LOGIN,
    form_csrf,
    make_admin,
    make_user,
    signed_in,
)


async def test_an_admin_signs_in_through_the_hosted_page_with_pkce(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ORG_URL) as browser:
        first = await browser.get("/admin/groups")
        assert first.status_code == 303
        assert first.headers["location"].startswith("/admin/login?next=%2Fadmin%2Fgroups")
        start = await browser.get(first.headers["location"])
        authorize = urlsplit(start.headers["location"])
        assert authorize.path == "/oauth2/v1/authorize"
        query = parse_qs(authorize.query)
        assert query["code_challenge_method"] == ["S256"]
        console_app = (await admin.get(f"/api/v1/apps/{query['client_id'][0]}")).json()
        assert console_app["label"] == "Ostiary Admin Console"
        assert query["redirect_uri"] == [f"{ORG_URL}/admin/callback"]
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        assert landed.status_code == 200, landed.text
        assert "Ostiary Admin Console" in landed.text
        assert ADMIN_LOGIN in landed.text
        cookie = next(h for h in browser.set_cookie_headers if h.startswith("ostiary_admin="))
        assert (
            "HttpOnly" in cookie
            and "Path=/admin" in cookie
            and "SameSite=lax" in cookie.replace("Lax", "lax")
        )
        assert landed.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in landed.headers["content-security-policy"]
        assert landed.headers["cache-control"] == "no-store"


async def test_the_console_client_is_an_ordinary_app_of_the_org(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN):
        pass
    apps = (await admin.get("/api/v1/apps", params={"q": "Ostiary Admin Console"})).json()
    assert len(apps) == 1
    oauth = apps[0]["settings"]["oauthClient"]
    assert oauth["redirect_uris"] == [f"{ORG_URL}/admin/callback"]
    assert apps[0]["credentials"]["oauthClient"]["token_endpoint_auth_method"] == "none"
    # A second sign-in finds the same app.
    async with signed_in(server, ADMIN_LOGIN):
        pass
    assert len((await admin.get("/api/v1/apps", params={"q": "Ostiary Admin Console"})).json()) == 1


async def test_a_non_admin_gets_the_403_page_and_no_console_cookie(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    await make_user(admin, PLAIN_LOGIN)
    async with signed_in(server, PLAIN_LOGIN) as (browser, landed):
        assert landed.status_code == 403
        assert "not an administrator" in landed.text
        assert "Ostiary Admins" in landed.text
        assert "ostiary_admin" not in browser.cookies
        again = await browser.get("/admin/groups")
        assert again.status_code == 303  # still not signed in to the console


async def test_a_form_posted_without_its_csrf_token_changes_nothing(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, _):
        refused = await browser.post("/admin/groups", data={"name": "Forged"})
        assert refused.status_code == 403
        assert "Nothing was changed" in refused.text
        wrong = await browser.post("/admin/groups", data={"name": "Forged", "csrfToken": "x" * 43})
        assert wrong.status_code == 403
        assert (await admin.get("/api/v1/groups", params={"q": "Forged"})).json() == []
        page = await browser.get("/admin/groups")
        made = await browser.post("/admin/groups", data={"name": "Silver", "csrfToken": form_csrf(page)})
        assert made.status_code == 303
        assert len((await admin.get("/api/v1/groups", params={"q": "Silver"})).json()) == 1


async def test_sign_out_ends_the_console_session(server: Server, admin: httpx.AsyncClient) -> None:
    await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        out = await browser.post("/admin/signout", data={"csrfToken": form_csrf(landed)})
        assert out.status_code == 200
        assert (await browser.get("/admin")).status_code == 303


async def test_leaving_the_admin_group_ends_console_access_at_once(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await make_admin(admin)
    async with signed_in(server, ADMIN_LOGIN) as (browser, _):
        assert (await browser.get("/admin/groups")).status_code == 200
        group_id = (await admin.get("/api/v1/groups", params={"q": "Ostiary Admins"})).json()[0]["id"]
        assert (await admin.delete(f"/api/v1/groups/{group_id}/users/{user_id}")).status_code == 204
        refused = await browser.get("/admin/groups")
        assert refused.status_code == 403
        assert "not an administrator" in refused.text


async def test_group_members_are_added_and_removed(server: Server, admin: httpx.AsyncClient) -> None:
    await make_admin(admin)
    member = await make_user(admin, PLAIN_LOGIN)
    group = (await admin.post("/api/v1/groups", json={"profile": {"name": "Readers"}})).json()["id"]
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        csrf = form_csrf(landed)
        added = await browser.post(
            f"/admin/groups/{group}/members", data={"csrfToken": csrf, "user": PLAIN_LOGIN}
        )
        assert added.status_code == 303
        assert [u["id"] for u in (await admin.get(f"/api/v1/groups/{group}/users")).json()] == [member]
        assert PLAIN_LOGIN in (await browser.get(f"/admin/groups/{group}")).text
        unknown = await browser.post(
            f"/admin/groups/{group}/members", data={"csrfToken": csrf, "user": "nobody"}
        )
        assert unknown.status_code == 400 and 'role="alert"' in unknown.text
        removed = await browser.post(
            f"/admin/groups/{group}/members/remove", data={"csrfToken": csrf, "userId": member}
        )
        assert removed.status_code == 303
        assert (await admin.get(f"/api/v1/groups/{group}/users")).json() == []


async def test_the_return_path_after_sign_in_stays_on_the_console_origin(server: Server) -> None:
    transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ORG_URL) as browser:
        for evil in ("//evil.example.com/x", "https://evil.example.com/", "/\\evil.example.com"):
            start = await browser.get("/admin/login", params={"next": evil})
            assert start.status_code == 303
            flow = next(
                c for c in start.headers.get_list("set-cookie") if c.startswith("ostiary_admin_login=")
            )
            encoded = flow.split(";", 1)[0].split("=", 1)[1].strip('"')
            assert json.loads(base64.urlsafe_b64decode(encoded))["next"] == "/admin"


async def test_a_super_admin_outside_the_admin_group_gets_in(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await make_admin(admin)
    user_id = await make_user(admin, "role.admin@example.com")
    async with signed_in(server, "role.admin@example.com") as (_browser, landed):
        assert landed.status_code == 403
    assigned = await admin.post(f"/api/v1/users/{user_id}/roles", json={"type": "SUPER_ADMIN"})
    assert assigned.status_code == 201, assigned.text
    async with signed_in(server, "role.admin@example.com") as (browser, landed):
        assert landed.status_code == 200, landed.text
        assert "ostiary_admin" in browser.cookies
