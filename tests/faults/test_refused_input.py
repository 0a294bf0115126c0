"""Input that used to be accepted or to fail with 500 and is now refused with Okta's 400 (issue 13
item 8, security F15), and the spec's shapes where Ostiary sent ``null`` (item 9)."""

from __future__ import annotations

import re
import unicodedata

import httpx
import pytest

from tests.support.users import create as create_user

PROFILE = {"firstName": "Ty", "lastName": "Ped", "login": "typed@example.com", "email": "typed@example.com"}


async def _user_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/v1/users")).json())


@pytest.mark.parametrize("limit", ["+5", "\u0663", " 5", "5 ", "-0", "1_0"])
async def test_limit_other_than_ascii_digits_is_refused(any_admin: httpx.AsyncClient, limit: str) -> None:
    response = await any_admin.get("/api/v1/users", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["errorCauses"] == [{"errorSummary": "limit: must be an integer"}]


async def test_a_huge_limit_is_clamped_to_the_maximum(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users", params={"limit": "9" * 5000})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/users", "' OR 1=1 --"),
        ("/api/v1/users", "../../etc/passwd"),
        ("/api/v1/groups", "\U0001f600"),
        ("/api/v1/apps", "a" * 65),
        ("/api/v1/authorizationServers", "x y"),
        ("/api/v1/logs", "garbage"),
        ("/api/v1/logs", "-1"),
    ],
)
async def test_a_malformed_after_cursor_is_refused(
    any_admin: httpx.AsyncClient, path: str, cursor: str
) -> None:
    response = await any_admin.get(path, params={"after": cursor})
    assert response.status_code == 400
    assert response.json()["errorSummary"] == "Api validation failed: after"


async def test_the_next_link_cursor_still_pages(admin: httpx.AsyncClient) -> None:
    for i in range(3):
        await create_user(admin, f"pager{i}@example.com")
    first = await admin.get("/api/v1/users", params={"limit": "2"})
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["link"]).group(1)  # type: ignore[union-attr]
    second = await admin.get(next_url)
    assert second.status_code == 200
    assert len(first.json()) + len(second.json()) == 3


async def test_an_unknown_user_type_is_refused_and_nothing_is_created(any_admin: httpx.AsyncClient) -> None:
    before = await _user_count(any_admin)
    body = {"profile": PROFILE, "type": {"id": "oty_nope"}}
    response = await any_admin.post("/api/v1/users", json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"
    assert response.json()["errorSummary"] == "Api validation failed: type"
    assert await _user_count(any_admin) == before


async def test_the_orgs_own_user_type_is_accepted(admin: httpx.AsyncClient) -> None:
    created = (await create_user(admin, "first@example.com")).json()
    body = {"profile": PROFILE, "type": created["type"]}
    response = await admin.post("/api/v1/users", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == created["type"]
    assert response.json()["profile"]["login"] == PROFILE["login"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            unicodedata.normalize("NFC", "\u00e9@example.com"),
            unicodedata.normalize("NFD", "\u00e9@example.com"),
        ),
        ("user@example.com", "\uff55\uff53\uff45\uff52@example.com"),  # full-width letters
        ("Mixed@Example.com", "mixed@example.COM"),
    ],
    ids=["nfc-nfd", "full-width", "case"],
)
async def test_logins_equal_under_nfkc_and_case_are_one_login(
    any_admin: httpx.AsyncClient, first: str, second: str
) -> None:
    assert (await create_user(any_admin, first)).status_code == 200
    response = await create_user(any_admin, second)
    assert response.status_code == 400
    assert response.json()["errorSummary"] == "Api validation failed: login"
    found = await any_admin.get(f"/api/v1/users/{httpx.URL(second).raw_path.decode()}")
    assert found.status_code == 200
    assert found.json()["profile"]["login"] == first


async def test_a_huge_integer_in_a_search_is_refused_not_a_500(any_admin: httpx.AsyncClient) -> None:
    response = await any_admin.get(
        "/api/v1/users", params={"search": "profile.zip eq 99999999999999999999999999"}
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000031"


async def test_a_group_description_too_long_says_so(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/groups", json={"profile": {"name": "g", "description": "d" * 1025}})
    assert response.status_code == 400
    assert response.json()["errorCauses"] == [
        {"errorSummary": "description: must be at most 1024 characters"}
    ]


def _nulls(value: object, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in ([f"{path}.{k}"] if v is None else _nulls(v, f"{path}.{k}"))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}[{i}]")]
    return []


async def test_logs_groups_apps_and_api_tokens_send_no_null_where_the_spec_wants_a_value(
    admin: httpx.AsyncClient,
) -> None:
    group = (await admin.post("/api/v1/groups", json={"profile": {"name": "nodesc"}})).json()
    assert "description" not in group["profile"]
    await create_user(admin, "logged@example.com")
    events = (await admin.get("/api/v1/logs")).json()
    assert events
    assert [p for e in events for p in _nulls(e)] == []
    tokens = (await admin.get("/api/v1/api-tokens")).json()
    assert [p for t in tokens for p in _nulls(t)] == []
    apps = (await admin.get("/api/v1/apps")).json()
    assert all("errorRedirectUrl" not in a.get("accessibility", {}) for a in apps)
