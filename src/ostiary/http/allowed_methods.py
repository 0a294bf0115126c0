"""The ``Allow`` header of a 405: every method the routes of this path accept.

The management API declares one ``Route`` per method, so Starlette's own 405 names only the
methods of the first route whose path matched; this unites them all.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Match, Route, get_route_path

from ostiary.http.lazy_routes import expand

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods accepted on the request's path (empty when no route or router is known)."""
    router = request.scope.get("router")
    methods: set[str] = set()
    for route in expand(getattr(router, "routes", ()), get_route_path(request.scope)):
        if not isinstance(route, Route) or route.methods is None:
            continue
        match, _child = route.matches(request.scope)
        if match in (Match.FULL, Match.PARTIAL):
            methods |= route.methods
    return sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))


def allow_header(request: Request) -> str | None:
    methods = allowed_methods(request)
    return ", ".join(methods) if methods else None
