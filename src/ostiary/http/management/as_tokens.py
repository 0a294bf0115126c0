"""/api/v1/authorizationServers/{authServerId}/clients: the clients holding refresh tokens of a
server, and their tokens (OAuth2Client and OAuth2RefreshToken shapes; ``expand=scope`` embeds
the scope objects). A token's ``id`` is its family id: stable while the token rotates.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.domain.tokens import refresh_token_admin as admin_domain
from ostiary.domain.tokens.refresh_token_json import client_json, token_json
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, path_param
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
CLIENTS = "/api/v1/authorizationServers/{authServerId}/clients"
TOKENS = CLIENTS + "/{clientId}/tokens"
TOKEN = TOKENS + "/{tokenId}"


def _ids(request: Request) -> tuple[str, str]:
    return path_param(request, "authServerId"), path_param(request, "clientId")


def _expand_scopes(request: Request) -> bool:
    return "scope" in request.query_params.get("expand", "").split(",")


async def list_clients(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        server, apps = await admin_domain.clients_with_tokens(tx, path_param(request, "authServerId"))
        base = base_url(request)
        return json_response([client_json(app, server.id, base) for app in apps])


async def list_tokens(request: Request) -> Response:
    limit = parse_limit(request, default=200, maximum=200)
    server_id, client_id = _ids(request)
    async with management_tx(request, READ) as tx:
        found = await admin_domain.list_client_tokens(
            tx,
            server_id,
            client_id,
            after=parse_after(request),
            limit=limit,
            expand_scopes=_expand_scopes(request),
        )
        issuer = servers_domain.issuer(found.server, runtime(request).org_url(tx.org))
    base = base_url(request)
    return json_response(
        [token_json(view, found, base, issuer) for view in found.page.items],
        headers={"Link": link_header(request, found.page.next_cursor)},
    )


async def get_token(request: Request) -> Response:
    server_id, client_id = _ids(request)
    async with management_tx(request, READ) as tx:
        found = await admin_domain.get_client_token(
            tx, server_id, client_id, path_param(request, "tokenId"), expand_scopes=_expand_scopes(request)
        )
        issuer = servers_domain.issuer(found.server, runtime(request).org_url(tx.org))
    return json_response(token_json(found.page.items[0], found, base_url(request), issuer))


async def revoke_tokens(request: Request) -> Response:
    server_id, client_id = _ids(request)
    async with management_tx(request, MANAGE) as tx:
        await admin_domain.revoke_all_client_tokens(tx, server_id, client_id)
    return no_content()


async def revoke_token(request: Request) -> Response:
    server_id, client_id = _ids(request)
    async with management_tx(request, MANAGE) as tx:
        await admin_domain.revoke_client_token(tx, server_id, client_id, path_param(request, "tokenId"))
    return no_content()


routes = [
    Route(CLIENTS, list_clients, methods=["GET"]),
    Route(TOKENS, list_tokens, methods=["GET"]),
    Route(TOKENS, revoke_tokens, methods=["DELETE"]),
    Route(TOKEN, get_token, methods=["GET"]),
    Route(TOKEN, revoke_token, methods=["DELETE"]),
]
