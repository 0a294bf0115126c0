"""/api/v1/users/{userId}/grants: the scopes a user consented to, per client and authorization
server (``okta.users.read`` to read, ``okta.users.manage`` to revoke); ``me`` is the caller's
own user."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.authz import user_grants as grants_domain
from ostiary.domain.authz.user_grant_json import user_grant_json
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, expansions, path_param
from ostiary.http.pagination import link_header, parse_after, parse_limit
from ostiary.http.responses import json_response, no_content
from ostiary.http.runtime import runtime

READ, MANAGE = "okta.users.read", "okta.users.manage"
GRANTS = "/api/v1/users/{userId}/grants"
GRANT = GRANTS + "/{grantId}"


def _user_id(request: Request) -> str:
    """The path's user; ``me`` is the user the caller acts as (404 when it acts as none)."""
    key = path_param(request, "userId")
    if key != "me":
        return key
    user_id = getattr(getattr(request.state, "principal", None), "user_id", None)
    if not isinstance(user_id, str):
        raise OktaHTTPError(404, "E0000007", "Not found: Resource not found: me (User)")
    return user_id


def _expand_scope(request: Request) -> bool:
    return "scope" in expansions(request.query_params.get("expand"))


async def list_grants(request: Request) -> Response:
    limit = parse_limit(request, default=20, maximum=200)
    async with management_tx(request, READ) as tx:
        _user, page = await grants_domain.list_grants(
            tx,
            _user_id(request),
            scope_id=request.query_params.get("scopeId") or None,
            after=parse_after(request),
            limit=limit,
        )
        org_url = runtime(request).org_url(tx.org)
    base, expand = base_url(request), _expand_scope(request)
    return json_response(
        [user_grant_json(view, base, org_url, expand_scope=expand) for view in page.items],
        headers={"Link": link_header(request, page.next_cursor)},
    )


async def get_grant(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        _user, view = await grants_domain.get_grant(tx, _user_id(request), path_param(request, "grantId"))
        org_url = runtime(request).org_url(tx.org)
    return json_response(
        user_grant_json(view, base_url(request), org_url, expand_scope=_expand_scope(request))
    )


async def revoke_grants(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await grants_domain.revoke_all_grants(tx, _user_id(request))
    return no_content()


async def revoke_grant(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await grants_domain.revoke_grant(tx, _user_id(request), path_param(request, "grantId"))
    return no_content()


routes = [
    Route(GRANTS, list_grants, methods=["GET"]),
    Route(GRANTS, revoke_grants, methods=["DELETE"]),
    Route(GRANT, get_grant, methods=["GET"]),
    Route(GRANT, revoke_grant, methods=["DELETE"]),
]
