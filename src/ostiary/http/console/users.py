"""``/admin/users``: search, create with a password, lifecycle actions, groups."""

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
    field,
    form_action,
    not_found,
    render,
)

BASE = f"{PREFIX}/users"
ACTIONS = {
    "activate": users_domain.activate,
    "deactivate": users_domain.deactivate,
    "suspend": users_domain.suspend,
    "unsuspend": users_domain.unsuspend,
    "unlock": users_domain.unlock,
    "expire_password": users_domain.expire_password,
}


async def _list(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    q = request.query_params.get("q") or None
    async with admin_tx(request, admin) as tx:
        users = (await users_domain.list_users(tx, q=q, limit=200)).items
    return render(request, "users.html", admin=admin, users=users, q=q or "", error=error, status=status)


async def list_users(request: Request, admin: Admin) -> Response:
    return await _list(request, admin)


async def create_user(request: Request, admin: Admin) -> Response:
    form = await request.form()
    login = field(form, "login")
    body = {
        "profile": {
            "firstName": field(form, "firstName"),
            "lastName": field(form, "lastName"),
            "email": field(form, "email") or login,
            "login": login,
        },
        "credentials": {"password": {"value": form.get("password") or ""}},
    }
    return await form_action(
        request,
        admin,
        lambda tx: users_domain.create_user(tx, body, activate=form.get("activate") == "on"),
        detail=_list,
        then=lambda user: f"{BASE}/{user.id}",
    )


async def _detail(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    user_id = str(request.path_params["userId"])
    async with admin_tx(request, admin) as tx:
        try:
            user = await users_domain.get_user(tx, user_id)
        except DomainError as exc:
            return not_found(request, admin, exc)
        member_of = await groups_domain.groups_of_user(tx, user.id)
        groups = (await groups_domain.list_groups(tx, q=None, condition=None, after=None, limit=1000)).items
    return render(
        request,
        "user.html",
        admin=admin,
        user=user,
        member_of=member_of,
        groups=[g for g in groups if g.id not in {m.id for m in member_of}],
        actions=list(ACTIONS),
        error=error,
        status=status,
    )


async def user_detail(request: Request, admin: Admin) -> Response:
    return await _detail(request, admin)


async def lifecycle(request: Request, admin: Admin) -> Response:
    form = await request.form()
    user_id = str(request.path_params["userId"])
    action = ACTIONS.get(field(form, "action"))
    if action is None:
        return await _detail(request, admin, error="Unknown action.", status=400)
    return await form_action(
        request, admin, lambda tx: action(tx, user_id), detail=_detail, then=f"{BASE}/{user_id}"
    )


async def add_to_group(request: Request, admin: Admin) -> Response:
    form = await request.form()
    user_id = str(request.path_params["userId"])
    return await form_action(
        request,
        admin,
        lambda tx: groups_domain.add_member(tx, field(form, "groupId"), user_id),
        detail=_detail,
        then=f"{BASE}/{user_id}#groups",
    )


routes = [
    Route(BASE, admin_page(list_users), methods=["GET"]),
    Route(BASE, admin_page(create_user), methods=["POST"]),
    Route(BASE + "/{userId}", admin_page(user_detail), methods=["GET"]),
    Route(BASE + "/{userId}/lifecycle", admin_page(lifecycle), methods=["POST"]),
    Route(BASE + "/{userId}/groups", admin_page(add_to_group), methods=["POST"]),
]
