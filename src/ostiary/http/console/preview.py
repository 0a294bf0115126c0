"""``/admin/authorization-servers/{id}/preview``: the token preview page (a GET form: it
changes nothing), over the same domain function as the API's ``tokenPreview``."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import server_admin as servers_domain
from ostiary.domain.clients import apps as apps_domain
from ostiary.domain.errors import DomainError
from ostiary.domain.tokens.preview import GRANT_TYPES, PreviewRequest, preview_tokens
from ostiary.http.console.pages import PREFIX, Admin, admin_page, admin_tx, not_found, render
from ostiary.http.runtime import runtime

BASE = f"{PREFIX}/authorization-servers"


async def preview_page(request: Request, admin: Admin) -> Response:
    server_id = str(request.path_params["serverId"])
    params = request.query_params
    rt = runtime(request)
    async with admin_tx(request, admin) as tx:
        try:
            server = await servers_domain.manageable_server(tx, server_id)
        except DomainError as exc:
            return not_found(request, admin, exc)
        views = (await apps_domain.list_apps(tx, limit=1000)).items
        org_id, org_url = tx.org_id, rt.org_url(tx.org)
    result = None
    if params.get("clientId"):
        wanted = PreviewRequest(
            client_id=params.get("clientId", ""),
            grant_type=params.get("grantType", ""),
            scopes=tuple((params.get("scopes") or "").split()),
            user=(params.get("user") or "").strip() or None,
        )
        ring = await rt.rings.ring(org_id, server_id)
        async with admin_tx(request, admin) as tx:
            server = await servers_domain.manageable_server(tx, server_id)
            result = await preview_tokens(
                tx, server, ring, wanted, org_url=org_url, storage=rt.token_storage(tx.session)
            )
    return render(
        request,
        "preview.html",
        admin=admin,
        server=server,
        apps=[v.app for v in views],
        grant_types=GRANT_TYPES,
        form=params,
        result=result,
        pretty=lambda value: json.dumps(value, indent=2, sort_keys=False),
    )


routes = [Route(BASE + "/{serverId}/preview", admin_page(preview_page), methods=["GET"])]
