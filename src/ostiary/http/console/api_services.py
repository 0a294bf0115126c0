"""``/admin/api-services``: API service integrations — install one from the catalog (its client
secret is shown once), list the installed ones, uninstall. Same domain services as
``/integrations/api/v1/api-services``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.integrations import catalog, installs
from ostiary.http.console.pages import (
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    field,
    form_action,
    render,
)
from ostiary.http.runtime import runtime

BASE = f"{PREFIX}/api-services"


async def _page(
    request: Request,
    admin: Admin,
    *,
    created: installs.Install | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with admin_tx(request, admin) as tx:
        installed = (await installs.list_installs(tx, after=None, limit=200)).items
        entries = await catalog.catalog(tx)
    return render(
        request,
        "api_services.html",
        admin=admin,
        installed=installed,
        entries=entries,
        created=created,
        error=error,
        status=status,
    )


async def list_services(request: Request, admin: Admin) -> Response:
    return await _page(request, admin)


async def install(request: Request, admin: Admin) -> Response:
    form = await request.form()
    entry_type = field(form, "type")
    body = {"type": entry_type, "grantedScopes": [s for s in form.getlist("scopes") if isinstance(s, str)]}
    return await form_action(
        request,
        admin,
        lambda tx: installs.install(tx, body, org_url=runtime(request).org_url(tx.org)),
        detail=_page,
        show=lambda made: _page(request, admin, created=made),
    )


async def uninstall(request: Request, admin: Admin) -> Response:
    form = await request.form()
    return await form_action(
        request, admin, lambda tx: installs.uninstall(tx, field(form, "installId")), detail=_page, then=BASE
    )


routes = [
    Route(BASE, admin_page(list_services), methods=["GET"]),
    Route(BASE, admin_page(install), methods=["POST"]),
    Route(BASE + "/uninstall", admin_page(uninstall), methods=["POST"]),
]
