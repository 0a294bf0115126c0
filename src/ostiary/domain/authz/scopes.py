"""Scopes of an authorization server (``/authorizationServers/{id}/scopes``).

Rules and claims name scopes, so a scope in use by a rule or a claim can be neither renamed
nor deleted (Ostiary refuses rather than leave a rule pointing at nothing). System scopes
(``openid``, ``profile``…) keep their name and cannot be deleted; their description,
consent and publication may change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz import policy_sets
from ostiary.domain.authz.server_admin import (
    bool_field,
    choice_field,
    invalid,
    manageable_server,
    required_text,
    text_field,
)
from ostiary.domain.authz.server_admin import target as server_target
from ostiary.domain.context import Tx
from ostiary.domain.errors import Forbidden, Invalid, NotFound
from ostiary.domain.unique_rows import flush_unique
from ostiary.store.models.policies import Claim, PolicyRule, Scope
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

CONSENTS = ("REQUIRED", "IMPLICIT", "FLEXIBLE")
METADATA_PUBLISH = ("ALL_CLIENTS", "NO_CLIENTS")
MAX_NAME = 300
_MAX_DESCRIPTION = 1024
_MAX_DISPLAY_NAME = 255
_WHITESPACE = re.compile(r"\s")


def not_found(scope_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {scope_id} (OAuth2Scope)", code="E0000007")


def target(scope: Scope) -> Target:
    return Target(scope.id, "OAuth2Scope", scope.name, scope.name)


async def get_scope(tx: Tx, server_id: str, scope_id: str) -> Scope:
    await manageable_server(tx, server_id)
    stmt = select(Scope).where(Scope.org_id == tx.org_id, Scope.server_id == server_id, Scope.id == scope_id)
    scope = (await tx.session.scalars(stmt)).first()
    if scope is None:
        raise not_found(scope_id)
    return scope


async def list_scopes(tx: Tx, server_id: str, *, q: str | None, after: str | None, limit: int) -> Page[Scope]:
    """``q`` matches a part of the name, ignoring case."""
    await manageable_server(tx, server_id)
    stmt = select(Scope).where(Scope.org_id == tx.org_id, Scope.server_id == server_id)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Scope.name).like(pattern, escape="\\"))
    return await fetch_page(tx.session, stmt, Scope.id, after=after, limit=limit)


async def scope_names(tx: Tx, server_id: str) -> set[str]:
    stmt = select(Scope.name).where(Scope.org_id == tx.org_id, Scope.server_id == server_id)
    return set((await tx.session.scalars(stmt)).all())


def _name(body: Mapping[str, Any]) -> str:
    name = required_text(body, "name", max_length=MAX_NAME)
    if _WHITESPACE.search(name):
        raise invalid("name", "A scope name cannot contain whitespace")
    if name == "*":
        raise invalid("name", "'*' stands for every scope in a rule and cannot be a scope name")
    if name.lower().startswith("okta."):
        raise invalid("name", "Scope names that start with 'okta.' are reserved")
    return name


def _duplicate_name() -> Invalid:
    return invalid("name", "An object with this field already exists in the current organization")


async def _ensure_name_free(tx: Tx, server_id: str, name: str, except_id: str | None = None) -> None:
    stmt = select(Scope.id).where(Scope.org_id == tx.org_id, Scope.server_id == server_id, Scope.name == name)
    existing = (await tx.session.scalars(stmt)).first()
    if existing is not None and existing != except_id:
        raise _duplicate_name()


async def _users_of(tx: Tx, server_id: str, name: str) -> list[str]:
    """What names the scope: rules (by their name) and claims."""
    rules = await tx.session.scalars(
        select(PolicyRule).where(PolicyRule.org_id == tx.org_id, PolicyRule.server_id == server_id)
    )
    claims = await tx.session.scalars(
        select(Claim).where(Claim.org_id == tx.org_id, Claim.server_id == server_id)
    )
    users = [f"rule {r.name!r}" for r in rules if name in r.scopes]
    return users + [f"claim {c.name!r}" for c in claims if name in c.conditions_scopes]


def _in_use(name: str, users: list[str]) -> Invalid:
    return invalid("name", f"The scope {name} is used by {', '.join(users)}; remove it there first")


def _attributes(body: Mapping[str, Any]) -> dict[str, Any]:
    """Everything but the name, with Okta's defaults for what is missing."""
    return {
        "description": text_field(body, "description", max_length=_MAX_DESCRIPTION),
        "display_name": text_field(body, "displayName", max_length=_MAX_DISPLAY_NAME),
        "consent": choice_field(body, "consent", CONSENTS, "IMPLICIT"),
        "default": bool_field(body, "default", False),
        "metadata_publish": choice_field(body, "metadataPublish", METADATA_PUBLISH, "NO_CLIENTS"),
        "optional": bool_field(body, "optional", False),
    }


async def create_scope(tx: Tx, server_id: str, body: Mapping[str, Any]) -> Scope:
    server = await manageable_server(tx, server_id)
    name = _name(body)
    attributes = _attributes(body)
    await _ensure_name_free(tx, server.id, name)
    now = utcnow()
    scope = Scope(
        id=ids.new_id(ids.SCOPE),
        org_id=tx.org_id,
        server_id=server.id,
        name=name,
        system=False,
        created=now,
        last_updated=now,
        **attributes,
    )
    tx.session.add(scope)
    await flush_unique(tx.session, _duplicate_name)
    policy_sets.invalidate(tx.session, tx.org_id, server.id)
    record(tx, "oauth2.scope.created", "Create OAuth 2.0 scope", [target(scope), server_target(server)])
    return scope


async def replace_scope(tx: Tx, server_id: str, scope_id: str, body: Mapping[str, Any]) -> Scope:
    scope = await get_scope(tx, server_id, scope_id)
    name = _name(body)
    attributes = _attributes(body)
    if name != scope.name:
        if scope.system:
            raise invalid("name", "A system scope cannot be renamed")
        await _ensure_name_free(tx, server_id, name, except_id=scope.id)
        users = await _users_of(tx, server_id, scope.name)
        if users:
            raise _in_use(scope.name, users)
    scope.name = name
    for attribute, value in attributes.items():
        setattr(scope, attribute, value)
    scope.last_updated = utcnow()
    await flush_unique(tx.session, _duplicate_name)
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.scope.updated", "Update OAuth 2.0 scope", [target(scope)])
    return scope


async def delete_scope(tx: Tx, server_id: str, scope_id: str) -> None:
    scope = await get_scope(tx, server_id, scope_id)
    if scope.system:
        raise Forbidden("You do not have permission to perform the requested action", code="E0000006")
    users = await _users_of(tx, server_id, scope.name)
    if users:
        raise _in_use(scope.name, users)
    await tx.session.delete(scope)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.scope.deleted", "Delete OAuth 2.0 scope", [target(scope)])
