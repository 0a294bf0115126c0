"""``/admin/groups``: list and create groups, a group's members (add, remove)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import DomainError
from ostiary.http.console.pages import (
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    field,
    form_action,
    not_found,
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
    return await form_action(
        request,
        admin,
        lambda tx: groups_domain.create_group(tx, body),
        detail=_list,
        then=lambda group: f"{PREFIX}/groups/{group.id}",
    )


async def _detail(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    group_id = request.path_params["groupId"]
    async with admin_tx(request, admin) as tx:
        try:
            group = await groups_domain.get_group(tx, group_id)
        except DomainError as exc:
            return not_found(request, admin, exc)
        members = await groups_domain.list_members(tx, group.id, after=None, limit=1000)
    return render(
        request, "group.html", admin=admin, group=group, members=members.items, error=error, status=status
    )


async def group_detail(request: Request, admin: Admin) -> Response:
    return await _detail(request, admin)


async def add_member(request: Request, admin: Admin) -> Response:
    form = await request.form()
    group_id = request.path_params["groupId"]

    async def add(tx: Tx) -> None:
        user = await users_domain.get_user(tx, field(form, "user"))
        await groups_domain.add_member(tx, group_id, user.id)

    return await form_action(request, admin, add, detail=_detail, then=f"{PREFIX}/groups/{group_id}")


async def remove_member(request: Request, admin: Admin) -> Response:
    form = await request.form()
    group_id = request.path_params["groupId"]
    return await form_action(
        request,
        admin,
        lambda tx: groups_domain.remove_member(tx, group_id, field(form, "userId")),
        detail=_detail,
        then=f"{PREFIX}/groups/{group_id}",
    )


routes = [
    Route(f"{PREFIX}/groups", admin_page(list_groups), methods=["GET"]),
    Route(f"{PREFIX}/groups", admin_page(create_group), methods=["POST"]),
    Route(PREFIX + "/groups/{groupId}", admin_page(group_detail), methods=["GET"]),
    Route(PREFIX + "/groups/{groupId}/members", admin_page(add_member), methods=["POST"]),
    Route(PREFIX + "/groups/{groupId}/members/remove", admin_page(remove_member), methods=["POST"]),
]
