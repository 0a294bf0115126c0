"""/api/v1/groups/rules: group rules (create, list, get, replace, activate, deactivate, delete).

Rules need ``okta.groups.manage`` (reading: ``okta.groups.read``); a targeted group admin cannot
use them (they act on every user). Only a super admin may create, change or activate a rule that
puts users in a group holding admin roles (or the console's admin group), as only a super admin
may add such members by hand.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary.domain.context import Tx
from ostiary.domain.directory import group_rules as rules_domain
from ostiary.domain.roles.authority import may_add_to_groups
from ostiary.http.auth import management_tx
from ostiary.http.errors import OktaHTTPError
from ostiary.http.management.common import base_url, list_response, path_param
from ostiary.http.pagination import parse_after, parse_limit
from ostiary.http.requests import json_object
from ostiary.http.responses import json_response, no_content
from ostiary.http.role_checks import FORBIDDEN
from ostiary.timeutil import iso

READ, MANAGE = "okta.groups.read", "okta.groups.manage"


def rule_json(rule: rules_domain.GroupRuleRow, base: str) -> dict[str, Any]:
    return {
        "type": rules_domain.RULE_TYPE,
        "id": rule.id,
        "status": rule.status,
        "name": rule.name,
        "created": iso(rule.created),
        "lastUpdated": iso(rule.last_updated),
        "conditions": {
            "people": {"users": {"exclude": list(rule.excluded_users or [])}, "groups": {"exclude": []}},
            "expression": {"value": rule.expression, "type": rules_domain.EXPRESSION_TYPE},
        },
        "actions": {"assignUserToGroups": {"groupIds": list(rule.group_ids)}},
    }


async def _may_target(request: Request, tx: Tx, group_ids: list[str]) -> None:
    principal = request.state.principal
    if not await may_add_to_groups(tx, principal.authority, group_ids):
        raise OktaHTTPError(403, "E0000006", FORBIDDEN)


async def create_rule(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        spec = await rules_domain.validate(tx, body)
        await _may_target(request, tx, spec.group_ids)
        rule = await rules_domain.create_rule(tx, spec)
        return json_response(rule_json(rule, base_url(request)))


async def list_rules(request: Request) -> Response:
    limit = parse_limit(request, default=50, maximum=200)
    async with management_tx(request, READ) as tx:
        page = await rules_domain.list_rules(
            tx, search=request.query_params.get("search"), after=parse_after(request), limit=limit
        )
    return list_response(request, page.items, rule_json, page.next_cursor)


async def get_rule(request: Request) -> Response:
    async with management_tx(request, READ) as tx:
        rule = await rules_domain.get_rule(tx, path_param(request, "ruleId"))
        return json_response(rule_json(rule, base_url(request)))


async def replace_rule(request: Request) -> Response:
    body = await json_object(request)
    async with management_tx(request, MANAGE) as tx:
        await rules_domain.get_rule(tx, path_param(request, "ruleId"))
        spec = await rules_domain.validate(tx, body)
        await _may_target(request, tx, spec.group_ids)
        rule = await rules_domain.replace_rule(tx, path_param(request, "ruleId"), spec)
        return json_response(rule_json(rule, base_url(request)))


async def activate_rule(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        rule = await rules_domain.get_rule(tx, path_param(request, "ruleId"))
        await _may_target(request, tx, list(rule.group_ids))
        await rules_domain.activate(tx, rule.id)
    return no_content()


async def deactivate_rule(request: Request) -> Response:
    async with management_tx(request, MANAGE) as tx:
        await rules_domain.deactivate(tx, path_param(request, "ruleId"))
    return no_content()


async def delete_rule(request: Request) -> Response:
    remove = request.query_params.get("removeUsers", "false").lower()
    if remove not in ("true", "false"):
        raise OktaHTTPError(
            400,
            "E0000001",
            "Api validation failed: removeUsers",
            causes=["removeUsers: must be true or false"],
        )
    async with management_tx(request, MANAGE) as tx:
        await rules_domain.delete_rule(tx, path_param(request, "ruleId"), remove_users=remove == "true")
    return Response(status_code=202)


routes = [
    Route("/api/v1/groups/rules", list_rules, methods=["GET"]),
    Route("/api/v1/groups/rules", create_rule, methods=["POST"]),
    Route("/api/v1/groups/rules/{ruleId}", get_rule, methods=["GET"]),
    Route("/api/v1/groups/rules/{ruleId}", replace_rule, methods=["PUT"]),
    Route("/api/v1/groups/rules/{ruleId}", delete_rule, methods=["DELETE"]),
    Route("/api/v1/groups/rules/{ruleId}/lifecycle/activate", activate_rule, methods=["POST"]),
    Route("/api/v1/groups/rules/{ruleId}/lifecycle/deactivate", deactivate_rule, methods=["POST"]),
]
