"""``POST /api/v1/authorizationServers/{authServerId}/tokenPreview`` (an Ostiary extension).

Body: ``clientId``, ``grantType`` (``authorization_code``, ``implicit``, ``client_credentials``),
``userId`` (an id or login; omit for ``client_credentials``) and ``scopes`` (a list, or a
space-separated string). Answer (200): the preview of
:func:`ostiary.domain.tokens.preview.preview_tokens` — ``granted``, the ``accessToken`` and
``idToken`` claims or the OAuth ``error``/``error_description``, and the rule ``trace``.
Needs ``okta.authorizationServers.read``. Nothing is issued or written.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_admin as servers_domain
from ostiary.domain.errors import Invalid
from ostiary.domain.tokens.preview import PreviewRequest, preview_tokens
from ostiary.http.auth import management_tx
from ostiary.http.management.common import path_param
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response
from ostiary.http.runtime import runtime

READ = "okta.authorizationServers.read"


def preview_request(body: dict[str, Any]) -> PreviewRequest:
    """The request the body describes; E0000001 with the causes when it does not."""
    causes = []
    client_id, grant_type, user = body.get("clientId"), body.get("grantType"), body.get("userId")
    scopes: Any = body.get("scopes", [])
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(client_id, str) or not client_id:
        causes.append("clientId: The field cannot be left blank")
    if not isinstance(grant_type, str) or not grant_type:
        causes.append("grantType: The field cannot be left blank")
    if user is not None and not isinstance(user, str):
        causes.append("userId: must be a string")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        causes.append("scopes: must be a list of strings")
    if causes:
        raise Invalid("Api validation failed: tokenPreview", code="E0000001", causes=causes)
    return PreviewRequest(
        client_id=str(client_id), grant_type=str(grant_type), scopes=tuple(scopes), user=user or None
    )


async def token_preview(request: Request) -> Response:
    body = await json_object(request)
    wanted = preview_request(body)
    server_id = path_param(request, "authServerId")
    rt = runtime(request)
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, server_id)
        org_id, org_url = tx.org_id, rt.org_url(tx.org)
    ring = await rt.rings.ring(org_id, server_id)
    async with management_tx(request, READ) as tx:
        server = await servers_domain.manageable_server(tx, server_id)
        preview = await preview_tokens(
            tx, server, ring, wanted, org_url=org_url, storage=rt.token_storage(tx.session)
        )
    return json_response(preview.as_json())


routes = [
    Route("/api/v1/authorizationServers/{authServerId}/tokenPreview", token_preview, methods=["POST"]),
]
