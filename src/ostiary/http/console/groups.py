"""``/admin/groups``: list and create groups, a group's members (add, remove)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import DomainError
from ostiary.http.console.pages import (
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    error_text,
    field,
    redirect,
    render,
)


async def _list(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    q = request.query_params.get("q") or None
    async with admin_tx(request, admin) as tx:
        page = await groups_domain.list_groups(tx, q=q, condition=None, after=None, limit=200)
        rows = [(g, await groups_domain.count_members(tx, g.id)) for g in page.items]
    return render(request, "groups.html", admin=admin, rows=rows, q=q or "", error=error, status=status)


async def list_groups(request: Request, admin: Admin) -> Response:
    return await _list(request, admin)


async def create_group(request: Request, admin: Admin) -> Response:
    form = await request.form()
    body = {"profile": {"name": field(form, "name"), "description": field(form, "description")}}
    try:
        async with admin_tx(request, admin) as tx:
            group = await groups_domain.create_group(tx, body)
            group_id = group.id
    except DomainError as exc:
        return await _list(request, admin, error=error_text(exc), status=400)
    return redirect(f"{PREFIX}/groups/{group_id}")


async def _detail(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    group_id = request.path_params["groupId"]
    async with admin_tx(request, admin) as tx:
        try:
            group = await groups_domain.get_group(tx, group_id)
        except DomainError as exc:
            return render(request, "not_found.html", admin=admin, status=404, message=error_text(exc))
        members = await groups_domain.list_members(tx, group.id, after=None, limit=1000)
    return render(
        request, "group.html", admin=admin, group=group, members=members.items, error=error, status=status
    )


async def group_detail(request: Request, admin: Admin) -> Response:
    return await _detail(request, admin)


async def add_member(request: Request, admin: Admin) -> Response:
    form = await request.form()
    group_id = request.path_params["groupId"]
    try:
        async with admin_tx(request, admin) as tx:
            user = await users_domain.get_user(tx, field(form, "user"))
            await groups_domain.add_member(tx, group_id, user.id)
    except DomainError as exc:
        return await _detail(request, admin, error=error_text(exc), status=400)
    return redirect(f"{PREFIX}/groups/{group_id}")


async def remove_member(request: Request, admin: Admin) -> Response:
    form = await request.form()
    group_id = request.path_params["groupId"]
    try:
        async with admin_tx(request, admin) as tx:
            await groups_domain.remove_member(tx, group_id, field(form, "userId"))
    except DomainError as exc:
        return await _detail(request, admin, error=error_text(exc), status=400)
    return redirect(f"{PREFIX}/groups/{group_id}")


routes = [
    Route(f"{PREFIX}/groups", admin_page(list_groups), methods=["GET"]),
    Route(f"{PREFIX}/groups", admin_page(create_group), methods=["POST"]),
    Route(PREFIX + "/groups/{groupId}", admin_page(group_detail), methods=["GET"]),
    Route(PREFIX + "/groups/{groupId}/members", admin_page(add_member), methods=["POST"]),
    Route(PREFIX + "/groups/{groupId}/members/remove", admin_page(remove_member), methods=["POST"]),
]
