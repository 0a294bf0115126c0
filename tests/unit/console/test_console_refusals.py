"""A console form the domain refuses shows the page again with the reason (400), and changes
nothing; every form handler goes through ``pages.form_action`` for this."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.support.console import ADMIN_LOGIN, form_csrf, make_admin, signed_in

REFUSED = [
    ("/admin/groups", {"name": ""}, "groups"),
    ("/admin/groups/{group}/members", {"user": "nobody@example.com"}, "group"),
    ("/admin/users", {"login": "not an email"}, "users"),
    ("/admin/users/{user}/groups", {"groupId": "00gnope"}, "user"),
    ("/admin/trusted-origins", {"name": "x", "origin": "not a url", "cors": "on"}, "origins"),
    ("/admin/authorization-servers", {"name": "", "audience": ""}, "servers"),
    ("/admin/authorization-servers/default/scopes", {"name": ""}, "server"),
]


async def what_exists(admin: httpx.AsyncClient, group: str) -> dict[str, set[str]]:
    """The ids of what a refused form could have created, changed or added to."""
    found: dict[str, set[str]] = {}
    for name, url in [
        ("groups", "/api/v1/groups"),
        ("users", "/api/v1/users"),
        ("members", f"/api/v1/groups/{group}/users"),
        ("origins", "/api/v1/trustedOrigins"),
        ("servers", "/api/v1/authorizationServers"),
        ("scopes", "/api/v1/authorizationServers/default/scopes"),
    ]:
        response = await admin.get(url)
        assert response.status_code == 200, response.text
        found[name] = {item["id"] for item in response.json()}
    return found


@pytest.mark.parametrize(("path", "data", "page"), REFUSED, ids=[r[2] + ":" + r[0] for r in REFUSED])
async def test_a_refused_form_shows_the_page_with_the_reason(
    server: Server, admin: httpx.AsyncClient, path: str, data: dict[str, str], page: str
) -> None:
    await make_admin(admin)
    group = (await admin.post("/api/v1/groups", json={"profile": {"name": "Kept"}})).json()["id"]
    user = (await admin.get("/api/v1/users", params={"q": ADMIN_LOGIN})).json()[0]["id"]
    before = await what_exists(admin, group)
    async with signed_in(server, ADMIN_LOGIN) as (browser, landed):
        response = await browser.post(
            path.format(group=group, user=user), data={"csrfToken": form_csrf(landed), **data}
        )
    assert response.status_code == 400, response.text
    assert 'role="alert"' in response.text
    after = await what_exists(admin, group)
    assert after == before
