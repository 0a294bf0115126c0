"""/api/v1/logs: every write is an event with actor, target and outcome."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Server
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


def next_link(response: httpx.Response) -> str | None:
    found = re.search(r'<([^>]+)>; rel="next"', response.headers["link"])
    return found.group(1) if found else None


async def test_a_polling_request_always_has_a_next_link(admin: httpx.AsyncClient) -> None:
    """No ``until``, ascending: even an empty page leads on, and the link picks up new events."""
    empty = await admin.get("/api/v1/logs", params={"since": "2999-01-01T00:00:00.000Z"})
    assert empty.json() == [] and next_link(empty) is not None
    polled = await admin.get("/api/v1/logs", params={"q": "group"})
    assert polled.json() == []
    following = next_link(polled)
    assert following is not None and "after=" in following
    await create_group(admin, "late")
    arrived = await admin.get(following)
    assert [e["target"][0]["displayName"] for e in arrived.json()] == ["late"]
    again = next_link(arrived)
    assert again is not None and (await admin.get(again)).json() == []


async def test_a_bounded_request_ends_without_a_next_link(admin: httpx.AsyncClient) -> None:
    await create_group(admin, "only")
    bounded = await admin.get("/api/v1/logs", params={"q": "group", "until": "2999-01-01T00:00:00.000Z"})
    assert len(bounded.json()) == 1 and next_link(bounded) is None


async def _insert_event(server: Server, seq: int, name: str) -> None:
    """A ``group.lifecycle.create`` event numbered ``seq``, as a transaction that commits late
    (numbered before, visible after, a later one) leaves it."""
    from ostiary.domain.audit.log import Target, event_row
    from ostiary.domain.context import Actor, Tx
    from ostiary.store.models import LogEvent
    from ostiary.store.repositories import orgs

    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        row = event_row(
            Tx(session=session, org=org, actor=Actor.system()),
            "group.lifecycle.create",
            "Create okta group",
            [Target("00g" + name, "UserGroup", name, name)],
        )
        session.add(LogEvent(**row, seq=seq))


async def test_a_poll_does_not_step_over_an_event_numbered_earlier_but_not_yet_visible(
    any_server: Server,
) -> None:
    token = await any_server.create_token()
    async with any_server.client(token) as admin:
        await create_group(admin, "first")
        polled = await admin.get("/api/v1/logs", params={"q": "group"})
        assert [e["target"][0]["displayName"] for e in polled.json()] == ["first"]
        following = next_link(polled)
        assert following is not None
        from sqlalchemy import func, select

        from ostiary.store.models import LogEvent

        async with any_server.rt.db.session() as session:
            top = int(await session.scalar(select(func.max(LogEvent.seq))) or 0)
        await _insert_event(any_server, top + 2, "later")  # visible while top + 1 is not
        held_back = await admin.get(following)
        assert held_back.json() == []
        assert next_link(held_back) == following
        await _insert_event(any_server, top + 1, "earlier")  # commits late
        arrived = await admin.get(following)
        assert [e["target"][0]["displayName"] for e in arrived.json()] == ["earlier", "later"]
