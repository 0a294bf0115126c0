"""/api/v1/api-tokens: list, get, update, revoke (tokens are created with ``ostiary token create``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import api_tokens
from ostiary.domain.directory.directory_json import api_token_json
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content

READ, MANAGE = "okta.apiTokens.read", "okta.apiTokens.manage"


async def list_tokens(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        page = await api_tokens.list_tokens(
            tx, after=parse_after(request), limit=limit, q=request.query_params.get("q")
        )
    return list_response(request, page.items, api_token_json, page.next_cursor)


async def get_token(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        token = await api_tokens.get_token(tx, path_param(request, "apiTokenId"))
        return json_response(api_token_json(token, base_url(request)))


async def update_token(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        token = await api_tokens.update_token(tx, path_param(request, "apiTokenId"), body)
        return json_response(api_token_json(token, base_url(request)))


async def revoke_token(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await api_tokens.revoke_token(tx, path_param(request, "apiTokenId"))
    return no_content()


async def revoke_current(request: Request) -> Response:
    """DELETE /api-tokens/current revokes the SSWS token the request was made with."""
    async with management_tx(request, "okta.apiTokens.read") as tx:
        if tx.actor.type not in ("ApiToken", "User"):
            return no_content()
        header = request.headers.get("authorization", "")
        plaintext = header[4:].strip() if header[:4].lower() == "ssws" else ""
        token = await api_tokens.authenticate(tx.session, tx.org_id, plaintext)
        if token is not None:
            await api_tokens.revoke_token(tx, token.id)
    return no_content()


routes = [
    Route("/api/v1/api-tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/api-tokens/current", revoke_current, methods=["DELETE"]),
    Route("/api/v1/api-tokens/{apiTokenId}", get_token, methods=["GET"]),
    Route("/api/v1/api-tokens/{apiTokenId}", update_token, methods=["PUT"]),
    Route("/api/v1/api-tokens/{apiTokenId}", revoke_token, methods=["DELETE"]),
]
