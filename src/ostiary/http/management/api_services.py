"""/integrations/api/v1/api-services: installs of API service integrations in this org and
their client secrets (``okta.oauthIntegrations.*`` scopes).

An OAuth principal (a Bearer token) may install an integration only with scopes its own token
holds, and change an install's secrets only if it holds every scope granted to it (the rule of
``app_authority``: otherwise ``okta.oauthIntegrations.manage`` would be a super-admin scope).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.integrations import installs
from ostiary.http.auth import management_tx
from ostiary.http.management.app_authority import require_app_authority
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.management.integrations_render import API_SERVICES, install_json, secret_json
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.oauthIntegrations.read", "okta.oauthIntegrations.manage"
NO_APP = ""  # an app id that names no app: the authority check then needs only the granted scopes


def _install_id(request: Request) -> str:
    return path_param(request, "apiServiceId")


def _secret_id(request: Request) -> str:
    return path_param(request, "secretId")


async def list_installs(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        page = await installs.list_installs(tx, after=parse_after(request), limit=limit)
    return list_response(request, page.items, install_json, page.next_cursor)


async def create_install(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        scopes = body.get("grantedScopes")
        if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
            await require_app_authority(request, tx, NO_APP, granting=scopes)
        created = await installs.install(tx, body, org_url=runtime(request).org_url(tx.org))
    return json_response(install_json(created, base_url(request)), 201)


async def get_install(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        found = await installs.get_install(tx, _install_id(request))
    return json_response(install_json(found, base_url(request)))


async def delete_install(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await installs.uninstall(tx, _install_id(request))
    return no_content()


async def list_secrets(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        found = await installs.list_secrets(tx, _install_id(request))
    base = base_url(request)
    return json_response([secret_json(s, base) for s in found])


async def create_secret(request: Request) -> Response:
    await json_object(request, required=False)  # no body is expected; a malformed one is refused
    async with management_tx(request, MANAGE) as tx:
        await installs.get_install(tx, _install_id(request))
        await require_app_authority(request, tx, _install_id(request))
        created = await installs.create_secret(tx, _install_id(request))
    return json_response(secret_json(created, base_url(request)), 201)


async def activate_secret(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await installs.get_install(tx, _install_id(request))
        await require_app_authority(request, tx, _install_id(request))
        secret = await installs.activate_secret(tx, _install_id(request), _secret_id(request))
    return json_response(secret_json(secret, base_url(request)))


async def deactivate_secret(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await installs.get_install(tx, _install_id(request))
        await require_app_authority(request, tx, _install_id(request))
        secret = await installs.deactivate_secret(tx, _install_id(request), _secret_id(request))
    return json_response(secret_json(secret, base_url(request)))


async def delete_secret(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await installs.get_install(tx, _install_id(request))
        await require_app_authority(request, tx, _install_id(request))
        await installs.delete_secret(tx, _install_id(request), _secret_id(request))
    return no_content()


_INSTALL = API_SERVICES + "/{apiServiceId}"
_SECRETS = _INSTALL + "/credentials/secrets"
_SECRET = _SECRETS + "/{secretId}"

routes = [
    Route(API_SERVICES, list_installs, methods=["GET"]),
    Route(API_SERVICES, create_install, methods=["POST"]),
    Route(_INSTALL, get_install, methods=["GET"]),
    Route(_INSTALL, delete_install, methods=["DELETE"]),
    Route(_SECRETS, list_secrets, methods=["GET"]),
    Route(_SECRETS, create_secret, methods=["POST"]),
    Route(_SECRET, delete_secret, methods=["DELETE"]),
    Route(_SECRET + "/lifecycle/activate", activate_secret, methods=["POST"]),
    Route(_SECRET + "/lifecycle/deactivate", deactivate_secret, methods=["POST"]),
]
