"""Custom token claims of an authorization server (``/authorizationServers/{id}/claims``).

Everything a token request could trip over is checked when the claim is saved: an
EXPRESSION value is parsed with the expression language (and refused with the parser's
reason), a GROUPS filter is validated, the scopes of ``conditions.scopes`` must exist on the
server, and a name that a token already carries (``sub``, ``scp``…) is refused, as Okta does.
System claims (``sub``) are the server's own: they can be read, not changed or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz import policy_sets
from ostiary.domain.authz.expressions import (
    GROUP_FILTER_TYPES,
    ExpressionError,
    parse_expression,
    validate_group_filter,
)
from ostiary.domain.authz.scopes import scope_names
from ostiary.domain.authz.server_admin import (
    bool_field,
    choice_field,
    invalid,
    manageable_server,
    object_field,
    required_text,
    string_list,
)
from ostiary.domain.authz.server_admin import target as server_target
from ostiary.domain.context import Tx
from ostiary.domain.errors import Forbidden, Invalid, NotFound
from ostiary.domain.unique_rows import flush_unique
from ostiary.store.models.policies import Claim
from ostiary.timeutil import utcnow

RESOURCE, IDENTITY = "RESOURCE", "IDENTITY"
CLAIM_TYPES = (IDENTITY, RESOURCE)
EXPRESSION, GROUPS, SYSTEM = "EXPRESSION", "GROUPS", "SYSTEM"
STATUSES = ("ACTIVE", "INACTIVE")
MAX_NAME = 255
MAX_VALUE = 1024

RESERVED_NAMES = frozenset(
    {
        "_embedded",
        "_links",
        "acr",
        "amr",
        "at_hash",
        "aud",
        "auth_time",
        "azp",
        "c_hash",
        "cid",
        "cnf",
        "exp",
        "iat",
        "idp",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "scp",
        "sid",
        "sub",
        "token_type",
        "uid",
        "ver",
    }
)
"""Claims every token already carries (RFC 7519, OIDC Core, Okta's own): never custom."""


def not_found(claim_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {claim_id} (OAuth2Claim)", code="E0000007")


def target(claim: Claim) -> Target:
    return Target(claim.id, "OAuth2Claim", claim.name, claim.name)


def _system_claim() -> Forbidden:
    return Forbidden("You do not have permission to perform the requested action", code="E0000006")


async def get_claim(tx: Tx, server_id: str, claim_id: str) -> Claim:
    await manageable_server(tx, server_id)
    stmt = select(Claim).where(Claim.org_id == tx.org_id, Claim.server_id == server_id, Claim.id == claim_id)
    claim = (await tx.session.scalars(stmt)).first()
    if claim is None:
        raise not_found(claim_id)
    return claim


async def list_claims(tx: Tx, server_id: str) -> list[Claim]:
    """All of them, oldest first (Okta does not page claims)."""
    await manageable_server(tx, server_id)
    stmt = (
        select(Claim)
        .where(Claim.org_id == tx.org_id, Claim.server_id == server_id)
        .order_by(Claim.created, Claim.id)
    )
    return list((await tx.session.scalars(stmt)).all())


def _name(body: Mapping[str, Any]) -> str:
    name = required_text(body, "name", max_length=MAX_NAME)
    if name != name.strip() or not name:
        raise invalid("name", "A claim name cannot start or end with whitespace")
    if name in RESERVED_NAMES:
        raise invalid("name", f"The claim name '{name}' is reserved and cannot be used")
    return name


def _value_error(exc: ExpressionError) -> Invalid:
    return invalid("value", exc.message)


def _checked_value(body: Mapping[str, Any], value_type: str) -> tuple[str, str | None]:
    """The value and group filter type; expressions are parsed, group filters validated."""
    value = required_text(body, "value", max_length=MAX_VALUE)
    if value_type == EXPRESSION:
        try:
            parse_expression(value)
        except ExpressionError as exc:
            raise _value_error(exc) from None
        return value, None
    filter_type = body.get("group_filter_type")
    if filter_type is None:
        raise invalid("group_filter_type", "The field cannot be left blank for a GROUPS claim")
    filter_type = choice_field(body, "group_filter_type", sorted(GROUP_FILTER_TYPES), "")
    try:
        validate_group_filter(filter_type, value)
    except ExpressionError as exc:
        raise _value_error(exc) from None
    return value, filter_type


async def _condition_scopes(tx: Tx, server_id: str, body: Mapping[str, Any]) -> list[str]:
    conditions = object_field(body, "conditions")
    wanted = string_list(conditions.get("scopes"), "conditions.scopes")
    if wanted:
        defined = await scope_names(tx, server_id)
        missing = [name for name in wanted if name not in defined]
        if missing:
            raise invalid(
                "conditions.scopes",
                f"No scope named {', '.join(missing)} exists on this authorization server",
            )
    return wanted


async def _attributes(tx: Tx, server_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    name = _name(body)
    claim_type = body.get("claimType")
    if claim_type is None:
        raise invalid("claimType", "The field cannot be left blank")
    claim_type = choice_field(body, "claimType", CLAIM_TYPES, RESOURCE)
    value_type = choice_field(body, "valueType", (EXPRESSION, GROUPS, SYSTEM), EXPRESSION)
    if value_type == SYSTEM:
        raise invalid(
            "valueType", "SYSTEM claims belong to the authorization server; use EXPRESSION or GROUPS"
        )
    value, filter_type = _checked_value(body, value_type)
    always = bool_field(body, "alwaysIncludeInToken", True)
    return {
        "name": name,
        "claim_type": claim_type,
        "value_type": value_type,
        "value": value,
        "group_filter_type": filter_type,
        "status": choice_field(body, "status", STATUSES, "ACTIVE"),
        "always_include_in_token": True if claim_type == RESOURCE else always,
        "conditions_scopes": await _condition_scopes(tx, server_id, body),
    }


def _duplicate() -> Invalid:
    return invalid("name", "A claim with this name and claimType already exists on this authorization server")


async def _ensure_unique(
    tx: Tx, server_id: str, attributes: Mapping[str, Any], except_id: str | None
) -> None:
    stmt = select(Claim.id).where(
        Claim.org_id == tx.org_id,
        Claim.server_id == server_id,
        Claim.claim_type == attributes["claim_type"],
        Claim.name == attributes["name"],
    )
    existing = (await tx.session.scalars(stmt)).first()
    if existing is not None and existing != except_id:
        raise _duplicate()


async def create_claim(tx: Tx, server_id: str, body: Mapping[str, Any]) -> Claim:
    server = await manageable_server(tx, server_id)
    attributes = await _attributes(tx, server.id, body)
    await _ensure_unique(tx, server.id, attributes, None)
    now = utcnow()
    claim = Claim(
        id=ids.new_id(ids.CLAIM),
        org_id=tx.org_id,
        server_id=server.id,
        system=False,
        created=now,
        last_updated=now,
        **attributes,
    )
    tx.session.add(claim)
    await flush_unique(tx.session, _duplicate)
    policy_sets.invalidate(tx.session, tx.org_id, server.id)
    record(tx, "oauth2.claim.created", "Create OAuth 2.0 claim", [target(claim), server_target(server)])
    return claim


async def replace_claim(tx: Tx, server_id: str, claim_id: str, body: Mapping[str, Any]) -> Claim:
    claim = await get_claim(tx, server_id, claim_id)
    if claim.system:
        raise _system_claim()
    attributes = await _attributes(tx, server_id, body)
    await _ensure_unique(tx, server_id, attributes, claim.id)
    for attribute, value in attributes.items():
        setattr(claim, attribute, value)
    claim.last_updated = utcnow()
    await flush_unique(tx.session, _duplicate)
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.claim.updated", "Update OAuth 2.0 claim", [target(claim)])
    return claim


async def delete_claim(tx: Tx, server_id: str, claim_id: str) -> None:
    claim = await get_claim(tx, server_id, claim_id)
    if claim.system:
        raise _system_claim()
    await tx.session.delete(claim)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server_id)
    record(tx, "oauth2.claim.deleted", "Delete OAuth 2.0 claim", [target(claim)])
