"""Routes whose modules are imported at their first request, not at start (issue 20, goal 5).

Why: the management API, the sign-in pages and the console import most of the org server
(their handlers, FastAPI-free but schema-, template- and domain-heavy); the token path needs
none of it. ``serve --memory`` measured their imports at a third of the start's CPU (py-spy of
exec to first token; ``python -X importtime``), and an idle worker keeps them in its RSS.
Measured (``bench/startup.py --compare`` against the tree before, with uvicorn's ``ws="none"``
beside it, load average 8-12): the server's CPU to the first token 2.18 s → 1.96 s and 1.94 s →
1.74 s in two runs (0.90); ``ostiary.app``'s imports went from 51 % to 37 % of the start's py-spy
samples; idle RSS of ``serve --memory`` 85.3 → 82.0 MB.

:class:`LazyRoutes` stands in the route list for one contiguous run of routes. Routing stays
what Starlette's flat list gives:

- it answers ``Match.NONE`` without importing anything for a path outside its ``prefixes``
  (a cheap over-approximation of its routes' paths; ``tests/unit/serving/test_lazy_routes.py``
  checks that every route of every group lies inside its prefixes);
- otherwise it loads its routes (once) and answers like them: the first ``FULL`` match, else the
  first ``PARTIAL`` (a 405). Since each group is a contiguous slice of the flat list, "first
  FULL over the groups in order, else first PARTIAL" is exactly the flat router's rule, so
  404/405 answers, the trailing-slash redirect and CORS preflights do not change;
- the matched route goes into the child scope as ``scope["route"]``, so :meth:`handle` hands
  the request to it and middleware sees the real route.

:func:`expand` gives the routes a path may meet, groups opened, for code that walks the router
itself (``http.allowed_methods``' ``Allow`` header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import cast

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, get_route_path
from starlette.types import Receive, Scope, Send


class LazyRoutes(BaseRoute):
    """A contiguous run of routes, imported by ``load`` at the first request under ``prefixes``."""

    def __init__(self, name: str, load: Callable[[], Sequence[BaseRoute]], prefixes: Iterable[str]) -> None:
        self.name = name
        self.prefixes = tuple(prefixes)
        self._load = load
        self._routes: list[BaseRoute] | None = None
        self._indexed: list[tuple[BaseRoute, str | None]] = []

    @property
    def loaded(self) -> bool:
        return self._routes is not None

    @property
    def routes(self) -> list[BaseRoute]:
        """The group's routes, imported on first use."""
        self._index()
        assert self._routes is not None
        return self._routes

    def _index(self) -> list[tuple[BaseRoute, str | None]]:
        """Each route with its literal prefix (:func:`_literal_prefix`), loaded on first use."""
        if self._routes is None:
            self._routes = list(self._load())
            self._indexed = [(route, _literal_prefix(route)) for route in self._routes]
        return self._indexed

    def covers(self, path: str) -> bool:
        """Whether a route of the group may match ``path`` (a route path, without root path)."""
        return path.startswith(self.prefixes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if scope["type"] not in ("http", "websocket") or not self.covers(path):
            return Match.NONE, {}
        partial: tuple[Match, Scope] | None = None
        for route, literal in self._index():
            if literal is not None and not path.startswith(literal):
                continue  # its regex cannot match: Match.NONE without running it
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, "route": route}
            if match is Match.PARTIAL and partial is None:
                partial = (match, {**child_scope, "route": route})
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.get("route")
        if not isinstance(route, BaseRoute) or route is self:  # called without matches()
            match, child_scope = self.matches(scope)
            if match is Match.NONE:
                raise LookupError(f"no route of {self.name!r} matches {get_route_path(scope)!r}")
            scope.update(child_scope)
            route = scope["route"]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        state = f"{len(self._routes)} routes" if self._routes is not None else "not loaded"
        return f"LazyRoutes({self.name!r}, {state})"


def _literal_prefix(route: BaseRoute) -> str | None:
    """The text every path a plain Starlette ``Route`` matches begins with (its path up to the
    first parameter; its regex is anchored there), or None where that is not known."""
    if type(route).matches is not Route.matches:
        return None
    return cast(Route, route).path.split("{", 1)[0]


def expand(routes: Iterable[BaseRoute], path: str) -> Iterator[BaseRoute]:
    """``routes`` with each :class:`LazyRoutes` that covers ``path`` opened (loading it) and
    the others left out: the routes a request to ``path`` may match, in the router's order."""
    for route in routes:
        if isinstance(route, LazyRoutes):
            if route.covers(path):
                yield from route.routes
        else:
            yield route


def eager(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    """``routes`` with every group loaded and flattened: the full route table (tools, tests)."""
    flat: list[BaseRoute] = []
    for route in routes:
        flat.extend(route.routes if isinstance(route, LazyRoutes) else [route])
    return flat
