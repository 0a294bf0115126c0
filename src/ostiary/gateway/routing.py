"""Route matching: the first configured route whose path and method match a request wins.

Paths are matched on the percent-decoded request path, after refusing paths that an
upstream could read as another path (``ostiary.request_paths``: dot segments, also as
``..;``, ``\\``, double encoding, and ``;`` unless the route has ``allow_semicolons``):
``/visitors/../moons``, ``/planets/%2e%2e/moons`` or ``/api/..;/moons`` never reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ostiary.gateway.config import RouteConfig
from ostiary.request_paths import compile_loose, compile_path, is_safe_path, loose_path, path_problem

__all__ = ["CompiledRoute", "NoMatch", "RouteMatch", "Router", "compile_path", "is_safe_path", "path_problem"]


@dataclass(frozen=True)
class RouteMatch:
    route: RouteConfig
    params: dict[str, str]


@dataclass(frozen=True)
class NoMatch:
    """No route for the method; ``allowed`` lists the methods of routes with this path (405)."""

    allowed: frozenset[str]


@dataclass(frozen=True)
class CompiledRoute:
    route: RouteConfig
    pattern: re.Pattern[str] | None
    exact: str | None
    loose: re.Pattern[str]

    def match_path(self, path: str) -> dict[str, str] | None:
        if self.exact is not None:
            return {} if path == self.exact else None
        assert self.pattern is not None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    def accepts(self, method: str) -> bool:
        methods = self.route.methods
        return "*" in methods or method in methods or (method == "HEAD" and "GET" in methods)


class Router:
    def __init__(self, routes: tuple[RouteConfig, ...]) -> None:
        self.routes = tuple(
            CompiledRoute(
                route=r,
                pattern=(p := compile_path(r.path)),
                exact=r.path if p is None else None,
                loose=compile_loose(r.path),
            )
            for r in routes
        )

    def match(self, method: str, path: str) -> RouteMatch | NoMatch:
        """The first route matching ``path`` and ``method``.

        ``CompiledRoute.match_path`` and ``accepts`` inline: this loop visits every route
        before the matching one on every request, and the two calls per route were a fifth of
        the gateway's own Python calls per request with a few routes (``bench/gateway_calls.py``
        counts 2 calls fewer per route visited; ``tests/unit/gateway`` holds the behaviour)."""
        allowed: set[str] = set()
        for compiled in self.routes:
            exact = compiled.exact
            if exact is not None:
                if path != exact:
                    continue
                params: dict[str, str] = {}
            else:
                found = compiled.pattern.fullmatch(path)  # type: ignore[union-attr]  # set without exact
                if found is None:
                    continue
                params = found.groupdict()
            methods = compiled.route.methods
            if "*" in methods or method in methods or (method == "HEAD" and "GET" in methods):
                return RouteMatch(route=compiled.route, params=params)
            allowed.update(methods)
        if "GET" in allowed:
            allowed.add("HEAD")
        return NoMatch(allowed=frozenset(allowed))

    def shadowing(self, method: str, path: str, found: RouteMatch) -> RouteConfig | None:
        """An earlier route for ``method`` that ``path`` names when read loosely (any case,
        ``;parameters``, trailing ``/``, dots or spaces, full-width letters:
        ``request_paths.loose_path``),
        or None. The upstream may read the path so, and serve that route's handler under
        the later (usually broader, less protected) route that matched exactly."""
        loose: str | None = None
        for compiled in self.routes:
            if compiled.route is found.route:
                return None
            methods = compiled.route.methods  # CompiledRoute.accepts inline, as in match
            if not ("*" in methods or method in methods or (method == "HEAD" and "GET" in methods)):
                continue
            loose = loose_path(path) if loose is None else loose
            if compiled.loose.fullmatch(loose):
                return compiled.route
        return None
