"""/api/v1/authorizationServers: servers, their scopes, claims, policies, rules and signing keys.

Not served (yet): ``associatedServers`` (trusted server relationships) and
``resourceservercredentials`` (access token encryption keys); those paths answer Okta's 404.
``clients`` and ``clients/{clientId}/tokens`` (refresh tokens) live in ``as_tokens``.

Every write drops the server from the OAuth layer's caches after it commits: the server cache
(``rt.servers``) here, the compiled policy sets in the domain (see ``policy_sets``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import claims as claims_domain
from ostiary.domain.authz import key_rotation as keys_domain
from ostiary.domain.authz import policies as policies_domain
from ostiary.domain.authz import scopes as scopes_domain
from ostiary.domain.authz import server_admin as servers_domain
from ostiary.domain.authz.server_json import (
    claim_json,
    key_json,
    policy_json,
    rule_json,
    scope_json,
    server_json,
)
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
PREFIX = "/api/v1/authorizationServers"


def _server_id(request: Request) -> str:
    return path_param(request, "authServerId")


def _forget(request: Request, org_id: str, server_id: str) -> None:
    """After a committed write: the OAuth endpoints must see the server as it is now."""
    runtime(request).servers.invalidate(org_id, server_id)


# --- servers ---------------------------------------------------------------------------------


async def _server_response(request: Request, server_id: str, status_code: int = 200) -> Response:
    """Read the server afresh (keys may have been made meanwhile) and render it."""
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, server_id)
        kids = await servers_domain.active_kids(tx.session, tx.org_id, [server.id])
        body = server_json(server, base_url(request), runtime(request).org_url(tx.org), kids.get(server.id))
    return json_response(body, status_code)


async def list_servers(request: Request) -> Response:
    limit = parse_limit(request, default=200, maximum=200)
    params = request.query_params
    async with management_tx(request, READ) as tx:
        page = await servers_domain.list_servers(
            tx, q=params.get("q"), after=parse_after(request), limit=limit
        )
        kids = await servers_domain.active_kids(tx.session, tx.org_id, [s.id for s in page.items])
        org_url = runtime(request).org_url(tx.org)

    def render(server: Any, base: str) -> dict[str, Any]:
        return server_json(server, base, org_url, kids.get(server.id))

    return list_response(request, page.items, render, page.next_cursor)


async def create_server(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        server = await servers_domain.create_server(tx, body)
        org_id = tx.org_id
    _forget(request, org_id, server.id)
    await runtime(request).rings.ring(org_id, server.id)  # Okta's new server shows its signing kid
    return await _server_response(request, server.id, 201)


async def get_server(request: Request) -> Response:
    return await _server_response(request, _server_id(request))


async def replace_server(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        server = await servers_domain.replace_server(tx, _server_id(request), body)
        org_id = tx.org_id
    _forget(request, org_id, server.id)
    return await _server_response(request, server.id)


async def delete_server(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await servers_domain.delete_server(tx, _server_id(request))
        org_id = tx.org_id
    _forget(request, org_id, _server_id(request))
    runtime(request).rings.invalidate(org_id, _server_id(request))
    return no_content()


def _server_lifecycle(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await servers_domain.set_status(tx, _server_id(request), status)
            org_id = tx.org_id
        _forget(request, org_id, _server_id(request))
        return no_content()

    return handler


# --- signing keys ----------------------------------------------------------------------------


async def _ensure_keys(request: Request) -> None:
    """Keys are made on first use and commit on their own: outside the request's transaction
    (``serve --memory``'s one connection cannot serve a second transaction inside it)."""
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, _server_id(request))
        org_id = tx.org_id
    await runtime(request).rings.ring(org_id, server.id)


async def list_keys(request: Request) -> Response:
    await _ensure_keys(request)
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, _server_id(request))
        rows = await keys_domain.published_rows(tx.session, tx.org_id, server.id)
        return json_response([key_json(row, base_url(request)) for row in rows])


async def get_key(request: Request) -> Response:
    key_id = path_param(request, "keyId")
    await _ensure_keys(request)
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, _server_id(request))
        rows = await keys_domain.published_rows(tx.session, tx.org_id, server.id)
        row = next((r for r in rows if r.kid == key_id), None)
        if row is None:
            raise OktaHTTPError(404, "E0000007", f"Not found: Resource not found: {key_id} (JsonWebKey)")
        return json_response(key_json(row, base_url(request)))


def _rotation_use(body: dict[str, Any]) -> None:
    if body.get("use") != "sig":
        raise OktaHTTPError(
            400,
            "E0000001",
            "Api validation failed: rotateKeys",
            ["Invalid value specified for key 'use' parameter"],
        )


async def rotate_keys(request: Request) -> Response:
    """ACTIVE → EXPIRED, NEXT → ACTIVE, a new NEXT; answers the published keys (200)."""
    body = await json_object(request)
    rt = runtime(request)
    async with management_tx(request, MANAGE) as tx:
        server = await servers_domain.manageable_server(tx, _server_id(request))
        _rotation_use(body)
        rows = await keys_domain.rotate_with_audit(tx, rt.rings, server.id)
        response = json_response([key_json(row, base_url(request)) for row in rows])
        org_id = tx.org_id
    _forget(request, org_id, server.id)
    return response


# --- scopes ----------------------------------------------------------------------------------


async def list_scopes(request: Request) -> Response:
    limit = parse_limit(request, default=200, maximum=200)
    params = request.query_params
    async with management_tx(request, READ) as tx:
        page = await scopes_domain.list_scopes(
            tx, _server_id(request), q=params.get("q"), after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, scope_json, page.next_cursor)


async def create_scope(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        scope = await scopes_domain.create_scope(tx, _server_id(request), body)
        return json_response(scope_json(scope, base_url(request)), 201)


async def get_scope(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        scope = await scopes_domain.get_scope(tx, _server_id(request), path_param(request, "scopeId"))
        return json_response(scope_json(scope, base_url(request)))


async def replace_scope(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        scope = await scopes_domain.replace_scope(
            tx, _server_id(request), path_param(request, "scopeId"), body
        )
        return json_response(scope_json(scope, base_url(request)))


async def delete_scope(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await scopes_domain.delete_scope(tx, _server_id(request), path_param(request, "scopeId"))
    return no_content()


# --- claims ----------------------------------------------------------------------------------


async def list_claims(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        claims = await claims_domain.list_claims(tx, _server_id(request))
        return json_response([claim_json(c, base_url(request)) for c in claims])


async def create_claim(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        claim = await claims_domain.create_claim(tx, _server_id(request), body)
        return json_response(claim_json(claim, base_url(request)), 201)


async def get_claim(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        claim = await claims_domain.get_claim(tx, _server_id(request), path_param(request, "claimId"))
        return json_response(claim_json(claim, base_url(request)))


async def replace_claim(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        claim = await claims_domain.replace_claim(
            tx, _server_id(request), path_param(request, "claimId"), body
        )
        return json_response(claim_json(claim, base_url(request)))


async def delete_claim(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await claims_domain.delete_claim(tx, _server_id(request), path_param(request, "claimId"))
    return no_content()


# --- policies --------------------------------------------------------------------------------


def _policy_id(request: Request) -> str:
    return path_param(request, "policyId")


async def list_policies(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        policies = await policies_domain.list_policies(tx, _server_id(request))
        return json_response([policy_json(p, base_url(request)) for p in policies])


async def create_policy(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        policy = await policies_domain.create_policy(tx, _server_id(request), body)
        return json_response(policy_json(policy, base_url(request)), 201)


async def get_policy(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        policy = await policies_domain.get_policy(tx, _server_id(request), _policy_id(request))
        return json_response(policy_json(policy, base_url(request)))


async def replace_policy(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        policy = await policies_domain.replace_policy(tx, _server_id(request), _policy_id(request), body)
        return json_response(policy_json(policy, base_url(request)))


async def delete_policy(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await policies_domain.delete_policy(tx, _server_id(request), _policy_id(request))
    return no_content()


def _policy_lifecycle(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await policies_domain.set_policy_status(tx, _server_id(request), _policy_id(request), status)
        return no_content()

    return handler


# --- rules -----------------------------------------------------------------------------------


def _rule_id(request: Request) -> str:
    return path_param(request, "ruleId")


async def list_rules(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        rules = await policies_domain.list_rules(tx, _server_id(request), _policy_id(request))
        return json_response([rule_json(r, base_url(request)) for r in rules])


async def create_rule(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        rule = await policies_domain.create_rule(tx, _server_id(request), _policy_id(request), body)
        return json_response(rule_json(rule, base_url(request)), 201)


async def get_rule(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        rule = await policies_domain.get_rule(tx, _server_id(request), _policy_id(request), _rule_id(request))
        return json_response(rule_json(rule, base_url(request)))


async def replace_rule(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        rule = await policies_domain.replace_rule(
            tx, _server_id(request), _policy_id(request), _rule_id(request), body
        )
        return json_response(rule_json(rule, base_url(request)))


async def delete_rule(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await policies_domain.delete_rule(tx, _server_id(request), _policy_id(request), _rule_id(request))
    return no_content()


def _rule_lifecycle(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        async with management_tx(request, MANAGE) as tx:
            await policies_domain.set_rule_status(
                tx, _server_id(request), _policy_id(request), _rule_id(request), status
            )
        return no_content()

    return handler


SERVER = PREFIX + "/{authServerId}"
POLICY = SERVER + "/policies/{policyId}"
RULE = POLICY + "/rules/{ruleId}"

routes = [
    Route(PREFIX, list_servers, methods=["GET"]),
    Route(PREFIX, create_server, methods=["POST"]),
    Route(SERVER, get_server, methods=["GET"]),
    Route(SERVER, replace_server, methods=["PUT"]),
    Route(SERVER, delete_server, methods=["DELETE"]),
    Route(SERVER + "/lifecycle/activate", _server_lifecycle("ACTIVE"), methods=["POST"]),
    Route(SERVER + "/lifecycle/deactivate", _server_lifecycle("INACTIVE"), methods=["POST"]),
    Route(SERVER + "/credentials/keys", list_keys, methods=["GET"]),
    Route(SERVER + "/credentials/keys/{keyId}", get_key, methods=["GET"]),
    Route(SERVER + "/credentials/lifecycle/keyRotate", rotate_keys, methods=["POST"]),
    Route(SERVER + "/scopes", list_scopes, methods=["GET"]),
    Route(SERVER + "/scopes", create_scope, methods=["POST"]),
    Route(SERVER + "/scopes/{scopeId}", get_scope, methods=["GET"]),
    Route(SERVER + "/scopes/{scopeId}", replace_scope, methods=["PUT"]),
    Route(SERVER + "/scopes/{scopeId}", delete_scope, methods=["DELETE"]),
    Route(SERVER + "/claims", list_claims, methods=["GET"]),
    Route(SERVER + "/claims", create_claim, methods=["POST"]),
    Route(SERVER + "/claims/{claimId}", get_claim, methods=["GET"]),
    Route(SERVER + "/claims/{claimId}", replace_claim, methods=["PUT"]),
    Route(SERVER + "/claims/{claimId}", delete_claim, methods=["DELETE"]),
    Route(SERVER + "/policies", list_policies, methods=["GET"]),
    Route(SERVER + "/policies", create_policy, methods=["POST"]),
    Route(POLICY, get_policy, methods=["GET"]),
    Route(POLICY, replace_policy, methods=["PUT"]),
    Route(POLICY, delete_policy, methods=["DELETE"]),
    Route(POLICY + "/lifecycle/activate", _policy_lifecycle("ACTIVE"), methods=["POST"]),
    Route(POLICY + "/lifecycle/deactivate", _policy_lifecycle("INACTIVE"), methods=["POST"]),
    Route(POLICY + "/rules", list_rules, methods=["GET"]),
    Route(POLICY + "/rules", create_rule, methods=["POST"]),
    Route(RULE, get_rule, methods=["GET"]),
    Route(RULE, replace_rule, methods=["PUT"]),
    Route(RULE, delete_rule, methods=["DELETE"]),
    Route(RULE + "/lifecycle/activate", _rule_lifecycle("ACTIVE"), methods=["POST"]),
    Route(RULE + "/lifecycle/deactivate", _rule_lifecycle("INACTIVE"), methods=["POST"]),
]
