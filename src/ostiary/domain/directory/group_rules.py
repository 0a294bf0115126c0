"""Group rules: users whose profile satisfies an Okta EL expression join the rule's groups.

A rule is created INACTIVE. While ACTIVE it is applied to a user when the user is created, changed
or moved through its lifecycle (activated, reactivated, suspended, unsuspended, unlocked, a
password expired or reset), and to every user when it is activated. Deactivated
(DEPROVISIONED) users are not evaluated: they keep the groups they had, as in Okta.

A rule whose group is deleted, or whose expression reads a user attribute that the schema no
longer has, becomes INVALID (Okta's third status): it no longer applies, cannot be activated,
and is made INACTIVE again by a replace (PUT) that names existing groups and attributes. An
expression that reads an unknown attribute is refused when the rule is created or replaced.

A membership a rule creates is recorded (``GroupRuleMember``): when the user stops matching, the
rule removes it unless another active rule still gives it. A membership an admin made is never
recorded, so no rule removes it. Deactivating a rule leaves its members in place; deleting it
with ``removeUsers=true`` removes the memberships only it gave. Rules apply synchronously, inside
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import delete, func, select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz.expressions import (
    EvalContext,
    Expression,
    ExpressionError,
    ExpressionEvaluationError,
    parse_expression,
)
from ostiary.domain.context import Tx
from ostiary.domain.directory import user_schema
from ostiary.domain.directory.profile import BASE_ATTRIBUTES
from ostiary.domain.errors import Invalid, NotFound
from ostiary.store.models import Group, GroupMembership, User
from ostiary.store.models.group_rules import GroupRuleMember, GroupRuleRow
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

ACTIVE: Final = "ACTIVE"
INACTIVE: Final = "INACTIVE"
INVALID: Final = "INVALID"
EXPRESSION_TYPE: Final = "urn:okta:expression:1.0"
RULE_TYPE: Final = "group_rule"
_MAX_NAME: Final = 50
_MAX_GROUPS: Final = 100
_DEPROVISIONED: Final = "DEPROVISIONED"
_OKTA_GROUP: Final = "OKTA_GROUP"


def not_found(rule_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {rule_id} (GroupRule)", code="E0000007")


def _invalid(field: str, cause: str) -> Invalid:
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=[f"{field}: {cause}"])


def _target(rule: GroupRuleRow) -> Target:
    return Target(rule.id, "GroupRule", rule.name, rule.name)


async def get_rule(tx: Tx, rule_id: str) -> GroupRuleRow:
    row = await tx.session.get(GroupRuleRow, rule_id)
    if row is None or row.org_id != tx.org_id:
        raise not_found(rule_id)
    return row


def _object(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(field, "must be an object")
    return value


def _id_list(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _invalid(field, "must be a list of ids")
    return list(dict.fromkeys(value))


async def _existing_groups(tx: Tx, wanted: Sequence[str]) -> dict[str, Group]:
    stmt = select(Group).where(Group.org_id == tx.org_id, Group.id.in_(list(wanted)))
    return {row.id: row for row in await tx.session.scalars(stmt)} if wanted else {}


async def _existing_users(tx: Tx, wanted: Sequence[str]) -> set[str]:
    stmt = select(User.id).where(User.org_id == tx.org_id, User.id.in_(list(wanted)))
    return set(await tx.session.scalars(stmt)) if wanted else set()


class RuleSpec:
    """A validated rule body."""

    def __init__(self, name: str, expression: str, group_ids: list[str], excluded: list[str]) -> None:
        self.name, self.expression, self.group_ids, self.excluded = name, expression, group_ids, excluded


async def validate(tx: Tx, body: Mapping[str, Any]) -> RuleSpec:
    """Check a create or replace body; every referenced group and user must exist in the org."""
    kind = body.get("type", RULE_TYPE)
    if kind != RULE_TYPE:
        raise _invalid("type", f"must be {RULE_TYPE}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid("name", "The field cannot be left blank")
    if len(name) > _MAX_NAME:
        raise _invalid("name", f"must be at most {_MAX_NAME} characters")
    conditions = _object(body.get("conditions"), "conditions")
    expression = _object(conditions.get("expression"), "conditions.expression")
    value = expression.get("value")
    if not isinstance(value, str) or not value.strip():
        raise _invalid("conditions.expression.value", "The field cannot be left blank")
    if expression.get("type", EXPRESSION_TYPE) != EXPRESSION_TYPE:
        raise _invalid("conditions.expression.type", f"must be {EXPRESSION_TYPE}")
    try:
        parsed = parse_expression(value)
    except ExpressionError as exc:
        raise Invalid(
            "Api validation failed: conditions.expression.value",
            code="E0000001",
            causes=[f"conditions.expression.value: {exc.message}"],
        ) from None
    unknown = sorted(unknown_attributes(parsed, await user_attributes(tx)))
    if unknown:
        raise _invalid("conditions.expression.value", f"Invalid property {unknown[0]} in expression")
    people = _object(conditions.get("people"), "conditions.people")
    users = _object(people.get("users"), "conditions.people.users")
    excluded = _id_list(users.get("exclude"), "conditions.people.users.exclude")
    known_users = await _existing_users(tx, excluded)
    missing_users = [u for u in excluded if u not in known_users]
    if missing_users:
        raise _invalid("conditions.people.users.exclude", f"user {missing_users[0]} does not exist")
    actions = _object(body.get("actions"), "actions")
    assign = _object(actions.get("assignUserToGroups"), "actions.assignUserToGroups")
    group_ids = _id_list(assign.get("groupIds"), "actions.assignUserToGroups.groupIds")
    if not group_ids:
        raise _invalid("actions.assignUserToGroups.groupIds", "The field cannot be left blank")
    if len(group_ids) > _MAX_GROUPS:
        raise _invalid("actions.assignUserToGroups.groupIds", f"at most {_MAX_GROUPS} groups")
    groups = await _existing_groups(tx, group_ids)
    for gid in group_ids:
        group = groups.get(gid)
        if group is None:
            raise _invalid("actions.assignUserToGroups.groupIds", f"group {gid} does not exist")
        if group.type != _OKTA_GROUP:
            raise _invalid("actions.assignUserToGroups.groupIds", f"group {gid} is not an Okta group")
    return RuleSpec(name.strip(), value, group_ids, excluded)


_CONTEXT_ATTRIBUTES: Final = ("id", "login", "status")
"""What a rule's ``user.`` may read beside the profile (see :func:`_context`)."""


async def user_attributes(tx: Tx) -> frozenset[str]:
    """The user attributes a rule may read: the base profile, the schema's custom ones, and
    the user's id, login and status."""
    custom = await user_schema.custom_properties(tx)
    return frozenset((*BASE_ATTRIBUTES, *custom, *_CONTEXT_ATTRIBUTES))


def unknown_attributes(expression: Expression, known: frozenset[str]) -> set[str]:
    return {name for root, name in expression.references() if root == "user" and name not in known}


async def create_rule(tx: Tx, spec: RuleSpec) -> GroupRuleRow:
    now = utcnow()
    row = GroupRuleRow(
        id=ids.new_id(ids.RULE),
        org_id=tx.org_id,
        name=spec.name,
        status=INACTIVE,
        expression=spec.expression,
        group_ids=spec.group_ids,
        excluded_users=spec.excluded,
        created=now,
        last_updated=now,
    )
    tx.session.add(row)
    await tx.session.flush()
    record(tx, "group.rule.create", "Create group rule", [_target(row)])
    return row


async def replace_rule(tx: Tx, rule_id: str, spec: RuleSpec) -> GroupRuleRow:
    """Okta updates only an INACTIVE rule; replacing an INVALID one (with existing groups and
    attributes: ``spec`` is validated) makes it INACTIVE."""
    row = await get_rule(tx, rule_id)
    if row.status == ACTIVE:
        raise _invalid("status", "An ACTIVE group rule cannot be updated; deactivate it first")
    row.status = INACTIVE
    row.name, row.expression = spec.name, spec.expression
    row.group_ids, row.excluded_users = spec.group_ids, spec.excluded
    row.last_updated = utcnow()
    await tx.session.flush()
    record(tx, "group.rule.update", "Update group rule", [_target(row)])
    return row


async def list_rules(tx: Tx, *, search: str | None, after: str | None, limit: int) -> Page[GroupRuleRow]:
    stmt = select(GroupRuleRow).where(GroupRuleRow.org_id == tx.org_id)
    if search:
        stmt = stmt.where(func.lower(GroupRuleRow.name).contains(search.lower(), autoescape=True))
    return await fetch_page(tx.session, stmt, GroupRuleRow.id, after=after, limit=limit)


async def activate(tx: Tx, rule_id: str) -> GroupRuleRow:
    """Activate, then evaluate every user of the org against the rule. An INVALID rule (or one
    whose group or attribute is gone) is refused."""
    row = await get_rule(tx, rule_id)
    if row.status == INVALID or await _lost_references(tx, row):
        raise _invalid(
            "status",
            "An INVALID group rule cannot be activated: its group or an attribute it reads no longer "
            "exists; replace it first",
        )
    if row.status != ACTIVE:
        row.status = ACTIVE
        row.last_updated = utcnow()
        await tx.session.flush()
        record(tx, "group.rule.activate", "Activate group rule", [_target(row)])
    users = await tx.session.scalars(
        select(User).where(User.org_id == tx.org_id, User.status != _DEPROVISIONED).order_by(User.id)
    )
    for user in list(users):
        await apply_to_user(tx, user)
    return row


async def deactivate(tx: Tx, rule_id: str) -> GroupRuleRow:
    """Deactivate; the members the rule gave stay (Okta's behaviour). An INVALID rule stays so."""
    row = await get_rule(tx, rule_id)
    if row.status == ACTIVE:
        row.status = INACTIVE
        row.last_updated = utcnow()
        await tx.session.flush()
        record(tx, "group.rule.deactivate", "Deactivate group rule", [_target(row)])
    return row


async def delete_rule(tx: Tx, rule_id: str, *, remove_users: bool) -> None:
    """Okta deletes only an INACTIVE rule; ``remove_users`` removes the memberships only it gave."""
    row = await get_rule(tx, rule_id)
    if row.status == ACTIVE:
        raise _invalid("status", "An ACTIVE group rule cannot be deleted; deactivate it first")
    given = list(await tx.session.scalars(select(GroupRuleMember).where(GroupRuleMember.rule_id == row.id)))
    await tx.session.execute(delete(GroupRuleMember).where(GroupRuleMember.rule_id == row.id))
    if remove_users:
        for member in given:
            await _drop_if_unheld(tx, member.group_id, member.user_id)
    await tx.session.delete(row)
    await tx.session.flush()
    record(tx, "group.rule.delete", "Delete group rule", [_target(row)])


async def _lost_references(tx: Tx, row: GroupRuleRow) -> bool:
    """Whether a group the rule assigns, or a user attribute it reads, no longer exists."""
    groups = await _existing_groups(tx, list(row.group_ids))
    if len(groups) != len(set(row.group_ids)):
        return True
    return bool(unknown_attributes(parse_expression(row.expression), await user_attributes(tx)))


async def _invalidate(tx: Tx, row: GroupRuleRow) -> None:
    row.status = INVALID
    row.last_updated = utcnow()
    await tx.session.flush()
    record(tx, "group.rule.invalidate", "Group rule invalidated", [_target(row)], severity="WARN")


async def invalidate_for_group(tx: Tx, group_id: str) -> None:
    """A group is being deleted: every rule that assigns it becomes INVALID, and the memberships
    rules gave in it are forgotten (the caller deletes the memberships with the group)."""
    rows = await tx.session.scalars(
        select(GroupRuleRow).where(GroupRuleRow.org_id == tx.org_id, GroupRuleRow.status != INVALID)
    )
    for row in list(rows):
        if group_id in (row.group_ids or []):
            await _invalidate(tx, row)
    await tx.session.execute(
        delete(GroupRuleMember).where(
            GroupRuleMember.org_id == tx.org_id, GroupRuleMember.group_id == group_id
        )
    )


async def forget_user(tx: Tx, user_id: str) -> None:
    """A user is being deleted: no rule excludes them any more (a stale id would make the rule's
    next replace fail validation)."""
    rows = await tx.session.scalars(select(GroupRuleRow).where(GroupRuleRow.org_id == tx.org_id))
    for row in list(rows):
        if user_id in (row.excluded_users or []):
            row.excluded_users = [u for u in row.excluded_users if u != user_id]
            row.last_updated = utcnow()
    await tx.session.flush()


async def invalidate_for_attributes(tx: Tx) -> None:
    """Custom attributes were removed from the schema: rules that read one become INVALID."""
    known = await user_attributes(tx)
    rows = await tx.session.scalars(
        select(GroupRuleRow).where(GroupRuleRow.org_id == tx.org_id, GroupRuleRow.status != INVALID)
    )
    for row in list(rows):
        if unknown_attributes(parse_expression(row.expression), known):
            await _invalidate(tx, row)


def _context(user: User) -> EvalContext:
    attributes = {**(user.profile or {}), "id": user.id, "login": user.login, "status": user.status}
    return EvalContext(user=attributes, org={"id": user.org_id})


def matches(expression: Expression, user: User) -> bool:
    """Whether the rule's expression is ``true`` for the user (an evaluation error: no match)."""
    try:
        return expression.evaluate(_context(user)) is True
    except ExpressionEvaluationError:
        return False


async def apply_to_user(tx: Tx, user: User, *, new: bool = False) -> None:
    """Bring the user's rule-given memberships in line with the org's ACTIVE rules (a
    DEPROVISIONED user is left as it is). A ``new`` user holds none yet: one query fewer."""
    if user.status == _DEPROVISIONED:
        return
    rules = list(
        await tx.session.scalars(
            select(GroupRuleRow).where(GroupRuleRow.org_id == tx.org_id, GroupRuleRow.status == ACTIVE)
        )
    )
    if new and not rules:
        return
    held: set[tuple[str, str]] = (
        set()
        if new
        else {
            (m.rule_id, m.group_id)
            for m in await tx.session.scalars(
                select(GroupRuleMember).where(
                    GroupRuleMember.org_id == tx.org_id, GroupRuleMember.user_id == user.id
                )
            )
        }
    )
    if not rules and not held:
        return
    wanted: set[tuple[str, str]] = set()
    for rule in rules:
        if user.id in (rule.excluded_users or []):
            continue
        if matches(parse_expression(rule.expression), user):
            wanted.update((rule.id, gid) for gid in rule.group_ids)
    active_ids = {rule.id for rule in rules}
    lost = {(r, g) for r, g in held if r in active_ids and (r, g) not in wanted}
    for rule_id, group_id in sorted(lost):
        await tx.session.execute(
            delete(GroupRuleMember).where(
                GroupRuleMember.rule_id == rule_id,
                GroupRuleMember.group_id == group_id,
                GroupRuleMember.user_id == user.id,
            )
        )
    for rule_id, group_id in sorted(wanted - held):
        await _give(tx, rule_id, group_id, user)
    for group_id in sorted({g for _r, g in lost}):
        await _drop_if_unheld(tx, group_id, user.id)


async def _give(tx: Tx, rule_id: str, group_id: str, user: User) -> None:
    group = await tx.session.get(Group, group_id)
    if group is None or group.org_id != tx.org_id:
        return  # the group was deleted after the rule was saved
    membership = await tx.session.get(GroupMembership, (group_id, user.id))
    if membership is not None:
        tracked = await tx.session.scalars(
            select(GroupRuleMember.rule_id).where(
                GroupRuleMember.group_id == group_id, GroupRuleMember.user_id == user.id
            )
        )
        if tracked.first() is None:
            return  # an admin's membership: the rule does not take it over
    else:
        now = utcnow()
        tx.session.add(GroupMembership(group_id=group_id, user_id=user.id, org_id=tx.org_id, created=now))
        group.last_membership_updated = now
        record(
            tx,
            "group.user_membership.add",
            "Add user to group membership",
            [
                Target(user.id, "User", user.login, user.login),
                Target(group.id, "UserGroup", group.name, group.name),
            ],
        )
    tx.session.add(GroupRuleMember(rule_id=rule_id, group_id=group_id, user_id=user.id, org_id=tx.org_id))
    await tx.session.flush()


async def _drop_if_unheld(tx: Tx, group_id: str, user_id: str) -> None:
    """Remove a rule-given membership once no rule holds it."""
    await tx.session.flush()
    still = await tx.session.scalars(
        select(GroupRuleMember.rule_id).where(
            GroupRuleMember.group_id == group_id, GroupRuleMember.user_id == user_id
        )
    )
    if still.first() is not None:
        return
    membership = await tx.session.get(GroupMembership, (group_id, user_id))
    group = await tx.session.get(Group, group_id)
    if membership is None or group is None:
        return
    await tx.session.delete(membership)
    await tx.session.flush()
    group.last_membership_updated = utcnow()
    record(
        tx,
        "group.user_membership.remove",
        "Remove user from group membership",
        [Target(user_id, "User", user_id, user_id), Target(group.id, "UserGroup", group.name, group.name)],
    )
