"""The bad-input corpus (issue 13, items 5 and 8) over every route of the org server.

Each route the app serves, with each of its methods, gets each hostile input: NUL in a path
parameter, in the query and in a form body; ``%FF`` (not UTF-8 once decoded); JSON nested 1,000
deep, with a lone surrogate, with NUL, with an integer beyond 64 bits, with ``1e999``; a UTF-16
body. Every answer is 400 in the endpoint's error shape (OAuth's under ``/oauth2/`` and
``/.well-known/``, Okta's elsewhere) with the edge's headers, and nothing stored changes. The
routes are read from the app, so a new endpoint is covered without touching this file; the
unauthenticated endpoints come first, and every case is sent without and with an API token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from ostiary.app import build_routes
from ostiary.http.fast_routes import FAST_ROUTES
from ostiary.store.models import Base
from tests.conftest import Server

DEEP = 1000
_PARAM = re.compile(r"\{[^}]+\}")
UNAUTHENTICATED = ("/oauth2", "/.well-known", "/api/v1/authn", "/api/v1/sessions", "/login", "/healthz")


def _routes() -> list[tuple[str, str]]:
    found = {
        (route.path, method)
        for route in build_routes()
        if isinstance(route, Route)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    } | set(FAST_ROUTES)
    return sorted(found, key=lambda pm: (not pm[0].startswith(UNAUTHENTICATED), pm))


def _fill(path: str, value: str = "00xCorpusId0000000001") -> str:
    return _PARAM.sub(value, path)


def _json_bodies() -> dict[str, bytes]:
    return {
        "json-deep": b'{"profile":' + b"[" * DEEP + b"]" * DEEP + b"}",
        "json-deep-objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        "json-lone-surrogate": b'{"profile":{"name":"bad\\ud800name","login":"s\\udc00@example.com"}}',
        "json-nul": b'{"username":"a\\u0000b","profile":{"name":"g\\u0000x","login":"a\\u0000@x.io"}}',
        "json-huge-integer": b'{"profile":{"name":"n"},"limit":123456789012345678901234567890}',
        "json-infinite-number": b'{"profile":{"name":"n"},"value":1e999}',
        "json-utf16": '{"profile":{"name":"utf16"}}'.encode("utf-16"),
    }


def _cases() -> Iterator[Any]:
    for path, method in _routes():
        if _PARAM.search(path):
            yield pytest.param(method, _fill(path, "x%00y"), {}, None, id=f"{method} {path} path-nul")
        filled = _fill(path)
        for name, query in (
            ("query-nul", "after=%00&q=a%00b&client_id=a%00"),
            ("query-not-utf8", "q=%FF%FE"),
        ):
            yield pytest.param(method, f"{filled}?{query}", {}, None, id=f"{method} {path} {name}")
        if method in ("POST", "PUT", "PATCH"):
            form = {"content-type": "application/x-www-form-urlencoded"}
            yield pytest.param(
                method,
                filled,
                form,
                b"grant_type=client_credentials&client_id=a%00b&token=a%00b",
                id=f"{method} {path} form-nul",
            )
            yield pytest.param(method, filled, form, b"client_id=%FF", id=f"{method} {path} form-not-utf8")
            yield pytest.param(method, filled, form, b"client_id=a\x00b", id=f"{method} {path} form-raw-nul")
            as_json = {"content-type": "application/json"}
            for name, body in _json_bodies().items():
                yield pytest.param(method, filled, as_json, body, id=f"{method} {path} {name}")


async def _row_counts(server: Server) -> dict[str, int]:
    counts = {}
    async with server.rt.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name != "log_events":
                counts[table.name] = (
                    await session.execute(select(func.count()).select_from(table))
                ).scalar_one()
    return counts


def _assert_refused_in_shape(path: str, response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-okta-request-id")
    body = response.json()
    if path.startswith(("/oauth2/", "/.well-known/")):
        assert body["error"] == "invalid_request"
        assert body["error_description"]
    else:
        assert body["errorCode"] in ("E0000001", "E0000003")
        assert body["errorSummary"] and body["errorId"]


@pytest.fixture
async def token(any_server: Server) -> str:
    return await any_server.create_token()


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "admin"])
async def test_every_route_refuses_bad_input_with_400_and_changes_nothing(
    any_server: Server, token: str, authenticated: bool
) -> None:
    before = await _row_counts(any_server)
    failures = []
    async with any_server.client(token if authenticated else None) as client:
        for case in _cases():
            method, url, headers, body = case.values
            response = await client.request(method, url, headers=headers, content=body)
            try:
                _assert_refused_in_shape(url, response)
            except (AssertionError, ValueError, KeyError) as exc:
                failures.append(f"{case.id}: {response.status_code} {response.text[:200]} ({exc!r})")
    assert failures == []
    assert await _row_counts(any_server) == before


def test_the_corpus_covers_every_route_and_starts_with_the_unauthenticated_ones() -> None:
    routes = _routes()
    assert len(routes) > 60
    first_authenticated = next(
        i for i, (path, _) in enumerate(routes) if not path.startswith(UNAUTHENTICATED)
    )
    assert all(not path.startswith(UNAUTHENTICATED) for path, _ in routes[first_authenticated:])
    assert ("/oauth2/{authServerId}/v1/token", "POST") in routes
    assert ("/api/v1/users", "POST") in routes
