"""/api/v1/logs: every write is an event with actor, target and outcome."""

from __future__ import annotations

import re

import httpx

from tests.support.groups import create_group
from tests.support.users import create as create_user


async def test_writes_produce_events_with_actor_target_outcome(any_admin: httpx.AsyncClient) -> None:
    user = (await create_user(any_admin)).json()
    events = (await any_admin.get("/api/v1/logs")).json()
    create = next(e for e in events if e["eventType"] == "user.lifecycle.create")
    assert create["target"][0]["id"] == user["id"]
    assert create["target"][0]["type"] == "User"
    assert create["outcome"] == {"result": "SUCCESS"}  # no null members: the spec types them as strings
    assert create["actor"]["displayName"] == "test"
    assert re.fullmatch(r"[0-9a-f-]{36}", create["uuid"])


async def test_failed_writes_leave_no_event(admin: httpx.AsyncClient) -> None:
    await admin.post("/api/v1/users", json={"profile": {"login": "bad"}})
    events = (await admin.get("/api/v1/logs")).json()
    assert not [e for e in events if e["eventType"] == "user.lifecycle.create"]


async def test_filter_by_event_type_and_target(any_admin: httpx.AsyncClient) -> None:
    group = (await create_group(any_admin)).json()
    await create_user(any_admin)
    by_type = (
        await any_admin.get("/api/v1/logs", params={"filter": 'eventType eq "group.lifecycle.create"'})
    ).json()
    assert [e["target"][0]["id"] for e in by_type] == [group["id"]]
    by_target = (
        await any_admin.get("/api/v1/logs", params={"filter": f'target.id eq "{group["id"]}"'})
    ).json()
    assert [e["eventType"] for e in by_target] == ["group.lifecycle.create"]


async def test_q_matches_words(admin: httpx.AsyncClient) -> None:
    await create_group(admin)
    found = (await admin.get("/api/v1/logs", params={"q": "group"})).json()
    assert [e["eventType"] for e in found] == ["group.lifecycle.create"]


async def test_since_in_the_future_returns_nothing(admin: httpx.AsyncClient) -> None:
    await create_group(admin)
    assert (await admin.get("/api/v1/logs", params={"since": "2999-01-01T00:00:00.000Z"})).json() == []


async def test_bad_since_is_a_validation_error(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/logs", params={"since": "yesterday"})
    assert response.status_code == 400


async def test_descending_order_and_paging(admin: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await create_group(admin, name)
    first = await admin.get("/api/v1/logs", params={"sortOrder": "DESCENDING", "limit": 2, "q": "group"})
    names = [e["target"][0]["displayName"] for e in first.json()]
    assert names == ["c", "b"]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["link"]).group(1)  # type: ignore[union-attr]
    rest = (await admin.get(next_url)).json()
    assert [e["target"][0]["displayName"] for e in rest] == ["a"]
