"""/api/v1/groups: CRUD, members, ``q``/``filter``/``search``."""

from __future__ import annotations

from typing import Any

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.directory import group_stats, search
from ostiary.domain.directory import groups as groups_domain
from ostiary.domain.directory.directory_json import group_json, user_json
from ostiary.http.auth import management_tx
from ostiary.http.management import group_rules
from ostiary.http.management.common import base_url, expansions, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content

READ, MANAGE = "okta.groups.read", "okta.groups.manage"


async def list_groups(request: Request) -> Response:
    limit = parse_limit(request, default=10000, maximum=10000)
    params = request.query_params
    async with management_tx(request, READ) as tx:
        condition = search.group_condition(filter_text=params.get("filter"), search_text=params.get("search"))
        sort_by = params.get("sortBy") if params.get("search") else None  # search queries only
        page = await groups_domain.list_groups(
            tx,
            q=params.get("q"),
            condition=condition,
            after=parse_after(request),
            limit=limit,
            sort=search.group_sort(sort_by) if sort_by else None,
            descending=search.sort_order(params.get("sortOrder")) if sort_by else False,
        )
        expand = expansions(params.get("expand"))
        stats = await group_stats.stats_of(tx, page.items) if "stats" in expand else {}
    if not expand & {"stats", "app"}:
        return list_response(request, page.items, group_json, page.next_cursor)

    def render(group: Any, base: str) -> dict[str, Any]:
        return {**group_json(group, base), "_embedded": embedded_group(group, base, stats)}

    return list_response(request, page.items, render, page.next_cursor)


def embedded_group(group: Any, base: str, stats: dict[str, group_stats.GroupStats]) -> dict[str, Any]:
    """``_embedded`` of a group: ``stats`` when asked for (``app`` only exists for groups
    sourced from an app, which Ostiary does not have)."""
    embedded: dict[str, Any] = {}
    found = stats.get(group.id)
    if found is not None:
        embedded["stats"] = {
            "usersCount": found.users_count,
            "appsCount": found.apps_count,
            "groupPushMappingsCount": 0,
            "hasAdminPrivlege": found.has_admin_privilege,  # sic: the spec's and SDK's name
        }
    return embedded


async def create_group(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        group = await groups_domain.create_group(tx, body)
        return json_response(group_json(group, base_url(request)))


async def get_group(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        group = await groups_domain.get_group(tx, path_param(request, "groupId"))
        return json_response(group_json(group, base_url(request)))


async def replace_group(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        group = await groups_domain.replace_group(tx, path_param(request, "groupId"), body)
        return json_response(group_json(group, base_url(request)))


async def delete_group(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await groups_domain.delete_group(tx, path_param(request, "groupId"))
    return no_content()


async def list_members(request: Request) -> Response:
    limit = parse_limit(request, default=1000, maximum=1000)
    async with management_tx(request, READ) as tx:
        page = await groups_domain.list_members(
            tx, path_param(request, "groupId"), after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, user_json, page.next_cursor)


async def add_member(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await groups_domain.add_member(tx, path_param(request, "groupId"), path_param(request, "userId"))
    return no_content()


async def remove_member(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await groups_domain.remove_member(tx, path_param(request, "groupId"), path_param(request, "userId"))
    return no_content()


class GroupIdConvertor(StringConvertor):
    """A group id: any path segment but ``rules`` (``/groups/rules`` is the group rules' path)."""

    regex = r"(?!rules(?:/|$))[^/]+"


register_url_convertor("group_id", GroupIdConvertor())

routes = [
    *group_rules.routes,  # first: /groups/rules is not a group id
    Route("/api/v1/groups", list_groups, methods=["GET"]),
    Route("/api/v1/groups", create_group, methods=["POST"]),
    Route("/api/v1/groups/{groupId:group_id}", get_group, methods=["GET"]),
    Route("/api/v1/groups/{groupId:group_id}", replace_group, methods=["PUT"]),
    Route("/api/v1/groups/{groupId:group_id}", delete_group, methods=["DELETE"]),
    Route("/api/v1/groups/{groupId:group_id}/users", list_members, methods=["GET"]),
    Route("/api/v1/groups/{groupId:group_id}/users/{userId}", add_member, methods=["PUT"]),
    Route("/api/v1/groups/{groupId:group_id}/users/{userId}", remove_member, methods=["DELETE"]),
]
