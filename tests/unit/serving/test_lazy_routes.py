"""The org server's lazy route groups (``http.lazy_routes``): the same routing as the flat route
table, every route inside its group's prefixes, and the groups' modules imported at their first
request and not before (checked in a fresh interpreter, on the app ``serve --memory`` serves)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match, Route

from ostiary.app import build_routes
from ostiary.http.allowed_methods import allowed_methods
from ostiary.http.lazy_routes import LazyRoutes, eager, expand

SRC = Path(__file__).resolve().parents[3] / "src"
_PARAM = re.compile(r"\{[^}]+\}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


def _groups() -> list[LazyRoutes]:
    return [route for route in build_routes(lazy=True) if isinstance(route, LazyRoutes)]


def _route_rows(routes: list[BaseRoute]) -> list[tuple[str, str, tuple[str, ...], Any]]:
    return [
        (type(r).__name__, r.path, tuple(sorted(r.methods or ())), _name(r.endpoint))
        for r in routes
        if isinstance(r, Route)
    ]


def test_the_lazy_table_opened_is_the_flat_table() -> None:
    assert _route_rows(eager(build_routes(lazy=True))) == _route_rows(build_routes())
    assert len(eager(build_routes(lazy=True))) == len(build_routes())


@pytest.mark.parametrize("group", _groups(), ids=lambda g: g.name)
def test_every_route_of_a_group_lies_inside_its_prefixes(group: LazyRoutes) -> None:
    for route in group.routes:
        assert isinstance(route, Route)
        literal = route.path.split("{", 1)[0]
        assert group.covers(literal), (group.name, route.path, group.prefixes)


def _choose(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Match, Any, dict[str, Any]]:
    """Starlette's router's choice: the first FULL match, else the first PARTIAL one."""
    partial: tuple[Match, Any, dict[str, Any]] | None = None
    for route in routes:
        match, child = route.matches(scope)
        chosen = child.get("route", route)
        params = child.get("path_params", {})
        if match is Match.FULL:
            return match, chosen, params
        if match is Match.PARTIAL and partial is None:
            partial = (match, chosen, params)
    return partial or (Match.NONE, None, {})


def _paths() -> list[str]:
    """Every route path filled in, with and without a trailing slash, and some strays."""
    filled = {_PARAM.sub("00uAbc123", r.path) for r in build_routes() if isinstance(r, Route)}
    toggled = {p.rstrip("/") if p.endswith("/") else p + "/" for p in filled}
    strays = {"/", "/favicon.ico", "/api/v1", "/api/v1/nothing", "/admin", "/loginx", "/oauth2/v1/clientsx"}
    return sorted(filled | toggled | strays)


def test_every_path_and_method_routes_as_in_the_flat_table() -> None:
    flat, lazy = build_routes(), build_routes(lazy=True)
    checked = 0
    for path in _paths():
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            want, got = _choose(flat, dict(scope)), _choose(lazy, dict(scope))
            assert (got[0], _row(got[1]), got[2]) == (want[0], _row(want[1]), want[2]), (method, path)
            if want[0] is Match.PARTIAL:  # a 405: the same Allow header
                assert _allow(lazy, scope) == _allow(flat, scope), (method, path)
            checked += 1
    assert checked > 1000


def _name(endpoint: Any) -> str:
    """An endpoint by name (some are closures made anew by each ``build_routes``)."""
    return f"{endpoint.__module__}.{endpoint.__qualname__}"


def _row(route: Any) -> Any:
    return None if route is None else (route.path, tuple(sorted(route.methods or ())), _name(route.endpoint))


def _allow(routes: list[BaseRoute], scope: dict[str, Any]) -> list[str]:
    from starlette.requests import Request
    from starlette.routing import Router

    return allowed_methods(Request({**scope, "router": Router(routes=routes)}))


def test_a_group_outside_its_prefixes_is_not_loaded() -> None:
    loads: list[str] = []
    group = LazyRoutes("g", lambda: loads.append("loaded") or [], ["/api/v1/"])
    scope = {"type": "http", "method": "GET", "path": "/oauth2/v1/keys", "root_path": ""}
    assert group.matches(scope) == (Match.NONE, {})
    assert list(expand([group], "/oauth2/v1/keys")) == []
    assert loads == [] and not group.loaded
    group.matches({**scope, "path": "/api/v1/users"})
    assert loads == ["loaded"] and group.loaded


def test_a_group_skips_routes_whose_literal_prefix_the_path_lacks() -> None:
    """Only routes whose path up to its first parameter begins the request's path run their
    regex (the flat router runs every one); the choice is the same (the test above). A route
    class that overrides ``matches`` is always asked."""
    tried: list[str] = []

    class CountedRegex:
        def __init__(self, route: Route) -> None:
            self.route, self.regex = route, route.path_regex

        def match(self, path: str) -> Any:
            tried.append(self.route.path)
            return self.regex.match(path)

    class Own(Route):
        def matches(self, scope: Any) -> tuple[Match, Any]:
            return super().matches(scope)

    def endpoint() -> None: ...

    def counted(route: Route) -> Route:
        route.path_regex = CountedRegex(route)  # type: ignore[assignment]
        return route

    paths = [
        "/oauth2/v1/keys",
        "/oauth2/{id}/v1/keys",
        "/api/v1/groups",
        "/api/v1/users",
        "/api/v1/users/{id}",
    ]
    scope = {"type": "http", "method": "GET", "path": "/api/v1/users/00u1", "root_path": ""}
    group = LazyRoutes("g", lambda: [counted(Route(path, endpoint)) for path in paths], ["/"])
    match, child = group.matches(scope)
    assert match is Match.FULL and child["route"].path == "/api/v1/users/{id}"
    assert tried == ["/api/v1/users", "/api/v1/users/{id}"]
    tried.clear()
    own = LazyRoutes("o", lambda: [counted(Own(path, endpoint)) for path in paths], ["/"])
    assert own.matches(scope)[0] is Match.FULL
    assert tried == paths


_FIRST_REQUESTS = textwrap.dedent(
    """
    import asyncio, base64, json, sys
    import httpx
    from ostiary import memory_server
    from ostiary.domain.org_file.document import check
    from ostiary.settings import load_settings

    GROUPS = json.loads(sys.argv[1])
    SECRET = "lazy-secret-0123456789abcdef0123"
    ORG = {"apps": [{
        "label": "svc",
        "credentials": {"oauthClient": {"client_id": "0oaLazy", "client_secret": SECRET,
                                        "token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"],
                                     "response_types": ["token"]}},
        "grants": ["okta.users.read"],
    }]}

    def loaded():
        return sorted(name for name, modules in GROUPS.items() if any(m in sys.modules for m in modules))

    async def main():
        settings = memory_server.memory_settings(load_settings(), 8080)
        app, _org, token = await memory_server.build(settings, org_doc=check(ORG))
        report = {"built": loaded()}
        basic = base64.b64encode(("0oaLazy:" + SECRET).encode()).decode()
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url=settings.base_url, follow_redirects=False
        ) as client:
            async def call(name, method, path, **kw):
                r = await client.request(method, path, **kw)
                h = r.headers
                report[name] = {"status": r.status_code, "type": h.get("content-type", ""),
                                "location": h.get("location", ""), "allow": h.get("allow", ""),
                                "body": r.text[:300], "loaded": loaded()}
            await call("token", "POST", "/oauth2/v1/token", headers={"Authorization": "Basic " + basic},
                       data={"grant_type": "client_credentials", "scope": "okta.users.read"})
            await call("keys", "GET", "/oauth2/v1/keys")
            await call("missing", "GET", "/nowhere")
            await call("users", "GET", "/api/v1/users", headers={"Authorization": "SSWS " + token})
            await call("users_405", "DELETE", "/api/v1/users", headers={"Authorization": "SSWS " + token})
            await call("preflight", "OPTIONS", "/api/v1/authn", headers={
                "Origin": "https://nowhere.example", "Access-Control-Request-Method": "POST"})
            await call("authn", "POST", "/api/v1/authn", json={"username": "no@x.example", "password": "x"})
            await call("login", "GET", "/login")
            await call("console", "GET", "/admin/login")
        print(json.dumps(report))

    asyncio.run(main())
    """
)

GROUP_MODULES = {
    "management": [f"ostiary.http.management.{m}" for m in ("users", "apps", "roles", "api_services")],
    "sign-in": [f"ostiary.http.login.{m}" for m in ("authn", "set_password", "app_home")],
    "console": [f"ostiary.http.console.{m}" for m in ("routes", "pages", "signin")],
}


def test_groups_are_imported_at_their_first_request_and_answer_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env.update(PYTHONPATH=str(SRC), OSTIARY_DATA_DIR=str(tmp_path), OSTIARY_RATE_LIMITS="off")
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUESTS, json.dumps(GROUP_MODULES)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["built"] == []
    assert report["token"]["status"] == 200 and "access_token" in report["token"]["body"]
    assert report["keys"]["status"] == 200 and report["missing"]["status"] == 404
    assert report["token"]["loaded"] == report["keys"]["loaded"] == report["missing"]["loaded"] == []

    assert report["users"]["status"] == 200 and report["users"]["body"].startswith("[")
    assert report["users"]["loaded"] == ["management"]
    assert report["users_405"]["status"] == 405 and report["users_405"]["allow"] == "GET, HEAD, POST"
    assert report["users_405"]["body"].startswith('{"errorCode":"E0000022"')

    assert report["preflight"]["status"] == 204, report["preflight"]
    assert report["authn"]["status"] == 401 and '"errorCode":"E0000004"' in report["authn"]["body"]
    assert report["authn"]["loaded"] == ["management", "sign-in"]
    assert report["login"]["status"] == 200 and report["login"]["type"].startswith("text/html")

    assert report["console"]["status"] == 303 and "/oauth2/v1/authorize" in report["console"]["location"]
    assert report["console"]["loaded"] == ["console", "management", "sign-in"]
