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
