"""/api/v1/trustedOrigins behaves as Okta's: shapes the SDK parses, status codes, validation,
lifecycle, ``q`` and ``filter``, scopes; bad requests change nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from okta.models import TrustedOrigin as SdkTrustedOrigin

from tests.conftest import Server
from tests.support.sessions import scoped_bearer

ORIGINS = "/api/v1/trustedOrigins"


def body(
    name: str = "New trusted origin", origin: str = "http://example.com", *scopes: str
) -> dict[str, Any]:
    return {"name": name, "origin": origin, "scopes": [{"type": s} for s in scopes or ("CORS", "REDIRECT")]}


async def create(client: httpx.AsyncClient, *args: str) -> dict[str, Any]:
    response = await client.post(ORIGINS, json=body(*args))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def count(client: httpx.AsyncClient) -> int:
    return len((await client.get(ORIGINS)).json())


def assert_validation_error(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errorCode"] == "E0000001"
    assert error["errorSummary"] == f"Api validation failed: {field}"
    assert error["errorCauses"][0]["errorSummary"].startswith(f"{field}: ")


# --- create, read --------------------------------------------------------------------------------


async def test_create_answers_200_with_the_okta_shape(any_admin: httpx.AsyncClient) -> None:
    response = await any_admin.post(ORIGINS, json=body())
    assert response.status_code == 200
    origin = response.json()
    assert re.fullmatch(r"tos[0-9A-Za-z]{17}", origin["id"])
    assert (origin["name"], origin["origin"], origin["status"]) == (
        "New trusted origin",
        "http://example.com",
        "ACTIVE",
    )
    assert origin["scopes"] == [{"type": "CORS"}, {"type": "REDIRECT"}]
    assert origin["createdBy"] and origin["createdBy"] == origin["lastUpdatedBy"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", origin["created"])
    href = f"http://localhost:8080{ORIGINS}/{origin['id']}"
    assert origin["_links"]["self"] == {"href": href, "hints": {"allow": ["GET", "PUT", "DELETE"]}}
    assert origin["_links"]["deactivate"]["href"] == f"{href}/lifecycle/deactivate"
    assert "activate" not in origin["_links"]


async def test_the_sdk_parses_every_answer(any_admin: httpx.AsyncClient) -> None:
    created = await create(any_admin)
    fetched = (await any_admin.get(f"{ORIGINS}/{created['id']}")).json()
    listed = (await any_admin.get(ORIGINS)).json()
    deactivated = (await any_admin.post(f"{ORIGINS}/{created['id']}/lifecycle/deactivate")).json()
    for raw in (created, fetched, listed[0], deactivated):
        parsed = SdkTrustedOrigin.from_dict(raw)
        assert parsed is not None
        assert parsed.id == created["id"]
        assert parsed.scopes is not None and parsed.scopes[0].type is not None
        assert parsed.scopes[0].type.value == "CORS"
    assert SdkTrustedOrigin.from_dict(deactivated).status.value == "INACTIVE"  # type: ignore[union-attr]


async def test_iframe_embed_scopes_keep_their_allowed_apps(admin: httpx.AsyncClient) -> None:
    request = {
        "name": "Embed",
        "origin": "https://portal.example.com",
        "scopes": [{"type": "IFRAME_EMBED", "allowedOktaApps": ["OKTA_ENDUSER"]}],
    }
    created = (await admin.post(ORIGINS, json=request)).json()
    assert created["scopes"] == [{"type": "IFRAME_EMBED", "allowedOktaApps": ["OKTA_ENDUSER"]}]
    assert SdkTrustedOrigin.from_dict(created) is not None


async def test_the_origin_is_stored_as_browsers_send_it(admin: httpx.AsyncClient) -> None:
    created = await create(admin, "Mixed case", "HTTPS://App.Example.COM:443/")
    assert created["origin"] == "https://app.example.com"
    kept_port = await create(admin, "Port", "http://localhost:3090")
    assert kept_port["origin"] == "http://localhost:3090"


async def test_unknown_ids_are_okta_404(admin: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", f"{ORIGINS}/tos00000000000000000"),
        ("PUT", f"{ORIGINS}/tos00000000000000000"),
        ("DELETE", f"{ORIGINS}/tos00000000000000000"),
        ("POST", f"{ORIGINS}/tos00000000000000000/lifecycle/activate"),
        ("POST", f"{ORIGINS}/tos00000000000000000/lifecycle/deactivate"),
    ):
        response = await admin.request(method, path, json=body() if method == "PUT" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["errorCode"] == "E0000007"


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "example.com",
        "ftp://example.com",
        "http://example.com/path",
        "http://example.com?q=1",
        "http://example.com#top",
        "http://user:pw@example.com",
        "javascript:alert(1)",
        "http://",
        "http://exa mple.com",
        "http://example.com:99999",
        "http://*.example.com",
        "null",
        "",
    ],
)
async def test_origins_that_are_not_http_or_https_origins_are_refused(
    admin: httpx.AsyncClient, origin: str
) -> None:
    assert_validation_error(await admin.post(ORIGINS, json=body("Bad", origin)), "origin")
    assert await count(admin) == 0


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"origin": "http://example.com", "scopes": [{"type": "CORS"}]}, "name"),
        ({"name": "   ", "origin": "http://example.com", "scopes": [{"type": "CORS"}]}, "name"),
        ({"name": "x" * 256, "origin": "http://example.com", "scopes": [{"type": "CORS"}]}, "name"),
        ({"name": "n", "scopes": [{"type": "CORS"}]}, "origin"),
        ({"name": "n", "origin": "http://example.com"}, "scopes"),
        ({"name": "n", "origin": "http://example.com", "scopes": []}, "scopes"),
        ({"name": "n", "origin": "http://example.com", "scopes": [{"type": "EVERYTHING"}]}, "scopes"),
        (
            {"name": "n", "origin": "http://example.com", "scopes": [{"type": "CORS"}, {"type": "CORS"}]},
            "scopes",
        ),
        ({"name": "n", "origin": "http://example.com", "scopes": "CORS"}, "scopes"),
        (
            {
                "name": "n",
                "origin": "http://e.com",
                "scopes": [{"type": "IFRAME_EMBED", "allowedOktaApps": ["X"]}],
            },
            "scopes",
        ),
    ],
)
async def test_invalid_bodies_are_refused_and_create_nothing(
    admin: httpx.AsyncClient, request_body: dict[str, Any], field: str
) -> None:
    assert_validation_error(await admin.post(ORIGINS, json=request_body), field)
    assert await count(admin) == 0


async def test_malformed_json_is_e0000003(admin: httpx.AsyncClient) -> None:
    response = await admin.post(ORIGINS, content=b"[1,", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000003"


async def test_duplicate_origins_and_names_are_refused(any_admin: httpx.AsyncClient) -> None:
    await create(any_admin, "First", "http://example.com")
    assert_validation_error(
        await any_admin.post(ORIGINS, json=body("Second", "HTTP://EXAMPLE.com:80")), "origin"
    )
    assert_validation_error(await any_admin.post(ORIGINS, json=body("FIRST", "http://other.example")), "name")
    assert await count(any_admin) == 1


# --- replace, lifecycle, delete ------------------------------------------------------------------


async def test_put_replaces_name_origin_and_scopes_but_not_status(any_admin: httpx.AsyncClient) -> None:
    created = await create(any_admin)
    replacement = {**created, **body("Updated", "http://updated.example.com", "CORS"), "status": "INACTIVE"}
    response = await any_admin.put(f"{ORIGINS}/{created['id']}", json=replacement)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["origin"], updated["scopes"]) == (
        "Updated",
        "http://updated.example.com",
        [{"type": "CORS"}],
    )
    assert updated["status"] == "ACTIVE"
    assert updated["created"] == created["created"]
    assert updated["lastUpdated"] >= created["lastUpdated"]


async def test_a_bad_put_changes_nothing(admin: httpx.AsyncClient) -> None:
    created = await create(admin)
    response = await admin.put(f"{ORIGINS}/{created['id']}", json=body("Updated", "not an origin"))
    assert response.status_code == 400
    assert (await admin.get(f"{ORIGINS}/{created['id']}")).json() == created


async def test_put_to_another_origins_value_is_refused(admin: httpx.AsyncClient) -> None:
    await create(admin, "One", "http://one.example")
    second = await create(admin, "Two", "http://two.example")
    response = await admin.put(f"{ORIGINS}/{second['id']}", json=body("Two", "http://one.example"))
    assert_validation_error(response, "origin")


async def test_deactivate_and_activate_answer_200_with_the_origin(any_admin: httpx.AsyncClient) -> None:
    created = await create(any_admin)
    deactivated = await any_admin.post(f"{ORIGINS}/{created['id']}/lifecycle/deactivate")
    assert deactivated.status_code == 200
    assert deactivated.json()["status"] == "INACTIVE"
    assert "activate" in deactivated.json()["_links"]
    assert "deactivate" not in deactivated.json()["_links"]
    again = await any_admin.post(f"{ORIGINS}/{created['id']}/lifecycle/deactivate")
    assert (again.status_code, again.json()["status"]) == (200, "INACTIVE")
    activated = await any_admin.post(f"{ORIGINS}/{created['id']}/lifecycle/activate")
    assert (activated.status_code, activated.json()["status"]) == (200, "ACTIVE")


async def test_delete_answers_204_and_the_origin_is_gone(any_admin: httpx.AsyncClient) -> None:
    created = await create(any_admin)
    response = await any_admin.delete(f"{ORIGINS}/{created['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert "content-type" not in response.headers
    assert (await any_admin.get(f"{ORIGINS}/{created['id']}")).status_code == 404


async def test_writes_are_logged(admin: httpx.AsyncClient) -> None:
    created = await create(admin)
    await admin.post(f"{ORIGINS}/{created['id']}/lifecycle/deactivate")
    await admin.delete(f"{ORIGINS}/{created['id']}")
    events = (await admin.get("/api/v1/logs", params={"filter": f'target.id eq "{created["id"]}"'})).json()
    assert [e["eventType"] for e in events] == [
        "security.trusted_origin.create",
        "security.trusted_origin.deactivate",
        "security.trusted_origin.delete",
    ]


# --- list ---------------------------------------------------------------------------------------


async def test_list_q_and_filter(any_admin: httpx.AsyncClient) -> None:
    app = await create(any_admin, "App", "https://app.example.com", "CORS")
    docs = await create(any_admin, "Docs", "https://docs.example.com", "REDIRECT")
    await any_admin.post(f"{ORIGINS}/{docs['id']}/lifecycle/deactivate")

    async def ids(**params: str) -> list[str]:
        response = await any_admin.get(ORIGINS, params=params)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()]

    assert await ids() == [app["id"], docs["id"]]
    assert await ids(q="do") == [docs["id"]]
    assert await ids(q="https://app") == [app["id"]]
    assert await ids(filter='name eq "App"') == [app["id"]]
    assert await ids(filter='origin eq "https://docs.example.com"') == [docs["id"]]
    assert await ids(filter='status eq "INACTIVE"') == [docs["id"]]
    assert await ids(filter='type eq "CORS"') == [app["id"]]
    assert await ids(filter='type eq "REDIRECT" or name eq "App"') == [app["id"], docs["id"]]


async def test_list_pages_with_link_headers(admin: httpx.AsyncClient) -> None:
    created = [(await create(admin, f"O{i}", f"http://o{i}.example"))["id"] for i in range(3)]
    first = await admin.get(ORIGINS, params={"limit": "2"})
    assert [o["id"] for o in first.json()] == created[:2]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["link"])
    assert next_url is not None
    second = await admin.get(next_url.group(1))
    assert [o["id"] for o in second.json()] == created[2:]
    assert 'rel="next"' not in second.headers["link"]


async def test_a_bad_filter_is_e0000031(admin: httpx.AsyncClient) -> None:
    for expression in ('created gt "2020-01-01"', 'name zz "x"', 'name eq "x" and'):
        response = await admin.get(ORIGINS, params={"filter": expression})
        assert response.status_code == 400, expression
        assert response.json()["errorCode"] == "E0000031"


# --- authorization ------------------------------------------------------------------------------


async def test_every_operation_needs_authentication(server: Server) -> None:
    async with server.client() as anonymous:
        for method in ("GET", "POST"):
            response = await anonymous.request(method, ORIGINS, json=body() if method == "POST" else None)
            assert response.status_code == 403
            assert response.json()["errorCode"] == "E0000005"


async def test_the_read_scope_cannot_write(server: Server, admin: httpx.AsyncClient) -> None:
    created = await create(admin)
    server.rt.bearer = scoped_bearer("okta.trustedOrigins.read")
    async with server.client(Authorization="Bearer scoped-token") as reader:
        assert (await reader.get(ORIGINS)).status_code == 200
        assert (await reader.get(f"{ORIGINS}/{created['id']}")).status_code == 200
        refused = [
            await reader.post(ORIGINS, json=body("Other", "http://other.example")),
            await reader.put(f"{ORIGINS}/{created['id']}", json=body("X", "http://x.example")),
            await reader.delete(f"{ORIGINS}/{created['id']}"),
            await reader.post(f"{ORIGINS}/{created['id']}/lifecycle/deactivate"),
        ]
    assert [r.status_code for r in refused] == [403] * 4
    assert (await admin.get(f"{ORIGINS}/{created['id']}")).json() == created


async def test_the_manage_scope_can_write(server: Server) -> None:
    server.rt.bearer = scoped_bearer("okta.trustedOrigins.manage")
    async with server.client(Authorization="Bearer scoped-token") as manager:
        created = await create(manager)
        assert created["createdBy"] == "0oaCaller"
        assert (await manager.get(ORIGINS)).status_code == 200
