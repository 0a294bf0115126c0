"""``/admin/apps``: create web, SPA and service apps (the client secret is shown once, on the
page that answers the create), group assignments, granted ``okta.*`` scopes."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.clients import apps as apps_domain
from ostiary.domain.clients import assignments
from ostiary.domain.clients import scope_grants as grants_domain
from ostiary.domain.clients.okta_scopes import OKTA_SCOPES
from ostiary.domain.context import Tx
from ostiary.domain.directory import groups as groups_domain
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
from ostiary.http.runtime import runtime
from ostiary.jose.key_encryption import KeyEncryptor

BASE = f"{PREFIX}/apps"
KINDS = {
    "web": "Web application",
    "browser": "Single-page application (SPA)",
    "service": "API service (machine to machine)",
}
USER_GRANTS = ("authorization_code", "implicit", "refresh_token")


def _encryptor(request: Request) -> KeyEncryptor | None:
    encryptor = getattr(runtime(request).rings, "encryptor", None)
    return encryptor if isinstance(encryptor, KeyEncryptor) else None


def _lines(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def app_body(form: FormData) -> dict[str, Any]:
    """The ``POST /api/v1/apps`` body for what the create form says."""
    kind = field(form, "kind")
    if kind == "service":
        grant_types, auth, response_types = ["client_credentials"], "client_secret_basic", ["token"]
    else:
        grant_types = [g for g in form.getlist("grantTypes") if isinstance(g, str) and g in USER_GRANTS]
        grant_types = grant_types or ["authorization_code"]
        auth = "none" if kind == "browser" else "client_secret_basic"
        response_types = ["code"] if "authorization_code" in grant_types else []
        if "implicit" in grant_types:
            response_types += ["token", "id_token"]
    oauth: dict[str, Any] = {
        "application_type": kind,
        "grant_types": grant_types,
        "response_types": response_types,
    }
    if kind != "service":
        oauth["redirect_uris"] = _lines(field(form, "redirectUris"))
        logout = _lines(field(form, "postLogoutRedirectUris"))
        if logout:
            oauth["post_logout_redirect_uris"] = logout
    return {
        "name": "oidc_client",
        "label": field(form, "label"),
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": auth}},
        "settings": {"oauthClient": oauth},
    }


async def _list(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    async with admin_tx(request, admin) as tx:
        views = (await apps_domain.list_apps(tx, q=request.query_params.get("q") or None, limit=200)).items
    return render(
        request,
        "apps.html",
        admin=admin,
        views=views,
        kinds=KINDS,
        user_grants=USER_GRANTS,
        error=error,
        status=status,
    )


async def list_apps(request: Request, admin: Admin) -> Response:
    return await _list(request, admin)


async def create_app(request: Request, admin: Admin) -> Response:
    form = await request.form()
    if field(form, "kind") not in KINDS:
        return await _list(request, admin, error="Choose the kind of application.", status=400)
    return await form_action(
        request,
        admin,
        lambda tx: apps_domain.create_app(tx, app_body(form), encryptor=_encryptor(request)),
        detail=_list,
        show=lambda view: _detail(request, admin, app_id=view.app.id, new_secret=view.new_secret),
    )


async def _detail(
    request: Request,
    admin: Admin,
    *,
    app_id: str | None = None,
    new_secret: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    app_id = app_id or str(request.path_params["appId"])
    async with admin_tx(request, admin) as tx:
        try:
            view = await apps_domain.get_app_view(tx, app_id)
        except DomainError as exc:
            return not_found(request, admin, exc)
        assigned = (
            await assignments.list_group_assignments(tx, app_id, q=None, after=None, limit=1000)
        ).items
        groups = (await groups_domain.list_groups(tx, q=None, condition=None, after=None, limit=1000)).items
        grants = (await grants_domain.list_grants(tx, app_id, after=None, limit=1000)).items
    names = {g.id: g.name for g in groups}
    return render(
        request,
        "app.html",
        admin=admin,
        app=view.app,
        new_secret=new_secret,
        assigned=[(a, names.get(a.group_id, a.group_id)) for a in assigned],
        groups=groups,
        grants=grants,
        okta_scopes=sorted(OKTA_SCOPES),
        error=error,
        status=status,
    )


async def app_detail(request: Request, admin: Admin) -> Response:
    return await _detail(request, admin)


async def assign_group(request: Request, admin: Admin) -> Response:
    form = await request.form()
    app_id = str(request.path_params["appId"])
    return await form_action(
        request,
        admin,
        lambda tx: assignments.assign_group(tx, app_id, field(form, "groupId"), {}),
        detail=_detail,
        then=f"{BASE}/{app_id}#assignments",
    )


async def unassign_group(request: Request, admin: Admin) -> Response:
    form = await request.form()
    app_id = str(request.path_params["appId"])
    return await form_action(
        request,
        admin,
        lambda tx: assignments.unassign_group(tx, app_id, field(form, "groupId")),
        detail=_detail,
        then=f"{BASE}/{app_id}#assignments",
    )


async def grant_scope(request: Request, admin: Admin) -> Response:
    form = await request.form()
    app_id = str(request.path_params["appId"])

    async def grant(tx: Tx) -> None:
        org_url = runtime(request).org_url(tx.org)
        body = {"scopeId": field(form, "scopeId"), "issuer": org_url}
        await grants_domain.grant_scope(tx, app_id, body, org_url=org_url)

    return await form_action(request, admin, grant, detail=_detail, then=f"{BASE}/{app_id}#grants")


async def revoke_grant(request: Request, admin: Admin) -> Response:
    form = await request.form()
    app_id = str(request.path_params["appId"])
    return await form_action(
        request,
        admin,
        lambda tx: grants_domain.revoke_grant(tx, app_id, field(form, "grantId")),
        detail=_detail,
        then=f"{BASE}/{app_id}#grants",
    )


async def lifecycle(request: Request, admin: Admin) -> Response:
    form = await request.form()
    app_id = str(request.path_params["appId"])
    action = field(form, "action")

    async def change(tx: Tx) -> None:
        if action == "activate":
            await apps_domain.activate_app(tx, app_id)
        elif action == "deactivate":
            await apps_domain.deactivate_app(tx, app_id)

    return await form_action(request, admin, change, detail=_detail, then=f"{BASE}/{app_id}")


routes = [
    Route(BASE, admin_page(list_apps), methods=["GET"]),
    Route(BASE, admin_page(create_app), methods=["POST"]),
    Route(BASE + "/{appId}", admin_page(app_detail), methods=["GET"]),
    Route(BASE + "/{appId}/groups", admin_page(assign_group), methods=["POST"]),
    Route(BASE + "/{appId}/groups/remove", admin_page(unassign_group), methods=["POST"]),
    Route(BASE + "/{appId}/grants", admin_page(grant_scope), methods=["POST"]),
    Route(BASE + "/{appId}/grants/revoke", admin_page(revoke_grant), methods=["POST"]),
    Route(BASE + "/{appId}/lifecycle", admin_page(lifecycle), methods=["POST"]),
]
