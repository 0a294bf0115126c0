"""Several orgs on one ``ostiary serve``, reached at ``{org}.localhost``.

``*.localhost`` is resolved to 127.0.0.1 in this process only (:func:`resolve_localhost_subdomains`
patches ``socket.getaddrinfo``, which httpx, requests and aiohttp all use); no machine file is
touched. Orgs are created through the store and domain, with their org and ``default``
authorization servers and an API token (the ``org create`` CLI belongs to another branch).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.servers import OSTIARY, free_port, running


@contextmanager
def resolve_localhost_subdomains() -> Iterator[None]:
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.lower().rstrip(".").endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = original  # type: ignore[assignment]


@dataclass
class PlainServer:
    """``ostiary serve`` over plain http at ``http://localhost:{port}`` with its own data dir."""

    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def org_url(self, name: str) -> str:
        return f"http://{name}.localhost:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "OSTIARY_DATA_DIR": str(self.data_dir),
            "OSTIARY_BASE_URL": self.url,
            "OSTIARY_LOG_LEVEL": "warning",
            # a suite makes more calls a minute than Okta's per-org defaults allow; the limits
            # are tested elsewhere
            "OSTIARY_RATE_LIMITS": "off",
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OSTIARY, *args], env={**os.environ, **self.env}, capture_output=True, text=True, check=check
        )

    def create_token(self, name: str = "e2e") -> str:
        return self.cli("token", "create", "--name", name).stdout.strip().splitlines()[-1]

    def create_org(self, name: str) -> str:
        """A new org ``name`` with its authorization servers; returns an API token of it."""
        return asyncio.run(_create_org(self.data_dir, name))


async def _create_org(data_dir: Path, name: str) -> str:
    from ostiary.domain.authz import server_lookup
    from ostiary.domain.authz.server_admin import seed_default_server
    from ostiary.domain.context import Actor, Tx
    from ostiary.domain.directory import api_tokens
    from ostiary.settings import sqlite_url
    from ostiary.store.db import Database
    from ostiary.store.repositories import orgs

    db = Database(sqlite_url(data_dir))

    async def work(session: Any) -> str:
        org = await orgs.create_org(session, name, name)
        await server_lookup.ensure_builtin(session, org.id)
        await seed_default_server(session, org.id)
        tx = Tx(session=session, org=org, actor=Actor("test", "SystemPrincipal", "test", "test"))
        return (await api_tokens.create_token(tx, f"{name}-admin"))[1]

    try:
        return str(await db.transaction(work))
    finally:
        await db.dispose()


@contextmanager
def plain_server(tmp_path: Path) -> Iterator[PlainServer]:
    server = PlainServer(tmp_path / "org", free_port())
    args = [OSTIARY, "serve", "--port", str(server.port)]
    with running(args, f"{server.url}/healthz", server.env, tmp_path / "serve.log"):
        yield server
