"""``search=profile.login sw`` and ``filter=profile.login eq`` on PostgreSQL compare
``lower(login) COLLATE "C"``, the expression of migration 0019's index, whose statistics let the
planner tell a rare prefix (read it from the index) from a common one (walk the primary key).
On SQLite the SQL is unchanged; on both engines the answers are the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from ostiary.domain.directory.search import user_condition
from ostiary.store.models import User
from tests.conftest import Server, _server


@pytest.fixture
async def pg_server(tmp_path: Path, postgres_database: str | None) -> AsyncIterator[Server]:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    async for server in _server(tmp_path, postgres_database):
        yield server


LOGINS = [
    "ann.lee@example.com",
    "Ann_Lee@example.com",
    "annx.lee@example.com",
    "ann%lee@example.com",
    "o'neil@example.com",
    "Élodie.martin@example.com",
    "bob.stone@example.com",
]


async def _create(admin: httpx.AsyncClient, login: str) -> None:
    profile = {"login": login, "email": login, "firstName": "A", "lastName": "B"}
    created = await admin.post("/api/v1/users?activate=false", json={"profile": profile})
    assert created.status_code == 200, created.text


async def _logins(admin: httpx.AsyncClient, **params: str) -> set[str]:
    found = await admin.get("/api/v1/users", params=params)
    assert found.status_code == 200, found.text
    return {user["profile"]["login"] for user in found.json()}


async def test_prefixes_and_equality_match_the_same_users_on_every_engine(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    for login in LOGINS:
        await _create(any_admin, login)
    assert await _logins(any_admin, search='profile.login sw "ann"') == {
        "ann.lee@example.com",
        "Ann_Lee@example.com",
        "annx.lee@example.com",
        "ann%lee@example.com",
    }
    assert await _logins(any_admin, search='profile.login sw "ANN_"') == {"Ann_Lee@example.com"}
    assert await _logins(any_admin, search='profile.login sw "ann%"') == {"ann%lee@example.com"}
    assert await _logins(any_admin, search='profile.login sw "o\'n"') == {"o'neil@example.com"}
    assert await _logins(any_admin, filter='profile.login eq "ann.lee@example.com"') == {
        "ann.lee@example.com"
    }
    assert await _logins(any_admin, search='profile.login sw "zzz"') == set()


async def _explain(server: Server, condition: Any, *settings: str) -> str:
    async with server.rt.db.session() as session:
        for setting in settings:
            await session.execute(text(setting))
        statement = select(User.id).where(condition)
        compiled = statement.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
        rows = (await session.execute(text(f"EXPLAIN {compiled}"))).scalars().all()
    return "\n".join(rows)


@pytest.mark.postgres
async def test_on_postgresql_the_search_can_use_the_byte_ordered_login_index(pg_server: Server) -> None:
    async with pg_server.rt.db.session() as session:
        indexes = set(
            (
                await session.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'users'"))
            ).scalars()
        )
        target = (
            await session.execute(
                text(
                    "SELECT a.attstattarget FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    "WHERE c.relname = 'ix_users_org_login_c' AND a.attnum = 2"
                )
            )
        ).scalar_one()
    assert "ix_users_org_login_c" in indexes
    assert "ix_users_org_login_prefix" not in indexes  # 0016's, replaced
    assert target == 1000
    # Sequential scans off: with an empty table the planner would rather scan it; what matters
    # is that the compiled condition is the index's expression, so the index can serve it.
    for search in (
        'profile.login sw "ann.l"',
        'profile.login eq "ann.lee@example.com"',
        'profile.login sw "Ann"',
    ):
        condition = user_condition(filter_text=None, search_text=search)
        plan = await _explain(pg_server, condition, "SET LOCAL enable_seqscan = off")
        assert "ix_users_org_login_c" in plan, plan


@pytest.mark.postgres
async def test_on_postgresql_case_folds_beyond_ascii_as_before(pg_server: Server) -> None:
    """The comparison is in byte order, the folding in the database's collation: ``lower(login
    COLLATE "C")`` would have folded ASCII only and lost ``Élodie`` for ``élodie`` (on a database
    whose own ``lower()`` folds ``É``, as ``C.UTF-8`` here does; under ``C`` neither finds it)."""
    async with pg_server.rt.db.session() as session:  # the database's own folding (its LC_CTYPE)
        folds = (await session.execute(text("SELECT lower('É') = 'é'"))).scalar_one()
    expected = {"Élodie.martin@example.com"} if folds else set()
    async with pg_server.client(await pg_server.create_token()) as admin:
        await _create(admin, "Élodie.martin@example.com")
        await _create(admin, "elodie.martin@example.com")
        assert await _logins(admin, search='profile.login sw "élodie"') == expected
        assert await _logins(admin, search='profile.login eq "ÉLODIE.MARTIN@EXAMPLE.COM"') == expected
