"""``filter`` and ``search`` parameters of list endpoints, turned into SQL conditions.

The expression grammar lives in ``filter_expr`` (domain); compiling to SQL in
``store.repositories.filter_sql``. This module maps each attribute to its column.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement

from ostiary.domain.errors import Invalid
from ostiary.store.models import Group, LogEvent, User


def _user_column(attr: str) -> Any:
    columns: dict[str, Any] = {
        "id": User.id,
        "status": User.status,
        "created": User.created,
        "lastUpdated": User.last_updated,
        "activated": User.activated,
        "statusChanged": User.status_changed,
        "passwordChanged": User.password_changed,
        "lastLogin": User.last_login,
        "type.id": User.type_id,
    }
    if attr in columns:
        return columns[attr]
    if attr == "profile.login":
        from ostiary.store.repositories.filter_sql import Custom

        return Custom(_login_condition)
    if attr.startswith("profile."):
        return User.profile[attr.split(".", 1)[1]]
    raise KeyError(attr)


def _login_condition(node: Any) -> Any:
    """``profile.login`` is always a string, copied in ``users.login``: compare that column, which
    has an index on ``lower(login) COLLATE "C"`` (PostgreSQL; "C" so that the planner can
    estimate a prefix, see migration 0019). A case-sensitive ``eq``/``sw`` also gets the
    case-insensitive comparison it implies, so that the index narrows it down first."""
    from ostiary.filter_ast import Comparison
    from ostiary.store.repositories.filter_sql import byte_ordered, compile_filter

    login = byte_ordered(User.login.expression)  # PostgreSQL: the index of migration 0019
    exact = compile_filter(node, lambda _attr: login)
    indexable = isinstance(node, Comparison) and isinstance(node.value, str) and node.op in ("eq", "sw")
    if indexable and not node.ignore_case:
        return compile_filter(replace(node, ignore_case=True), lambda _attr: login) & exact
    return exact


def _group_column(attr: str) -> Any:
    columns: dict[str, Any] = {
        "id": Group.id,
        "type": Group.type,
        "created": Group.created,
        "lastUpdated": Group.last_updated,
        "lastMembershipUpdated": Group.last_membership_updated,
    }
    if attr in columns:
        return columns[attr]
    if attr.startswith("profile."):
        return Group.profile[attr.split(".", 1)[1]]
    raise KeyError(attr)


def _target_id_condition(node: Any) -> Any:
    """Events list their targets' ids in one ``,id1,id2,`` column; match any of them."""
    value = str(getattr(node, "value", "") or "")
    op = getattr(node, "op", "pr")
    if op == "eq":
        return LogEvent.target_ids.contains(f",{value},", autoescape=True)
    if op == "sw":
        return LogEvent.target_ids.contains(f",{value}", autoescape=True)
    if op == "co":
        return LogEvent.target_ids.contains(value, autoescape=True)
    if op == "ne":
        return ~LogEvent.target_ids.contains(f",{value},", autoescape=True)
    return LogEvent.target_ids != ""


def _log_column(attr: str) -> Any:
    columns: dict[str, Any] = {
        "eventType": LogEvent.event_type,
        "severity": LogEvent.severity,
        "actor.id": LogEvent.actor_id,
        "outcome.result": LogEvent.outcome_result,
        "uuid": LogEvent.uuid,
        "published": LogEvent.published,
    }
    if attr in columns:
        return columns[attr]
    if attr == "target.id":
        from ostiary.store.repositories.filter_sql import Custom

        return Custom(_target_id_condition)
    parts = attr.split(".")
    node: Any = LogEvent.body
    for part in parts:
        node = node[part]
    return node


def _compile(text: str, policy_name: str, resolve: Any) -> ColumnElement[bool]:
    """Parse and compile one expression (imported lazily: most requests carry no filter)."""
    from ostiary.domain.directory import filter_expr
    from ostiary.store.repositories.filter_sql import compile_filter

    node = filter_expr.parse_filter(text, allowed=getattr(filter_expr, policy_name))
    return compile_filter(node, resolve)


def user_condition(*, filter_text: str | None, search_text: str | None) -> ColumnElement[bool] | None:
    conditions = []
    if filter_text:
        conditions.append(_compile(filter_text, "USER_FILTER_POLICY", _user_column))
    if search_text:
        conditions.append(_compile(search_text, "USER_SEARCH_POLICY", _user_column))
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]


def group_condition(*, filter_text: str | None, search_text: str | None) -> ColumnElement[bool] | None:
    conditions = []
    if filter_text:
        conditions.append(_compile(filter_text, "GROUP_FILTER_POLICY", _group_column))
    if search_text:
        conditions.append(_compile(search_text, "GROUP_SEARCH_POLICY", _group_column))
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1]


def log_condition(filter_text: str | None) -> ColumnElement[bool] | None:
    if not filter_text:
        return None
    return _compile(filter_text, "LOG_FILTER_POLICY", _log_column)


def _sort_expression(sort_by: str, resolve: Any) -> Any:
    try:
        column = resolve(sort_by) if len(sort_by) <= 128 else None
    except KeyError:
        column = None
    if column is None:
        raise Invalid(
            "Api validation failed: sortBy", code="E0000001", causes=[f"sortBy: {sort_by} is not sortable"]
        )
    return column.as_string() if sort_by.startswith("profile.") else column


def sort_order(value: str | None) -> bool:
    """``sortOrder``: ``asc`` (default) or ``desc``; whether descending."""
    if value is None or value == "" or value.lower() == "asc":
        return False
    if value.lower() == "desc":
        return True
    raise Invalid(
        "Api validation failed: sortOrder", code="E0000001", causes=["sortOrder: must be asc or desc"]
    )


def user_sort(sort_by: str) -> Any:
    """The SQL expression ``sortBy`` names on users (a column, or a profile attribute as text).
    ``profile.login`` sorts on ``users.login``, its copy (its filter column is a condition, not
    an expression to sort on)."""
    if sort_by == "profile.login":
        return User.login
    return _sort_expression(sort_by, _user_column)


def group_sort(sort_by: str) -> Any:
    return _sort_expression(sort_by, _group_column)
