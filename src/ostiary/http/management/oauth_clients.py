"""``/oauth2/v1/clients``: Okta's Client Application API (Dynamic Client Registration
management, RFC 7591/7592), authenticated as the management API (SSWS, or a service app's
``okta.clients.read``/``okta.clients.manage``). A client is an app as OAuth 2.0 client
metadata (:mod:`ostiary.domain.clients.registration`); ``GET …/{clientId}`` is also the target
of ``_links.client`` on grants, tokens and API service integrations. Metadata refusals answer in
OAuth's shape (``invalid_client_metadata``/``invalid_redirect_uri``, 400); authentication and
lookup errors in Okta's, as the rest of the management API."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.clients import apps as apps_domain
from ostiary.domain.clients import registration
from ostiary.domain.clients.app_json import oauth_client_json
from ostiary.domain.clients.records import get_app
from ostiary.domain.oauth_errors import OAuthError
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime
from ostiary.jose.key_encryption import KeyEncryptor

READ = "okta.clients.read"
MANAGE = "okta.clients.manage"


def _encryptor(request: Request) -> KeyEncryptor | None:
    return runtime(request).rings.encryptor


def _client_id(request: Request) -> str:
    return path_param(request, "clientId")


def client_json(view: apps_domain.AppView, base: str) -> dict[str, Any]:
    """The client metadata; with the secret (and ``client_secret_expires_at: 0``) only when
    one was just made."""
    body = oauth_client_json(view.app, base)
    if view.new_secret is not None:
        body["client_secret"] = view.new_secret
        body["client_secret_expires_at"] = 0
    return body


async def _metadata(request: Request) -> dict[str, Any]:
    try:
        return await json_object(request)
    except OktaHTTPError as exc:  # a body that is not a JSON object: said in OAuth's shape here
        raise OAuthError(registration.INVALID_METADATA, exc.summary, 400) from None


async def list_clients(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        page = await apps_domain.list_apps(
            tx, q=request.query_params.get("q"), filter_text=None, after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, lambda view, base: client_json(view, base), page.next_cursor)


async def create_client(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        metadata = await _metadata(request)
        view = await registration.register_client(tx, metadata, encryptor=_encryptor(request))
        return json_response(client_json(view, base_url(request)), 201)


async def get_client(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        app = await get_app(tx, _client_id(request))
        return json_response(oauth_client_json(app, base_url(request)))


async def replace_client(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        metadata = await _metadata(request)
        view = await registration.replace_client(
            tx, _client_id(request), metadata, encryptor=_encryptor(request)
        )
        return json_response(client_json(view, base_url(request)))


async def delete_client(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await registration.delete_client(tx, _client_id(request))
    return no_content()


async def new_secret(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        view = await registration.new_client_secret(tx, _client_id(request), encryptor=_encryptor(request))
        return json_response(client_json(view, base_url(request)))


_CLIENT = "/oauth2/v1/clients/{clientId}"
routes = [
    Route("/oauth2/v1/clients", list_clients, methods=["GET"]),
    Route("/oauth2/v1/clients", create_client, methods=["POST"]),
    Route(_CLIENT, get_client, methods=["GET"]),
    Route(_CLIENT, replace_client, methods=["PUT"]),
    Route(_CLIENT, delete_client, methods=["DELETE"]),
    Route(_CLIENT + "/lifecycle/newSecret", new_secret, methods=["POST"]),
]
