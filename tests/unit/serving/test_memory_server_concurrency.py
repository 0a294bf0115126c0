"""Concurrent requests to the app of ``serve --memory`` (built as the command builds it): every
write answered 200 is there afterwards, whatever failed beside it (a duplicate login is refused
after its insert reached the database) and whatever read it at the same time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from ostiary import memory_server
from tests.conftest import make_settings

CONCURRENT = 25


def _user(login: str) -> dict[str, Any]:
    return {"profile": {"login": login, "email": login, "firstName": "Con", "lastName": "Current"}}


async def test_every_write_answered_200_is_kept_beside_failures_and_reads(tmp_path: Path) -> None:
    settings = memory_server.memory_settings(make_settings(tmp_path, "unused"), 8080)
    app, _org_id, token = await memory_server.build(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url, headers=headers) as client:
        first = await client.post("/api/v1/users?activate=false", json=_user("taken@example.com"))
        assert first.status_code == 200, first.text

        def create_user(i: int) -> Any:
            return client.post("/api/v1/users?activate=false", json=_user(f"user{i}@example.com"))

        def duplicate(_i: int) -> Any:
            return client.post("/api/v1/users?activate=false", json=_user("taken@example.com"))

        def create_group(i: int) -> Any:
            return client.post("/api/v1/groups", json={"profile": {"name": f"group {i}"}})

        def read(_i: int) -> Any:
            return client.get("/api/v1/users?limit=5")

        kinds = {"user": create_user, "duplicate": duplicate, "group": create_group, "read": read}
        calls = [(kind, make) for _ in range(CONCURRENT) for kind, make in kinds.items()]
        responses = await asyncio.gather(*(make(i) for i, (_kind, make) in enumerate(calls)))
        answered = list(zip((kind for kind, _make in calls), responses, strict=True))

        for kind, response in answered:
            expected = 400 if kind == "duplicate" else 200
            assert response.status_code == expected, (kind, response.text)
            if kind == "duplicate":
                assert response.json()["errorCode"] == "E0000001"
        created = [(kind, r.json()["id"]) for kind, r in answered if kind in ("user", "group")]
        assert len(created) == 2 * CONCURRENT
        for kind, id_ in created:
            path = f"/api/v1/users/{id_}" if kind == "user" else f"/api/v1/groups/{id_}"
            found = await client.get(path)
            assert found.status_code == 200, (kind, found.text)
        taken = await client.get("/api/v1/users/taken@example.com")
        assert taken.status_code == 200 and taken.json()["id"] == first.json()["id"]
    await app.state.runtime.db.dispose()
