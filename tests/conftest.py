"""Shared fixtures: an in-process org server on SQLite (and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ostiary.app import create_app, prepare
from ostiary.domain.context import Actor, Tx
from ostiary.domain.directory import api_tokens
from ostiary.settings import Settings, sqlite_url
from ostiary.store.repositories import orgs

PG_URL = os.environ.get("OSTIARY_TEST_POSTGRES_URL")
ORG_URL = "http://localhost:8080"


def _admin_url(url: str) -> str:
    import re

    return re.sub(r"^postgresql\+asyncpg", "postgresql", url)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh database for this test session on the CI PostgreSQL server (dropped afterwards)."""
    if not PG_URL:
        yield None
        return
    import asyncpg

    name = "ostiary_t_" + secrets.token_hex(4)
    admin = _admin_url(PG_URL)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to the heads, which each test starts from a copy of:
    running the migrations costs ~0.2 s, copying the file ~1 ms."""
    from ostiary.store import migrate
    from ostiary.store.db import Database

    directory = tmp_path_factory.mktemp("sqlite-template")

    async def build() -> None:
        db = Database(sqlite_url(directory))
        try:
            await migrate.upgrade(db.engine)
        finally:
            await db.dispose()  # the last connection checkpoints the WAL into the file

    asyncio.run(build())
    return directory / "ostiary.db"


def _fresh_sqlite(tmp_path: Path, template: Path) -> str:
    url = sqlite_url(tmp_path)
    shutil.copyfile(template, tmp_path / template.name)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None, migrated_sqlite: Path
) -> str:
    """Parametrised storage: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return _fresh_sqlite(tmp_path, migrated_sqlite)
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    return postgres_database


@pytest.fixture
def sqlite_database_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    return _fresh_sqlite(tmp_path, migrated_sqlite)


RSA_POOL_SIZE = 12


@pytest.fixture(scope="session")
def rsa_signing_keys() -> list[Any]:
    """RSA-2048 signing keys made once per session (one costs ~0.1-0.3 s on a small VM)."""
    from ostiary.jose.signing_keys import generate_signing_key

    return [generate_signing_key("RS256") for _ in range(RSA_POOL_SIZE)]


@pytest.fixture(autouse=True)
def pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch, rsa_signing_keys: list[Any]) -> None:
    """Servers of in-process apps take their RS256 keys from the session's pool, each key at
    most once per test (so kids stay unique within a database); beyond the pool, or for
    ES256, keys are made as usual. ``test_jose_keys`` covers generation itself."""
    from ostiary.domain.authz import key_rotation as keys_domain

    generate = keys_domain.generate_signing_key
    unused = list(rsa_signing_keys)

    def pooled(alg: Any = "RS256") -> Any:
        if alg == "RS256" and unused:
            return unused.pop(0)
        return generate(alg)

    monkeypatch.setattr(keys_domain, "generate_signing_key", pooled)


def make_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "base_url": ORG_URL,
        "rate_limits": "off",
        # Generous database timeouts: two test workers on two loaded cores must not meet the
        # production defaults (a few seconds); tests/faults sets its own where timeouts are the point.
        "db_statement_timeout": 30.0,
        "db_pool_timeout": 30.0,
    }
    values.update(extra)
    return Settings(**values)


class Server:
    """An in-process org server and helpers to act on it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rt = app.state.runtime
        self.subdomain: str | None = None

    async def tx(self) -> Any:
        raise NotImplementedError

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        all_headers = {"Accept": "application/json", **headers}
        if token:
            all_headers["Authorization"] = f"SSWS {token}"
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url=ORG_URL, headers=all_headers)

    async def create_token(self, name: str = "test") -> str:
        async with self.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            tx = Tx(session=session, org=org, actor=Actor.system())
            _token, plaintext = await api_tokens.create_token(tx, name)
        return plaintext


async def _truncate_all(server: Server) -> None:
    """PostgreSQL tests share one database: each starts from empty tables."""
    from sqlalchemy import text

    from ostiary.store.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with server.rt.db.session() as session:
        await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def _server(tmp_path: Path, url: str, **extra: Any) -> AsyncIterator[Server]:
    app = create_app(make_settings(tmp_path, url, **extra), run_migrations=True)
    server = Server(app)
    if not url.startswith("sqlite"):
        from ostiary.store import migrate

        await migrate.upgrade(server.rt.db.engine)
        await _truncate_all(server)
    await prepare(server.rt)
    if server.rt.limiter is not None:
        # One fixed instant in the middle of a minute: a test's counts never straddle two windows.
        pinned = time.time() // 60 * 60 + 30
        server.rt.limiter.clock = lambda: pinned
    try:
        yield server
    finally:
        await server.rt.db.dispose()


@pytest.fixture
async def server(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url):
        yield s


@pytest.fixture
async def any_server(tmp_path: Path, database_url: str) -> AsyncIterator[Server]:
    """The same server on every storage backend (SQLite, PostgreSQL)."""
    async for s in _server(tmp_path, database_url):
        yield s


@pytest.fixture
async def admin(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    token = await server.create_token()
    async with server.client(token) as client:
        yield client


@pytest.fixture
async def any_admin(any_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    token = await any_server.create_token()
    async with any_server.client(token) as client:
        yield client


def pytest_configure(config: pytest.Config) -> None:
    """Trust a test CA process-wide before any HTTP client library builds its default SSL context.

    The okta SDK and okta-jwt-verifier use aiohttp, whose verified SSL context is made at import
    time from OpenSSL's default paths, which honour ``SSL_CERT_FILE``.
    """
    import sys
    import tempfile

    from tests.support.tls import make_tls_files

    directory = Path(tempfile.mkdtemp(prefix="ostiary-tls-"))
    ca, cert, key = make_tls_files(directory)
    os.environ["SSL_CERT_FILE"] = str(ca)
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    os.environ["OSTIARY_TEST_TLS_CERT"] = str(cert)
    os.environ["OSTIARY_TEST_TLS_KEY"] = str(key)
    if "aiohttp.connector" in sys.modules:  # imported too early by a plugin: trust the CA there too
        connector = sys.modules["aiohttp.connector"]
        connector._SSL_CONTEXT_VERIFIED.load_verify_locations(str(ca))
