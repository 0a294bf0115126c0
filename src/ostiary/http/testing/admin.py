"""``/__ostiary/testing/*``: the test admin API of ``serve --memory --testing`` (issue 21).

Every call needs the org's ``SSWS`` API token and acts on the org of the request's Host:

- ``GET|POST|DELETE /faults``, ``DELETE /faults/{id}``: fault rules (``fault_injection``);
  ``DELETE /faults`` also puts the token clock back;
- ``GET|PUT /clock`` ``{"skewSeconds": n}``: move the token clock (``timeutil.token_time``);
- ``POST /keys/rotate`` ``{"authorizationServerId": "default"}``: rotate signing keys now;
- ``POST /users/{idOrLogin}/lock``: lock an account out;
- ``POST /snapshot``, ``POST /reset``: save the database, put it back (faults and clock too).

The routes exist only when the wiring adds them; a normal ``serve`` answers 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_admin
from ostiary.domain.authz.server_lookup import ORG_SERVER_ID
from ostiary.domain.context import Tx
from ostiary.domain.directory import users
from ostiary.domain.errors import Invalid
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime
from ostiary.http.testing.fault_injection import FaultRules
from ostiary.timeutil import set_token_clock_skew, token_clock_skew

PREFIX = "/__ostiary/testing"
ADMIN_SCOPE = "okta.apiTokens.manage"


@dataclass
class TestingHooks:
    """What the wiring hands the routes (in ``Runtime.extras["testing"]``)."""

    rules: FaultRules
    save: Callable[[], Awaitable[None]]
    restore: Callable[[], Awaitable[None]]


def _hooks(request: Request) -> TestingHooks:
    hooks: TestingHooks = runtime(request).extras["testing"]
    return hooks


async def _admin_org_id(request: Request) -> str:
    async with management_tx(request, ADMIN_SCOPE) as tx:
        _require_api_token(request)
        return tx.org_id


def _require_api_token(request: Request) -> None:
    if request.state.principal.kind != "api_token":
        raise OktaHTTPError(403, "E0000006", "You do not have permission to perform the requested action")


def _rule_options(body: dict[str, Any]) -> dict[str, Any]:
    """The body of ``POST /faults`` as :meth:`FaultRules.add` options."""
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith(("/", "*")):
        raise Invalid("path: a path pattern such as /api/v1/users*")
    options: dict[str, Any] = {"path": path}
    for name, key, kind in (
        ("method", "method", str),
        ("status", "status", int),
        ("delay", "delaySeconds", (int, float)),
        ("times", "times", int),
        ("reset_seconds", "resetSeconds", int),
        ("limit", "limit", int),
    ):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            raise Invalid(f"{key}: wrong type")
        options[name] = str(value).upper() if name == "method" else value
    if options.get("status") is None and not options.get("delay"):
        raise Invalid("status or delaySeconds is required")
    if options.get("times") is not None and options["times"] < 1:
        raise Invalid("times: at least 1")
    return options


async def list_faults(request: Request) -> Response:
    org_id = await _admin_org_id(request)
    return json_response([rule.json() for rule in _hooks(request).rules.of(org_id)])


async def add_fault(request: Request) -> Response:
    body = await json_object(request)
    org_id = await _admin_org_id(request)
    options = _rule_options(body)
    try:
        rule = _hooks(request).rules.add(org_id, **options)
    except ValueError as exc:
        raise Invalid(f"status: {exc}") from None
    return json_response(rule.json(), 201)


async def clear_faults(request: Request) -> Response:
    org_id = await _admin_org_id(request)
    _hooks(request).rules.clear(org_id)
    set_token_clock_skew(0)
    return no_content()


async def remove_fault(request: Request) -> Response:
    org_id = await _admin_org_id(request)
    rule_id = request.path_params["ruleId"]
    if not _hooks(request).rules.remove(org_id, rule_id):
        raise OktaHTTPError(404, "E0000007", f"Not found: Resource not found: {rule_id} (FaultRule)")
    return no_content()


async def get_clock(request: Request) -> Response:
    await _admin_org_id(request)
    return json_response({"skewSeconds": token_clock_skew()})


async def set_clock(request: Request) -> Response:
    body = await json_object(request)
    await _admin_org_id(request)
    skew = body.get("skewSeconds")
    if isinstance(skew, bool) or not isinstance(skew, int | float):
        raise Invalid("skewSeconds: a number of seconds")
    set_token_clock_skew(skew)
    return json_response({"skewSeconds": token_clock_skew()})


async def rotate_keys(request: Request) -> Response:
    body = await json_object(request, required=False)
    server_id = body.get("authorizationServerId", ORG_SERVER_ID)
    if not isinstance(server_id, str):
        raise Invalid("authorizationServerId: a string")
    rt = runtime(request)
    async with management_tx(request, ADMIN_SCOPE) as tx:
        _require_api_token(request)
        if server_id != ORG_SERVER_ID:
            await server_admin.manageable_server(tx, server_id)  # 404 for an unknown server
        org_id = tx.org_id
    await rt.rings.rotate(org_id, server_id)
    ring = await rt.rings.ring(org_id, server_id)
    return json_response({"authorizationServerId": server_id, "activeKid": ring.active.kid})


async def lock_user(request: Request) -> Response:
    async with management_tx(request, "okta.users.manage") as tx:
        _require_api_token(request)
        user = await users.lock_out(tx, request.path_params["userId"])
        return json_response({"id": user.id, "status": user.status})


async def save_snapshot(request: Request) -> Response:
    """Make every server's signing keys first, so that a reset never changes the JWKS."""
    rt = runtime(request)
    async with management_tx(request, ADMIN_SCOPE) as tx:
        _require_api_token(request)
        server_ids = [ORG_SERVER_ID, *await _server_ids(tx)]
        org_id = tx.org_id
    for server_id in server_ids:
        await rt.rings.ring(org_id, server_id)
    await _hooks(request).save()
    return no_content()


async def _server_ids(tx: Tx) -> list[str]:
    found: list[str] = []
    after: str | None = None
    while True:
        page = await server_admin.list_servers(tx, q=None, after=after, limit=200)
        found += [server.id for server in page.items]
        if page.next_cursor is None:
            return found
        after = page.next_cursor


async def reset(request: Request) -> Response:
    """The database as the last snapshot saved it; no fault rules; the token clock put back."""
    org_id = await _admin_org_id(request)
    hooks, rt = _hooks(request), runtime(request)
    try:
        await hooks.restore()
    except LookupError:
        raise OktaHTTPError(409, "E0000001", "Api validation failed: no snapshot saved") from None
    rt.forget_all()
    hooks.rules.clear(org_id)
    set_token_clock_skew(0)
    return no_content()


routes = [
    Route(f"{PREFIX}/faults", list_faults, methods=["GET"]),
    Route(f"{PREFIX}/faults", add_fault, methods=["POST"]),
    Route(f"{PREFIX}/faults", clear_faults, methods=["DELETE"]),
    Route(f"{PREFIX}/faults/{{ruleId}}", remove_fault, methods=["DELETE"]),
    Route(f"{PREFIX}/clock", get_clock, methods=["GET"]),
    Route(f"{PREFIX}/clock", set_clock, methods=["PUT"]),
    Route(f"{PREFIX}/keys/rotate", rotate_keys, methods=["POST"]),
    Route(f"{PREFIX}/users/{{userId}}/lock", lock_user, methods=["POST"]),
    Route(f"{PREFIX}/snapshot", save_snapshot, methods=["POST"]),
    Route(f"{PREFIX}/reset", reset, methods=["POST"]),
]
