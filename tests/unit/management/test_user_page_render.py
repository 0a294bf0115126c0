"""``GET /api/v1/users`` renders its page from Core rows (``domain.directory.user_page``): the
bytes must be exactly those of ``user_json`` on the ORM users, for every status, credential and
profile a user can have."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import httpx
from sqlalchemy import update

from ostiary.compact_json import dumps
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.directory.directory_json import user_json
from ostiary.domain.directory.user_page import iso, render_users
from ostiary.store.models import User
from ostiary.store.repositories import orgs
from ostiary.timeutil import iso as reference_iso
from tests.conftest import Server
from tests.support.users import create

BASE = "http://localhost:8080"


async def _users_of_every_kind(admin: httpx.AsyncClient, server: Server) -> None:
    assert (await create(admin, "ann.lee@example.com")).status_code == 200  # ACTIVE, password
    assert (await create(admin, "bob.ray@example.com", password=False)).status_code == 200  # PROVISIONED
    staged = await create(admin, "cy.doe@example.com", activate="false", nickName='Çé "q" 😀', title=None)
    assert staged.status_code == 200
    body = {"profile": {"login": "no-email@example.com", "email": "", "firstName": "N", "lastName": "E"}}
    assert (await admin.post("/api/v1/users?activate=false", json=body)).status_code in (200, 400)
    question = {"password": {"value": "Tr1cky-Secret!"},
                "recovery_question": {"question": "Favourite colour?", "answer": "blue green"}}  # fmt: skip
    body = {"profile": {"login": "dee.q@example.com", "email": "dee.q@example.com", "firstName": "Dee",
                        "lastName": "Q"}, "credentials": question}  # fmt: skip
    assert (await admin.post("/api/v1/users?activate=true", json=body)).status_code == 200
    for login, action in (("eve.s@example.com", "suspend"), ("fay.d@example.com", "deactivate")):
        user = (await create(admin, login)).json()
        assert (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/{action}")).status_code == 200
    locked = (await create(admin, "gus.l@example.com")).json()
    async with server.rt.db.session() as session:  # LOCKED_OUT, a last login, a verified email changed
        when = datetime(2031, 5, 6, 7, 8, 9, 987654, tzinfo=UTC)
        await session.execute(
            update(User).where(User.id == locked["id"]).values(status="LOCKED_OUT", last_login=when)
        )
        await session.execute(
            update(User).where(User.login == "ann.lee@example.com").values(email_lower="x@y")
        )


async def test_a_page_from_rows_is_byte_for_byte_user_json(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    await _users_of_every_kind(any_admin, any_server)
    async with any_server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        tx = Tx(session=session, org=org, actor=Actor.system())
        objects = (await users_domain.list_users(tx, condition=User.id.is_not(None))).items
        rows = (await users_domain.list_user_rows(tx, condition=User.id.is_not(None))).items
        expected = dumps([user_json(u, BASE) for u in objects])
        assert len(rows) == len(objects) >= 7
        assert {r.status for r in rows} >= {"ACTIVE", "PROVISIONED", "STAGED", "SUSPENDED", "DEPROVISIONED",
                                             "LOCKED_OUT"}  # fmt: skip
        assert render_users(rows, BASE) == expected
        assert b"recovery_question" in expected and b"UNVERIFIED" in expected and b'VERIFIED"' in expected
    listed = await any_admin.get("/api/v1/users", params={"filter": 'status eq "ACTIVE"'})
    assert listed.status_code == 200 and listed.headers["content-type"] == "application/json"
    async with any_server.rt.db.session() as session:
        tx = Tx(session=session, org=org, actor=Actor.system())
        active = (await users_domain.list_users(tx, condition=User.status == "ACTIVE")).items
        assert listed.content == dumps([user_json(u, BASE) for u in active])


async def test_pages_from_rows_follow_the_cursor_and_the_sorted_cursor(any_admin: httpx.AsyncClient) -> None:
    for i in range(5):
        assert (await create(any_admin, f"p{i}.x@example.com", password=False)).status_code == 200
    seen: list[str] = []
    url: str | None = "/api/v1/users?limit=2"
    while url:
        response = await any_admin.get(url)
        seen += [u["id"] for u in response.json()]
        nexts = [part for part in response.headers["link"].split(", ") if 'rel="next"' in part]
        url = nexts[0].split(">")[0].lstrip("<") if nexts else None
    assert len(seen) == 5 and seen == sorted(seen)
    search = {
        "search": 'profile.login sw "p"',
        "sortBy": "profile.firstName",
        "sortOrder": "desc",
        "limit": "3",
    }
    first = await any_admin.get("/api/v1/users", params=search)
    assert [u["profile"]["login"] for u in first.json()] == [f"p{i}.x@example.com" for i in (4, 3, 2)]
    assert 'rel="next"' in first.headers["link"]
    by_login = await any_admin.get("/api/v1/users", params=search | {"sortBy": "profile.login"})
    assert by_login.status_code == 200, by_login.text  # was a 500: the login column is a condition
    assert [u["profile"]["login"] for u in by_login.json()] == [f"p{i}.x@example.com" for i in (4, 3, 2)]
    following = [part for part in by_login.headers["link"].split(", ") if 'rel="next"' in part]
    rest = await any_admin.get(following[0].split(">")[0].lstrip("<"))
    assert [u["profile"]["login"] for u in rest.json()] == [f"p{i}.x@example.com" for i in (1, 0)]
    ascending = await any_admin.get(
        "/api/v1/users", params=search | {"sortBy": "profile.login", "sortOrder": "asc"}
    )
    assert [u["profile"]["login"] for u in ascending.json()] == [f"p{i}.x@example.com" for i in (0, 1, 2)]


def test_iso_is_timeutil_iso() -> None:
    plus_two = timezone(timedelta(hours=2))
    for value in (
        None,
        datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, 1500),
        datetime(2024, 1, 2, 3, 4, 5, 1500, tzinfo=plus_two),
        datetime(1999, 12, 31, 23, 59, 59, 999, tzinfo=UTC),
        datetime(2024, 2, 29, 0, 0, 0, 1000, tzinfo=UTC),
    ):
        assert iso(value) == reference_iso(value)
    rng = random.Random(7)
    for _ in range(2000):
        value = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(10**16))
        assert iso(value) == reference_iso(value)
