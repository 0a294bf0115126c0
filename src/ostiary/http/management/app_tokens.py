"""/api/v1/apps/{appId}/tokens: the app's refresh tokens on every authorization server
(OAuth2RefreshToken shape, ``expand=scope``), read with ``okta.apps.read`` and revoked with
``okta.apps.manage``. A token's ``id`` is its family id, as on
``/api/v1/authorizationServers/{id}/clients/{clientId}/tokens``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_lookup
from ostiary.domain.tokens import refresh_token_admin as admin_domain
from ostiary.domain.tokens.refresh_token_admin import ClientTokens
from ostiary.domain.tokens.refresh_token_json import token_json
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, expansions, path_param
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.apps.read", "okta.apps.manage"
TOKENS = "/api/v1/apps/{appId}/tokens"
TOKEN = TOKENS + "/{tokenId}"


def _expand_scopes(request: Request) -> bool:
    return "scope" in expansions(request.query_params.get("expand"))


def _json(found: ClientTokens, base: str, org_url: str) -> dict[str, Any]:
    view = found.page.items[0]
    body = token_json(view, found, base, server_lookup.issuer(found.server, org_url))
    href = f"{base}/api/v1/apps/{view.client_id}/tokens/{view.id}"
    body["_links"]["self"] = {"href": href}
    body["_links"]["revoke"] = {"href": href, "hints": {"allow": ["DELETE"]}}
    return body


async def list_tokens(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        found = await admin_domain.list_app_tokens(
            tx,
            path_param(request, "appId"),
            after=parse_after(request),
            limit=limit,
            expand_scopes=_expand_scopes(request),
        )
        org_url = runtime(request).org_url(tx.org)
    base = base_url(request)
    return json_response(
        [_json(one, base, org_url) for one in found.page.items],
        headers={"Link": link_header(request, found.page.next_cursor)},
    )


async def get_token(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        found = await admin_domain.get_app_token(
            tx,
            path_param(request, "appId"),
            path_param(request, "tokenId"),
            expand_scopes=_expand_scopes(request),
        )
        org_url = runtime(request).org_url(tx.org)
    return json_response(_json(found, base_url(request), org_url))


async def revoke_tokens(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await admin_domain.revoke_all_app_tokens(tx, path_param(request, "appId"))
    return no_content()


async def revoke_token(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await admin_domain.revoke_app_token(tx, path_param(request, "appId"), path_param(request, "tokenId"))
    return no_content()


routes = [
    Route(TOKENS, list_tokens, methods=["GET"]),
    Route(TOKENS, revoke_tokens, methods=["DELETE"]),
    Route(TOKEN, get_token, methods=["GET"]),
    Route(TOKEN, revoke_token, methods=["DELETE"]),
]
