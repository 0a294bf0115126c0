"""Route matching: the first configured route whose path and method match a request wins.

Paths are matched on the percent-decoded request path, after refusing paths with
``.``/``..`` or empty segments: a request that could be read as a different path by
the upstream (``/visitors/../moons``, ``/planets/%2e%2e/moons``) never reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ostiary.gateway.config import RouteConfig


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

    def match_path(self, path: str) -> dict[str, str] | None:
        if self.exact is not None:
            return {} if path == self.exact else None
        assert self.pattern is not None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None

    def accepts(self, method: str) -> bool:
        methods = self.route.methods
        return "*" in methods or method in methods or (method == "HEAD" and "GET" in methods)


def compile_path(template: str) -> re.Pattern[str] | None:
    """``None`` for a static path (matched by string equality, the common fast case)."""
    prefix = template.endswith("/*")
    body = template[:-2] if prefix else template
    if not prefix and "{" not in body:
        return None
    parts = []
    for segment in body.split("/")[1:]:
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    regex = "/" + "/".join(parts) if parts else ""
    if prefix:
        regex += "(?:/.*)?"
    return re.compile(regex or "/")


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def is_safe_path(path: str) -> bool:
    """Reject dot segments, empty inner segments and control characters."""
    if not path.startswith("/") or "//" in path or _CONTROL_CHARS.search(path):
        return False
    if "/." in path:
        return not any(segment in (".", "..") for segment in path.split("/"))
    return True


class Router:
    def __init__(self, routes: tuple[RouteConfig, ...]) -> None:
        self.routes = tuple(
            CompiledRoute(route=r, pattern=(p := compile_path(r.path)), exact=r.path if p is None else None)
            for r in routes
        )

    def match(self, method: str, path: str) -> RouteMatch | NoMatch:
        allowed: set[str] = set()
        for compiled in self.routes:
            params = compiled.match_path(path)
            if params is None:
                continue
            if compiled.accepts(method):
                return RouteMatch(route=compiled.route, params=params)
            allowed.update(compiled.route.methods)
        if "GET" in allowed:
            allowed.add("HEAD")
        return NoMatch(allowed=frozenset(allowed))
