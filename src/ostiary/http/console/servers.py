"""``/admin/authorization-servers``: servers (settings), scopes, claims (expressions validated on
save by the same domain code as the API), access policies and rules (priority up/down), keys
(rotate). Every write goes through the domain services the management API calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import claims as claims_domain
from ostiary.domain.authz import key_rotation as keys_domain
from ostiary.domain.authz import policies as policies_domain
from ostiary.domain.authz import scopes as scopes_domain
from ostiary.domain.authz import server_admin as servers_domain
from ostiary.domain.authz import server_lookup as authz_servers
from ostiary.domain.authz.policy_engine import ALL_CLIENTS, EVERYONE
from ostiary.domain.authz.server_json import policy_json, rule_json
from ostiary.domain.clients import apps as apps_domain
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
    redirect,
    render,
)
from ostiary.http.runtime import runtime

BASE = f"{PREFIX}/authorization-servers"
GRANT_TYPES = ("authorization_code", "implicit", "client_credentials", "refresh_token", "password")


def _server_id(request: Request) -> str:
    return str(request.path_params["serverId"])


def _lines(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def _forget(request: Request, org_id: str, server_id: str) -> None:
    runtime(request).servers.invalidate(org_id, server_id)


# --- list and create ---------------------------------------------------------------------------


async def _list(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    async with admin_tx(request, admin) as tx:
        page = await servers_domain.list_servers(tx, q=None, after=None, limit=200)
        org_url = runtime(request).org_url(tx.org)
        rows = [(s, authz_servers.issuer(s, org_url)) for s in page.items]
    return render(request, "servers.html", admin=admin, rows=rows, error=error, status=status)


async def list_servers(request: Request, admin: Admin) -> Response:
    return await _list(request, admin)


async def create_server(request: Request, admin: Admin) -> Response:
    form = await request.form()
    body = {
        "name": field(form, "name"),
        "description": field(form, "description"),
        "audiences": _lines(field(form, "audience")),
    }

    async def create(tx: Tx) -> tuple[str, str]:
        server = await servers_domain.create_server(tx, body)
        return tx.org_id, server.id

    async def created(ids: tuple[str, str]) -> Response:
        org_id, server_id = ids
        _forget(request, org_id, server_id)
        await runtime(request).rings.ring(org_id, server_id)
        return redirect(f"{BASE}/{server_id}")

    return await form_action(request, admin, create, detail=_list, show=created)


# --- one server --------------------------------------------------------------------------------


async def _detail(request: Request, admin: Admin, *, error: str | None = None, status: int = 200) -> Response:
    server_id = _server_id(request)
    async with admin_tx(request, admin) as tx:
        try:
            server = await servers_domain.manageable_server(tx, server_id)
        except DomainError as exc:
            return not_found(request, admin, exc)
        scopes = (await scopes_domain.list_scopes(tx, server.id, q=None, after=None, limit=1000)).items
        claims = await claims_domain.list_claims(tx, server.id)
        policies = await policies_domain.list_policies(tx, server.id)
        rules = {p.id: await policies_domain.list_rules(tx, server.id, p.id) for p in policies}
        keys = await keys_domain.published_rows(tx.session, tx.org_id, server.id)
        groups = (await groups_domain.list_groups(tx, q=None, condition=None, after=None, limit=1000)).items
        apps = (await apps_domain.list_apps(tx, q=None, filter_text=None, after=None, limit=1000)).items
        issuer = authz_servers.issuer(server, runtime(request).org_url(tx.org))
    group_names = {g.id: g.name for g in groups}
    return render(
        request,
        "server.html",
        admin=admin,
        server=server,
        issuer=issuer,
        scopes=scopes,
        claims=claims,
        policies=policies,
        rules=rules,
        keys=keys,
        groups=groups,
        group_names=group_names,
        apps=apps,
        grant_types=GRANT_TYPES,
        error=error,
        status=status,
    )


async def server_detail(request: Request, admin: Admin) -> Response:
    return await _detail(request, admin)


Write = Callable[[Tx, str, FormData], Awaitable[Any]]


def _write(
    action: Write, *, anchor: str, forget: bool = False
) -> Callable[[Request, Admin], Awaitable[Response]]:
    """A form post on one server: run ``action``; on refusal show the page with the reason."""

    async def handler(request: Request, admin: Admin) -> Response:
        form = await request.form()
        server_id = _server_id(request)

        async def work(tx: Tx) -> str:
            await action(tx, server_id, form)
            return tx.org_id

        async def done(org_id: str) -> Response:
            if forget:
                _forget(request, org_id, server_id)
            return redirect(f"{BASE}/{server_id}#{anchor}")

        return await form_action(request, admin, work, detail=_detail, show=done)

    return handler


async def _settings(tx: Tx, server_id: str, form: FormData) -> None:
    body = {
        "name": field(form, "name"),
        "description": field(form, "description"),
        "audiences": _lines(field(form, "audience")),
    }
    await servers_domain.replace_server(tx, server_id, body)


async def _add_scope(tx: Tx, server_id: str, form: FormData) -> None:
    body: dict[str, Any] = {"name": field(form, "name"), "description": field(form, "description") or None}
    if form.get("default") == "on":
        body["default"] = True
    await scopes_domain.create_scope(tx, server_id, body)


async def _delete_scope(tx: Tx, server_id: str, form: FormData) -> None:
    await scopes_domain.delete_scope(tx, server_id, field(form, "scopeId"))


async def _add_claim(tx: Tx, server_id: str, form: FormData) -> None:
    body = {
        "name": field(form, "name"),
        "status": "ACTIVE",
        "claimType": field(form, "claimType") or "RESOURCE",
        "valueType": "EXPRESSION",
        "value": field(form, "value"),
        "alwaysIncludeInToken": form.get("alwaysInclude") == "on",
        "conditions": {"scopes": _lines(field(form, "scopes"))},
    }
    await claims_domain.create_claim(tx, server_id, body)


async def _delete_claim(tx: Tx, server_id: str, form: FormData) -> None:
    await claims_domain.delete_claim(tx, server_id, field(form, "claimId"))


async def _add_policy(tx: Tx, server_id: str, form: FormData) -> None:
    clients = [c for c in form.getlist("clients") if isinstance(c, str) and c]
    body = {
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "name": field(form, "name"),
        "description": field(form, "description") or field(form, "name"),
        "status": "ACTIVE",
        "conditions": {"clients": {"include": clients or [ALL_CLIENTS]}},
    }
    await policies_domain.create_policy(tx, server_id, body)


def _int(form: FormData, name: str, default: int) -> int:
    try:
        return int(field(form, name))
    except ValueError:
        return default


async def _add_rule(tx: Tx, server_id: str, form: FormData) -> None:
    groups = [g for g in form.getlist("groups") if isinstance(g, str) and g]
    body: dict[str, Any] = {
        "type": "RESOURCE_ACCESS",
        "name": field(form, "name"),
        "status": "ACTIVE",
        "conditions": {
            "people": {"groups": {"include": groups or [EVERYONE]}},
            "grantTypes": {"include": [g for g in form.getlist("grantTypes") if isinstance(g, str)]},
            "scopes": {"include": _lines(field(form, "scopes"))},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": _int(form, "accessTokenLifetimeMinutes", 60)}},
    }
    if field(form, "priority"):
        body["priority"] = _int(form, "priority", 1)
    await policies_domain.create_rule(tx, server_id, field(form, "policyId"), body)


async def _move_rule(tx: Tx, server_id: str, form: FormData) -> None:
    policy_id, rule_id = field(form, "policyId"), field(form, "ruleId")
    rule = await policies_domain.get_rule(tx, server_id, policy_id, rule_id)
    body = rule_json(rule, "")
    body["priority"] = max(1, rule.priority + (-1 if field(form, "direction") == "up" else 1))
    await policies_domain.replace_rule(tx, server_id, policy_id, rule_id, body)


async def _delete_rule(tx: Tx, server_id: str, form: FormData) -> None:
    await policies_domain.delete_rule(tx, server_id, field(form, "policyId"), field(form, "ruleId"))


async def _move_policy(tx: Tx, server_id: str, form: FormData) -> None:
    policy = await policies_domain.get_policy(tx, server_id, field(form, "policyId"))
    body = policy_json(policy, "")
    body["priority"] = max(1, policy.priority + (-1 if field(form, "direction") == "up" else 1))
    await policies_domain.replace_policy(tx, server_id, policy.id, body)


async def _delete_policy(tx: Tx, server_id: str, form: FormData) -> None:
    await policies_domain.delete_policy(tx, server_id, field(form, "policyId"))


async def rotate_keys(request: Request, admin: Admin) -> Response:
    server_id = _server_id(request)
    rt = runtime(request)

    async def rotate(tx: Tx) -> None:
        server = await servers_domain.manageable_server(tx, server_id)
        await keys_domain.rotate_with_audit(tx, rt.rings, server.id)

    return await form_action(request, admin, rotate, detail=_detail, then=f"{BASE}/{server_id}#keys")


routes = [
    Route(BASE, admin_page(list_servers), methods=["GET"]),
    Route(BASE, admin_page(create_server), methods=["POST"]),
    Route(BASE + "/{serverId}", admin_page(server_detail), methods=["GET"]),
    Route(
        BASE + "/{serverId}/settings",
        admin_page(_write(_settings, anchor="settings", forget=True)),
        methods=["POST"],
    ),
    Route(BASE + "/{serverId}/scopes", admin_page(_write(_add_scope, anchor="scopes")), methods=["POST"]),
    Route(
        BASE + "/{serverId}/scopes/delete",
        admin_page(_write(_delete_scope, anchor="scopes")),
        methods=["POST"],
    ),
    Route(BASE + "/{serverId}/claims", admin_page(_write(_add_claim, anchor="claims")), methods=["POST"]),
    Route(
        BASE + "/{serverId}/claims/delete",
        admin_page(_write(_delete_claim, anchor="claims")),
        methods=["POST"],
    ),
    Route(
        BASE + "/{serverId}/policies", admin_page(_write(_add_policy, anchor="policies")), methods=["POST"]
    ),
    Route(
        BASE + "/{serverId}/policies/move",
        admin_page(_write(_move_policy, anchor="policies")),
        methods=["POST"],
    ),
    Route(
        BASE + "/{serverId}/policies/delete",
        admin_page(_write(_delete_policy, anchor="policies")),
        methods=["POST"],
    ),
    Route(BASE + "/{serverId}/rules", admin_page(_write(_add_rule, anchor="policies")), methods=["POST"]),
    Route(
        BASE + "/{serverId}/rules/move", admin_page(_write(_move_rule, anchor="policies")), methods=["POST"]
    ),
    Route(
        BASE + "/{serverId}/rules/delete",
        admin_page(_write(_delete_rule, anchor="policies")),
        methods=["POST"],
    ),
    Route(BASE + "/{serverId}/keys/rotate", admin_page(rotate_keys), methods=["POST"]),
]
