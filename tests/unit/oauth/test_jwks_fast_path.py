"""``GET …/v1/keys`` served ahead of the router from cached answers (``http.oauth.jwks``):
which paths take it, that it answers byte for byte as the router did, and that a rotation, a
deactivated server or an untrusted origin are seen at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ostiary.http.fast_routes import keys_path_params
from ostiary.http.oauth.jwks import KeysEndpoint
from tests.conftest import Server

SPA = "https://spa.example.com"
VOLATILE = {"date", "x-okta-request-id"}


@pytest.fixture
async def anon(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as client:
        yield client


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per ``KeysEndpoint.answer`` call: whether it answered (True) or declined."""
    calls: list[bool] = []
    original = KeysEndpoint.answer

    async def spy(self: KeysEndpoint, *args: Any) -> Any:
        answer = await original(self, *args)
        calls.append(answer is not None)
        return answer

    monkeypatch.setattr(KeysEndpoint, "answer", spy)
    return calls


def wire(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in VOLATILE]
    return response.status_code, headers, response.content


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/oauth2/v1/keys", {}),
        ("/oauth2/default/v1/keys", {"authServerId": "default"}),
        ("/oauth2//v1/keys", None),
        ("/oauth2/a/b/v1/keys", None),
        ("/oauth2/default/v1/keys/", None),
        ("/oauth2/v1/token", None),
    ],
)
def test_the_fast_path_takes_exactly_the_keys_routes(path: str, expected: dict[str, str] | None) -> None:
    assert keys_path_params(path) == expected


@pytest.mark.parametrize("path", ["/oauth2/v1/keys", "/oauth2/default/v1/keys"])
@pytest.mark.parametrize("origin", [None, SPA, "https://evil.example.com"])
async def test_the_cached_answer_is_the_routers_byte_for_byte(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient, fast_answers: list[bool], path: str, origin: str | None
) -> None:
    body = {"name": "spa", "origin": SPA, "scopes": [{"type": "CORS"}]}
    assert (await admin.post("/api/v1/trustedOrigins", json=body)).status_code == 200
    headers = {"Origin": origin} if origin else {}
    first = await anon.get(path, headers=headers)  # the ring is not loaded yet: the router's
    assert fast_answers == [False]
    second = await anon.get(path, headers=headers)
    assert fast_answers == [False, True]
    assert wire(second) == wire(first)
    assert first.status_code == 200 and first.json()["keys"]
    assert second.headers.get_list("vary") == ["Origin"]  # once, CORS or not (was "Origin, Origin")
    if origin == SPA:
        assert second.headers["access-control-allow-origin"] == SPA
    else:
        assert "access-control-allow-origin" not in second.headers


async def test_a_rotation_is_served_at_once(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient, fast_answers: list[bool]
) -> None:
    before = (await anon.get("/oauth2/default/v1/keys")).json()["keys"]
    assert (await anon.get("/oauth2/default/v1/keys")).json()["keys"] == before
    rotate = "/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate"
    rotated = await admin.post(rotate, json={"use": "sig"})
    assert rotated.status_code == 200
    await anon.get("/oauth2/default/v1/keys")  # the router reloads the dropped ring
    after = (await anon.get("/oauth2/default/v1/keys")).json()["keys"]
    assert fast_answers[-1] is True
    assert {k["kid"] for k in after} != {k["kid"] for k in before}


async def test_a_deactivated_server_is_404_at_once(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient, fast_answers: list[bool]
) -> None:
    await anon.get("/oauth2/default/v1/keys")
    assert (await anon.get("/oauth2/default/v1/keys")).status_code == 200
    assert fast_answers == [False, True]
    assert (await admin.post("/api/v1/authorizationServers/default/lifecycle/deactivate")).status_code == 204
    assert (await anon.get("/oauth2/default/v1/keys")).status_code == 404
    assert fast_answers[-1] is False


async def test_head_and_other_methods_stay_the_routers(
    anon: httpx.AsyncClient, fast_answers: list[bool]
) -> None:
    await anon.get("/oauth2/v1/keys")
    got = await anon.get("/oauth2/v1/keys")
    head = await anon.head("/oauth2/v1/keys")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    post = await anon.post("/oauth2/v1/keys")
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD, OPTIONS"
    assert fast_answers == [False, True]


async def test_bad_input_is_refused_by_the_router(anon: httpx.AsyncClient, fast_answers: list[bool]) -> None:
    await anon.get("/oauth2/v1/keys")
    response = await anon.get("/oauth2/v1/keys?x=%ff")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert fast_answers == [False]
