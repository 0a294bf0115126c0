"""The token endpoint's one layer (``http.fast_routes.TokenFastPath``) keeps the rules of the three
layers every other request goes through: a database conflict runs the request again with its
body, an unavailable store is 503, an unexpected error is a 500 in Okta's shape with the edge's
headers, and the body is checked by the input rules; with rate limits on, the body the edge read
for the per-client limit is the one the endpoint gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ostiary.http.oauth import token as token_module
from tests.conftest import Server, _server

pytestmark = pytest.mark.faults

TOKEN = "/oauth2/default/v1/token"


class _Deadlock(Exception):
    sqlstate = "40P01"


class _Answer:
    def __init__(self, params: dict[str, str]) -> None:
        self.params = params

    def as_json(self) -> dict[str, Any]:
        return {"params": self.params}


@pytest.fixture(params=["off", "on"], ids=["limits-off", "limits-on"])
async def server(
    tmp_path: Path, sqlite_database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits=request.param):
        yield s


def _failing(times: int, error: Exception, seen: list[dict[str, str]]) -> Any:
    """An ``_issue`` that fails ``times`` times with ``error``, then answers the form it got."""

    async def issue(request: Any) -> _Answer:
        seen.append(dict(request.params))
        if len(seen) <= times:
            raise error
        return _Answer(request.params)

    return issue


async def _post(server: Server, body: bytes) -> httpx.Response:
    async with server.client() as client:
        return await client.post(
            TOKEN, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )


async def test_a_token_request_that_deadlocked_runs_again_with_its_body(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(token_module, "_issue", _failing(2, _Deadlock("deadlock detected"), seen))
    response = await _post(server, b"grant_type=client_credentials&client_id=app1&scope=a+b")
    form = {"grant_type": "client_credentials", "client_id": "app1", "scope": "a b"}
    assert (response.status_code, response.json()) == (200, {"params": form})
    assert seen == [form] * 3
    assert response.headers["cache-control"] == "no-store" and "x-okta-request-id" in response.headers


async def test_a_token_request_that_keeps_deadlocking_is_503_in_oauth_shape(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(token_module, "_issue", _failing(10, _Deadlock("deadlock detected"), seen))
    response = await _post(server, b"grant_type=client_credentials")
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert "retry-after" in response.headers and len(seen) == server.rt.db.retry.attempts


async def test_an_unexpected_error_on_the_token_path_is_a_500_with_the_edge_headers(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_module, "_issue", _failing(1, RuntimeError("a bug"), []))
    response = await _post(server, b"grant_type=client_credentials")
    assert response.status_code == 500
    assert response.json()["errorCode"] == "E0000009" and "a bug" not in response.text
    assert "x-okta-request-id" in response.headers and "date" in response.headers


async def test_the_token_body_is_checked_by_the_input_rules(server: Server) -> None:
    response = await _post(server, b"grant_type=client_credentials&client_id=%FF")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "UTF-8" in response.json()["error_description"]


async def test_a_form_over_the_cap_is_413_once(server: Server) -> None:
    response = await _post(server, b"grant_type=client_credentials&pad=" + b"x" * (64 * 1024))
    assert response.status_code == 413
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request body is too large.",
    }
