"""Access policies of an authorization server and their rules (``/policies``, ``/policies/{id}/rules``).

Priorities are positions, as on Okta: 1 is evaluated first, they stay 1..n without gaps,
and saving an item at priority *p* moves the items from *p* on one place down (a priority
past the end, or none, puts it last). Everything a rule or policy names must exist when it
is saved: clients (apps of the org, or ``ALL_CLIENTS``), users, groups (or ``EVERYONE``),
the server's scopes (or ``*``), and the grant types must be ones Okta knows. How the token
endpoint evaluates them is :mod:`ostiary.domain.authz.policy_engine`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz import policy_sets
from ostiary.domain.authz.policy_engine import ALL_CLIENTS, ANY_SCOPE, EVERYONE
from ostiary.domain.authz.scopes import scope_names
from ostiary.domain.authz.server_admin import (
    choice_field,
    int_field,
    invalid,
    manageable_server,
    object_field,
    required_text,
    string_list,
    text_field,
)
from ostiary.domain.authz.server_admin import target as server_target
from ostiary.domain.context import Tx
from ostiary.domain.errors import Forbidden, NotFound
from ostiary.store.models import Group, User
from ostiary.store.models.clients import App
from ostiary.store.models.policies import AccessPolicy, PolicyRule
from ostiary.timeutil import utcnow

POLICY_TYPE = "OAUTH_AUTHORIZATION_POLICY"
RULE_TYPE = "RESOURCE_ACCESS"
STATUSES = ("ACTIVE", "INACTIVE")
KNOWN_GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
    "interaction_code",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:openid:params:grant-type:ciba",
    "urn:okta:params:oauth:grant-type:otp",
    "urn:okta:params:oauth:grant-type:oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-oob",
)
ACCESS_TOKEN_MINUTES = (5, 1440)  # Okta: five minutes to one day
REFRESH_WINDOW_MINUTES = (10, 2_628_000)  # Okta: ten minutes to five years
_MAX_POLICY_NAME = 100
_MAX_POLICY_DESCRIPTION = 255
_MAX_RULE_NAME = 255
_MAX_PRIORITY = 1_000_000


def policy_not_found(policy_id: str) -> NotFound:
    return NotFound(
        f"Not found: Resource not found: {policy_id} (AuthorizationServerPolicy)", code="E0000007"
    )


def rule_not_found(rule_id: str) -> NotFound:
    return NotFound(
        f"Not found: Resource not found: {rule_id} (AuthorizationServerPolicyRule)", code="E0000007"
    )


def policy_target(policy: AccessPolicy) -> Target:
    return Target(policy.id, "AuthorizationServerPolicy", policy.name, policy.name)


def rule_target(rule: PolicyRule) -> Target:
    return Target(rule.id, "AuthorizationServerPolicyRule", rule.name, rule.name)


def _system_object() -> Forbidden:
    return Forbidden("You do not have permission to perform the requested action", code="E0000006")


# --- priorities --------------------------------------------------------------------------------


class _Prioritized(Protocol):
    priority: int


P = TypeVar("P", bound=_Prioritized)


def place(siblings: Sequence[P], item: P, priority: int | None) -> None:
    """Put ``item`` at ``priority`` among ``siblings`` (in their order) and renumber them 1..n."""
    ordered = [s for s in siblings if s is not item]
    position = len(ordered) if priority is None else min(priority, len(ordered) + 1) - 1
    ordered.insert(position, item)
    for number, each in enumerate(ordered, 1):
        if each.priority != number:
            each.priority = number


def _priority(body: Mapping[str, Any]) -> int | None:
    return int_field(body, "priority", None, minimum=1, maximum=_MAX_PRIORITY)


def _status(body: Mapping[str, Any], default: str) -> str:
    return choice_field(body, "status", STATUSES, default)


def _type(body: Mapping[str, Any], expected: str) -> None:
    if body.get("type") is not None and body.get("type") != expected:
        raise invalid("type", f"must be {expected}")


# --- references ------------------------------------------------------------------------------


async def _missing(tx: Tx, model: type[App] | type[User] | type[Group], wanted: Collection[str]) -> list[str]:
    if not wanted:
        return []
    stmt = select(model.id).where(model.org_id == tx.org_id, model.id.in_(list(wanted)))
    found = set((await tx.session.scalars(stmt)).all())
    return [w for w in wanted if w not in found]


async def _clients(tx: Tx, conditions: Mapping[str, Any]) -> list[str]:
    """``conditions.clients.include``: ``ALL_CLIENTS`` (the default) or ids of the org's apps."""
    field = "conditions.clients.include"
    clients = object_field(conditions, "clients", field="conditions.clients")
    include = string_list(clients.get("include"), field)
    if not include:
        return [ALL_CLIENTS]
    missing = await _missing(tx, App, [c for c in include if c != ALL_CLIENTS])
    if missing:
        raise invalid(field, f"No client with id {', '.join(missing)} exists in this organization")
    return include


async def _people(tx: Tx, conditions: Mapping[str, Any]) -> dict[str, list[str]]:
    people = object_field(conditions, "people", field="conditions.people")
    found: dict[str, list[str]] = {}
    for kind, model in (("users", User), ("groups", Group)):
        section = object_field(people, kind, field=f"conditions.people.{kind}")
        for which in ("include", "exclude"):
            field = f"conditions.people.{kind}.{which}"
            values = string_list(section.get(which), field)
            named = [v for v in values if not (kind == "groups" and which == "include" and v == EVERYONE)]
            missing = await _missing(tx, model, named)
            if missing:
                noun = "user" if kind == "users" else "group"
                raise invalid(field, f"No {noun} with id {', '.join(missing)} exists in this organization")
            found[f"{kind}_{which}"] = values
    return found


def _grant_types(conditions: Mapping[str, Any]) -> list[str]:
    field = "conditions.grantTypes.include"
    grant_types = string_list(object_field(conditions, "grantTypes").get("include"), field)
    if not grant_types:
        raise invalid(field, "The field cannot be left blank")
    unknown = [g for g in grant_types if g not in KNOWN_GRANT_TYPES]
    if unknown:
        raise invalid(field, f"Unknown grant type {', '.join(unknown)}")
    return grant_types


async def _scopes(tx: Tx, server_id: str, conditions: Mapping[str, Any]) -> list[str]:
    field = "conditions.scopes.include"
    wanted = string_list(object_field(conditions, "scopes").get("include"), field)
    if not wanted:
        raise invalid(field, "The field cannot be left blank")
    defined = await scope_names(tx, server_id)
    missing = [s for s in wanted if s != ANY_SCOPE and s not in defined]
    if missing:
        raise invalid(field, f"No scope named {', '.join(missing)} exists on this authorization server")
    return wanted


def _token_lifetimes(actions: Mapping[str, Any]) -> dict[str, Any]:
    token = object_field(actions, "token", field="actions.token")
    prefix = "actions.token."
    access = int_field(
        token,
        "accessTokenLifetimeMinutes",
        60,
        minimum=ACCESS_TOKEN_MINUTES[0],
        maximum=ACCESS_TOKEN_MINUTES[1],
        field=prefix + "accessTokenLifetimeMinutes",
    )
    window = int_field(
        token,
        "refreshTokenWindowMinutes",
        10080,
        minimum=REFRESH_WINDOW_MINUTES[0],
        maximum=REFRESH_WINDOW_MINUTES[1],
        field=prefix + "refreshTokenWindowMinutes",
    )
    lifetime = int_field(
        token,
        "refreshTokenLifetimeMinutes",
        0,
        minimum=0,
        maximum=REFRESH_WINDOW_MINUTES[1],
        field=prefix + "refreshTokenLifetimeMinutes",
    )
    assert access is not None and window is not None and lifetime is not None
    if lifetime and lifetime < access:
        raise invalid(
            prefix + "refreshTokenLifetimeMinutes",
            "must be 0 (unlimited) or at least the access token lifetime",
        )
    if lifetime and window > lifetime:
        raise invalid(prefix + "refreshTokenWindowMinutes", "must not exceed the refresh token lifetime")
    hook = object_field(token, "inlineHook", field=prefix + "inlineHook")
    hook_id = text_field(hook, "id", max_length=64, field=prefix + "inlineHook.id")
    return {
        "access_token_lifetime_minutes": access,
        "refresh_token_lifetime_minutes": lifetime,
        "refresh_token_window_minutes": window,
        "inline_hook_id": hook_id,
    }


# --- policies --------------------------------------------------------------------------------


async def _policies_of(tx: Tx, server_id: str) -> list[AccessPolicy]:
    stmt = (
        select(AccessPolicy)
        .where(AccessPolicy.org_id == tx.org_id, AccessPolicy.server_id == server_id)
        .order_by(AccessPolicy.priority, AccessPolicy.created, AccessPolicy.id)
    )
    return list((await tx.session.scalars(stmt)).all())


async def list_policies(tx: Tx, server_id: str) -> list[AccessPolicy]:
    """In priority order (Okta does not page policies)."""
    await manageable_server(tx, server_id)
    return await _policies_of(tx, server_id)


async def get_policy(tx: Tx, server_id: str, policy_id: str) -> AccessPolicy:
    await manageable_server(tx, server_id)
    stmt = select(AccessPolicy).where(
        AccessPolicy.org_id == tx.org_id, AccessPolicy.server_id == server_id, AccessPolicy.id == policy_id
    )
    policy = (await tx.session.scalars(stmt)).first()
    if policy is None:
        raise policy_not_found(policy_id)
    return policy


async def _policy_attributes(tx: Tx, body: Mapping[str, Any]) -> dict[str, Any]:
    _type(body, POLICY_TYPE)
    return {
        "name": required_text(body, "name", max_length=_MAX_POLICY_NAME).strip(),
        "description": text_field(body, "description", max_length=_MAX_POLICY_DESCRIPTION),
        "clients_include": await _clients(tx, object_field(body, "conditions")),
    }


async def create_policy(tx: Tx, server_id: str, body: Mapping[str, Any]) -> AccessPolicy:
    server = await manageable_server(tx, server_id)
    attributes = await _policy_attributes(tx, body)
    priority, status = _priority(body), _status(body, "ACTIVE")
    now = utcnow()
    policy = AccessPolicy(
        id=ids.new_id(ids.POLICY),
        org_id=tx.org_id,
        server_id=server.id,
        priority=0,
        status=status,
        system=False,
        created=now,
        last_updated=now,
        **attributes,
    )
    place(await _policies_of(tx, server.id), policy, priority)
    tx.session.add(policy)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server.id)
    record(
        tx,
        "oauth2.as.policy.created",
        "Create authorization server policy",
        [policy_target(policy), server_target(server)],
    )
    return policy


async def replace_policy(tx: Tx, server_id: str, policy_id: str, body: Mapping[str, Any]) -> AccessPolicy:
    """PUT: name, description, clients and priority; ``status`` here is ignored (use lifecycle)."""
    policy = await get_policy(tx, server_id, policy_id)
    attributes = await _policy_attributes(tx, body)
    priority = _priority(body)
    for attribute, value in attributes.items():
        setattr(policy, attribute, value)
    if priority is not None:
        place(await _policies_of(tx, server_id), policy, priority)
    policy.last_updated = utcnow()
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.as.policy.updated", "Update authorization server policy", [policy_target(policy)])
    return policy


async def set_policy_status(tx: Tx, server_id: str, policy_id: str, status: str) -> AccessPolicy:
    policy = await get_policy(tx, server_id, policy_id)
    if policy.status != status:
        policy.status = status
        policy.last_updated = utcnow()
        policy_sets.invalidate(tx.session, tx.org_id, server_id)
    verb = "activated" if status == "ACTIVE" else "deactivated"
    message = ("Activate" if status == "ACTIVE" else "Deactivate") + " authorization server policy"
    record(tx, f"oauth2.as.policy.{verb}", message, [policy_target(policy)])
    return policy


async def delete_policy(tx: Tx, server_id: str, policy_id: str) -> None:
    """Its rules go with it; the policies after it move up one place."""
    policy = await get_policy(tx, server_id, policy_id)
    if policy.system:
        raise _system_object()
    siblings = [p for p in await _policies_of(tx, server_id) if p is not policy]
    await tx.session.delete(policy)
    _renumber(siblings)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.as.policy.deleted", "Delete authorization server policy", [policy_target(policy)])


# --- rules -----------------------------------------------------------------------------------


async def _rules_of(tx: Tx, policy_id: str) -> list[PolicyRule]:
    stmt = (
        select(PolicyRule)
        .where(PolicyRule.org_id == tx.org_id, PolicyRule.policy_id == policy_id)
        .order_by(PolicyRule.priority, PolicyRule.created, PolicyRule.id)
    )
    return list((await tx.session.scalars(stmt)).all())


async def list_rules(tx: Tx, server_id: str, policy_id: str) -> list[PolicyRule]:
    policy = await get_policy(tx, server_id, policy_id)
    return await _rules_of(tx, policy.id)


async def get_rule(tx: Tx, server_id: str, policy_id: str, rule_id: str) -> PolicyRule:
    policy = await get_policy(tx, server_id, policy_id)
    stmt = select(PolicyRule).where(
        PolicyRule.org_id == tx.org_id, PolicyRule.policy_id == policy.id, PolicyRule.id == rule_id
    )
    rule = (await tx.session.scalars(stmt)).first()
    if rule is None:
        raise rule_not_found(rule_id)
    return rule


async def _rule_attributes(tx: Tx, server_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    _type(body, RULE_TYPE)
    name = required_text(body, "name", max_length=_MAX_RULE_NAME).strip()
    if body.get("conditions") is None:
        raise invalid("conditions", "The field cannot be left blank")
    conditions = object_field(body, "conditions")
    return {
        "name": name,
        "grant_types": _grant_types(conditions),
        **(await _people(tx, conditions)),
        "scopes": await _scopes(tx, server_id, conditions),
        **_token_lifetimes(object_field(body, "actions")),
    }


async def create_rule(tx: Tx, server_id: str, policy_id: str, body: Mapping[str, Any]) -> PolicyRule:
    policy = await get_policy(tx, server_id, policy_id)
    attributes = await _rule_attributes(tx, server_id, body)
    priority, status = _priority(body), _status(body, "ACTIVE")
    now = utcnow()
    rule = PolicyRule(
        id=ids.new_id(ids.RULE),
        org_id=tx.org_id,
        server_id=policy.server_id,
        policy_id=policy.id,
        priority=0,
        status=status,
        system=False,
        created=now,
        last_updated=now,
        **attributes,
    )
    place(await _rules_of(tx, policy.id), rule, priority)
    tx.session.add(rule)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(
        tx,
        "oauth2.as.policy.rule.created",
        "Create authorization server policy rule",
        [rule_target(rule), policy_target(policy)],
    )
    return rule


async def replace_rule(
    tx: Tx, server_id: str, policy_id: str, rule_id: str, body: Mapping[str, Any]
) -> PolicyRule:
    """PUT: everything but the status (use lifecycle)."""
    rule = await get_rule(tx, server_id, policy_id, rule_id)
    attributes = await _rule_attributes(tx, server_id, body)
    priority = _priority(body)
    for attribute, value in attributes.items():
        setattr(rule, attribute, value)
    if priority is not None:
        place(await _rules_of(tx, rule.policy_id), rule, priority)
    rule.last_updated = utcnow()
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(
        tx, "oauth2.as.policy.rule.updated", "Update authorization server policy rule", [rule_target(rule)]
    )
    return rule


async def set_rule_status(tx: Tx, server_id: str, policy_id: str, rule_id: str, status: str) -> PolicyRule:
    rule = await get_rule(tx, server_id, policy_id, rule_id)
    if rule.status != status:
        rule.status = status
        rule.last_updated = utcnow()
        policy_sets.invalidate(tx.session, tx.org_id, server_id)
    verb = "activated" if status == "ACTIVE" else "deactivated"
    message = ("Activate" if status == "ACTIVE" else "Deactivate") + " authorization server policy rule"
    record(tx, f"oauth2.as.policy.rule.{verb}", message, [rule_target(rule)])
    return rule


async def delete_rule(tx: Tx, server_id: str, policy_id: str, rule_id: str) -> None:
    rule = await get_rule(tx, server_id, policy_id, rule_id)
    if rule.system:
        raise _system_object()
    siblings = [r for r in await _rules_of(tx, rule.policy_id) if r is not rule]
    await tx.session.delete(rule)
    _renumber(siblings)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(
        tx, "oauth2.as.policy.rule.deleted", "Delete authorization server policy rule", [rule_target(rule)]
    )


def _renumber(items: Sequence[_Prioritized]) -> None:
    for number, item in enumerate(items, 1):
        if item.priority != number:
            item.priority = number
