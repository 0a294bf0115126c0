"""A System Log poller, as SIEM connectors run one: the unmodified ``okta`` SDK (3.4.6) follows
``Link: rel="next"`` from ``since=now`` forever, and each event appears exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper

from tests.e2e.servers import OrgServer


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


async def create_groups(org: OrgServer, token: str, names: list[str]) -> list[str]:
    async with httpx.AsyncClient(headers={"Authorization": f"SSWS {token}"}) as http:
        ids = []
        for name in names:
            created = await http.post(f"{org.url}/api/v1/groups", json={"profile": {"name": name}})
            assert created.status_code == 200, created.text
            ids.append(created.json()["id"])
        return ids


async def test_a_poller_sees_each_new_event_exactly_once(org: OrgServer, token: str) -> None:
    since = now_iso()
    seen: list[str] = []
    expected: list[str] = []
    async with sdk(org, token) as client:
        after: str | None = None
        empty_pages_with_next = 0

        async def poll() -> None:
            nonlocal after, empty_pages_with_next
            events, resp, err = await client.list_log_events(since=since, after=after, limit=2)
            assert err is None, err
            cursor = PaginationHelper.extract_next_cursor(resp.headers)
            assert cursor is not None, resp.headers  # a polling answer always leads on
            if not events:
                empty_pages_with_next += 1
            seen.extend(e.uuid for e in events if e.event_type == "group.lifecycle.create")
            after = cursor

        await poll()  # nothing yet: an empty page that still carries rel="next"
        assert seen == [] and empty_pages_with_next == 1
        for batch in (["p1", "p2", "p3"], ["p4"], ["p5", "p6", "p7", "p8", "p9"]):
            expected += await create_groups(org, token, batch)
            deadline = time.monotonic() + 20
            while len(seen) < len(expected) and time.monotonic() < deadline:
                await poll()
                await asyncio.sleep(0.05)
        for _ in range(3):  # caught up: more polls find nothing new
            await poll()
    async with httpx.AsyncClient(headers={"Authorization": f"SSWS {token}"}) as http:
        listed = await http.get(
            f"{org.url}/api/v1/logs",
            params={"since": since, "filter": 'eventType eq "group.lifecycle.create"', "limit": 100},
        )
    by_uuid = {e["uuid"]: e["target"][0]["id"] for e in listed.json()}
    assert len(seen) == len(set(seen)) == len(expected)
    assert [by_uuid[u] for u in seen] == expected


async def test_a_bounded_range_has_no_next_link_on_its_last_page(org: OrgServer, token: str) -> None:
    since = now_iso()
    await create_groups(org, token, ["b1", "b2"])
    async with httpx.AsyncClient(headers={"Authorization": f"SSWS {token}"}) as http:
        params = {
            "since": since,
            "until": "2999-01-01T00:00:00.000Z",
            "filter": 'eventType eq "group.lifecycle.create"',
        }
        first = await http.get(f"{org.url}/api/v1/logs", params={**params, "limit": 1})
        assert len(first.json()) == 1 and 'rel="next"' in first.headers["link"]
        last = await http.get(f"{org.url}/api/v1/logs", params={**params, "limit": 10})
        assert len(last.json()) == 2 and 'rel="next"' not in last.headers["link"]
        newest_first = await http.get(f"{org.url}/api/v1/logs", params={**params, "sortOrder": "DESCENDING"})
        assert [e["target"][0]["displayName"] for e in newest_first.json()] == ["b2", "b1"]
        assert 'rel="next"' not in newest_first.headers["link"]


async def test_bad_polling_parameters_are_refused(org: OrgServer, token: str) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"SSWS {token}"}) as http:
        for params, code in (
            ({"since": "not-a-date"}, "E0000001"),
            ({"after": "abc"}, "E0000001"),
            ({"limit": "0"}, "E0000001"),
            ({"sortOrder": "SIDEWAYS"}, "E0000001"),
            ({"filter": "eventType eq"}, "E0000031"),  # Okta's "Invalid search criteria"
        ):
            response = await http.get(f"{org.url}/api/v1/logs", params=params)
            assert response.status_code == 400, (params, response.text)
            assert response.json()["errorCode"] == code, params
