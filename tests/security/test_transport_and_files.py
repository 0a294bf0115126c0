"""Security review F19 (info): HSTS on https, and the data directory readable by its owner only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ostiary.http.middleware import hsts_mode
from tests.conftest import ORG_URL, Server, _server


@pytest.mark.parametrize(
    ("base_url", "mode"),
    [
        ("https://id.example.com", "always"),
        ("http://id.example.com", "https"),
        ("https://localhost:8443", "never"),
        ("http://localhost:8080", "never"),
        ("https://127.0.0.1:8443", "never"),
    ],
)
def test_hsts_mode_follows_the_base_url(base_url: str, mode: str) -> None:
    assert hsts_mode(base_url) == mode


@pytest.fixture
async def public(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, base_url="http://id.example.com"):
        yield s


async def get(server: Server, scheme: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://id.example.com") as client:
        return await client.get("/oauth2/v1/keys")


async def test_https_responses_carry_hsts(public: Server) -> None:
    response = await get(public, "https")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_plain_http_responses_do_not(public: Server) -> None:
    assert "strict-transport-security" not in (await get(public, "http")).headers


async def test_the_loopback_default_never_sends_it(server: Server) -> None:
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url=ORG_URL.replace("http:", "https:")) as client:
        response = await client.get("/oauth2/v1/keys")
    assert "strict-transport-security" not in response.headers


# --- data directory ------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_a_new_sqlite_database_and_its_journals_are_private(tmp_path: Path) -> None:
    from ostiary.jose.key_encryption import master_key_from_env_or_file
    from ostiary.settings import sqlite_url
    from ostiary.store import migrate
    from ostiary.store.db import Database

    data_dir = tmp_path / "data"
    db = Database(sqlite_url(data_dir))
    try:
        await migrate.upgrade(db.engine)
        async with db.session() as session:
            from sqlalchemy import text

            await session.execute(text("SELECT 1"))
        files = sorted(p.name for p in data_dir.iterdir())
        assert "ostiary.db" in files
        assert {name: mode(data_dir / name) for name in files} == {name: 0o600 for name in files}
    finally:
        await db.dispose()
    master_key_from_env_or_file(None, data_dir)
    assert mode(data_dir / "master.key") == 0o600
    assert mode(data_dir) == 0o700


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    from ostiary.settings import sqlite_url
    from ostiary.store.db import Database

    (tmp_path / "ostiary.db").touch(mode=0o644)
    (tmp_path / "ostiary.db").chmod(0o644)
    (tmp_path / "ostiary.db-wal").touch()
    (tmp_path / "ostiary.db-wal").chmod(0o664)
    db = Database(sqlite_url(tmp_path))
    await db.dispose()
    assert mode(tmp_path / "ostiary.db") == 0o600
    assert mode(tmp_path / "ostiary.db-wal") == 0o600
