"""/api/v1/authorizationServers/{authServerId}/clients: the clients holding refresh tokens of a
server, and their tokens (OAuth2Client and OAuth2RefreshToken shapes; ``expand=scope`` embeds
the scope objects). A token's ``id`` is its family id: stable while the token rotates.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.domain.tokens import refresh_token_admin as admin_domain
from ostiary.domain.tokens.refresh_token_admin import ClientTokens, TokenView
from ostiary.http.auth import management_tx
from ostiary.http.management.authz_render import server_href
from ostiary.http.management.common import base_url, path_param
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime
from ostiary.store.models import App
from ostiary.store.models.policies import Scope
from ostiary.timeutil import iso

READ, MANAGE = "okta.authorizationServers.read", "okta.authorizationServers.manage"
CLIENTS = "/api/v1/authorizationServers/{authServerId}/clients"
TOKENS = CLIENTS + "/{clientId}/tokens"
TOKEN = TOKENS + "/{tokenId}"


def _titled(href: str, title: str) -> dict[str, Any]:
    return {"href": href, "title": title}


def _tokens_href(base: str, server_id: str, client_id: str) -> str:
    return f"{server_href(base, server_id)}/clients/{client_id}/tokens"


def client_json(app: App, server_id: str, base: str) -> dict[str, Any]:
    oauth = (app.settings or {}).get("oauthClient") or {}
    return {
        "client_id": app.id,
        "client_name": app.label,
        "client_uri": oauth.get("client_uri"),
        "logo_uri": oauth.get("logo_uri"),
        "_links": {
            "client": _titled(f"{base}/oauth2/v1/clients/{app.id}", app.label),
            "tokens": {
                "href": _tokens_href(base, server_id, app.id),
                "hints": {"allow": ["GET", "DELETE"]},
            },
        },
    }


def _scope_json(scope: Scope, base: str) -> dict[str, Any]:
    return {
        "id": scope.id,
        "name": scope.name,
        "displayName": scope.display_name,
        "description": scope.description,
        "_links": {
            "scope": _titled(
                f"{server_href(base, scope.server_id)}/scopes/{scope.id}", scope.display_name or scope.name
            )
        },
    }


def token_json(view: TokenView, found: ClientTokens, base: str, issuer: str) -> dict[str, Any]:
    server = found.server
    href = f"{_tokens_href(base, server.id, view.client_id)}/{view.id}"
    body: dict[str, Any] = {
        "id": view.id,
        "status": view.status,
        "created": iso(view.created),
        "lastUpdated": iso(view.last_updated),
        "expiresAt": iso(view.expires_at),
        "issuer": issuer,
        "clientId": view.client_id,
        "userId": view.user_id,
        "scopes": list(view.scopes),
    }
    if found.scopes:
        body["_embedded"] = {
            "scopes": [_scope_json(found.scopes[name], base) for name in view.scopes if name in found.scopes]
        }
    body["_links"] = {
        "app": _titled(f"{base}/api/v1/apps/{view.client_id}", view.app_label),
        "authorizationServer": _titled(server_href(base, server.id), server.name),
        "self": {"href": href},
        "revoke": {"href": href, "hints": {"allow": ["DELETE"]}},
        "client": _titled(f"{base}/oauth2/v1/clients/{view.client_id}", view.app_label),
        "user": _titled(f"{base}/api/v1/users/{view.user_id}", view.user_name),
    }
    return body


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
