"""``/admin/trusted-origins``: list, add (CORS and/or redirect), delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import trusted_origins as origins_domain
from ostiary.http.console.pages import (
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    field,
    form_action,
    render,
)

BASE = f"{PREFIX}/trusted-origins"


async def _list(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    async with admin_tx(request, admin) as tx:
        origins = (await origins_domain.list_origins(tx, limit=200)).items
    return render(request, "origins.html", admin=admin, origins=origins, error=error, status=status)


async def list_origins(request: Request, admin: Admin) -> Response:
    return await _list(request, admin)


async def create_origin(request: Request, admin: Admin) -> Response:
    form = await request.form()
    scopes = [{"type": kind} for kind in ("CORS", "REDIRECT") if form.get(kind.lower()) == "on"]
    body = {"name": field(form, "name"), "origin": field(form, "origin"), "scopes": scopes}
    return await form_action(
        request, admin, lambda tx: origins_domain.create_origin(tx, body), detail=_list, then=BASE
    )


async def delete_origin(request: Request, admin: Admin) -> Response:
    form = await request.form()
    return await form_action(
        request,
        admin,
        lambda tx: origins_domain.delete_origin(tx, field(form, "originId")),
        detail=_list,
        then=BASE,
    )


routes = [
    Route(BASE, admin_page(list_origins), methods=["GET"]),
    Route(BASE, admin_page(create_origin), methods=["POST"]),
    Route(BASE + "/delete", admin_page(delete_origin), methods=["POST"]),
]
