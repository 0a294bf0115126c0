"""Every operation of oag-admin.yaml has a route in the access gateway's admin app (offline
mode excepted: not built), and the admin app has no ``/api/v2`` route the spec lacks."""

from __future__ import annotations

from pathlib import Path

import yaml
from starlette.routing import Route

from ostiary.access_gateway.admin.routes import routes

SPEC = Path(__file__).resolve().parents[2] / "spec" / "oag-admin.yaml"
NOT_BUILT = "/offline-mode"
METHODS = {"get", "post", "put", "delete", "patch"}


def _spec_operations() -> set[tuple[str, str]]:
    paths = yaml.safe_load(SPEC.read_text())["paths"]
    return {
        (method.upper(), path)
        for path, item in paths.items()
        if NOT_BUILT not in path
        for method in item
        if method in METHODS
    }


def _routed_operations() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_every_spec_operation_has_a_route() -> None:
    assert _spec_operations() - _routed_operations() == set()


def test_every_route_is_in_the_spec() -> None:
    assert _routed_operations() - _spec_operations() == set()
