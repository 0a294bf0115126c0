"""``GET /oauth2/v1/clients/{clientId}``: an app as OAuth 2.0 client metadata (Okta's Client
Application API, ``okta.clients.read``), the target of ``_links.client`` on grants, tokens and
API service integrations. Registration and changes go through ``/api/v1/apps``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.clients.app_json import oauth_client_json
from ostiary.domain.clients.records import get_app
from ostiary.http.auth import management_tx
from ostiary.http.management.common import base_url, path_param
from ostiary.http.responses import json_response

READ = "okta.clients.read"


async def get_client(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        app = await get_app(tx, path_param(request, "clientId"))
        return json_response(oauth_client_json(app, base_url(request)))


routes = [Route("/oauth2/v1/clients/{clientId}", get_client, methods=["GET"])]
