"""The org's user schema (``/api/v1/meta/schemas/user/default``) and its one user type.

A user profile may hold Okta's base attributes (:data:`profile.BASE_ATTRIBUTES`) and the custom
attributes declared here (``definitions.custom.properties``); any other attribute is refused
(E0000001 with a cause). A custom property needs ``title`` and ``type`` (string, boolean,
integer, number, array of one of those); ``required``, ``minLength``/``maxLength`` (strings),
``enum`` and ``items`` are enforced. A property set to ``null`` in a POST is removed; values users
still hold for it are dropped at their next update, and group rules that read it become INVALID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.context import Tx
from ostiary.domain.directory.profile import BASE_ATTRIBUTES, REQUIRED
from ostiary.domain.errors import Invalid
from ostiary.store.models.schemas import UserSchema
from ostiary.timeutil import iso, utcnow

TYPES = ("string", "boolean", "integer", "number", "array")
ITEM_TYPES = ("string", "integer", "number", "boolean")
MAX_CUSTOM = 100
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
_KEPT = (
    "title",
    "description",
    "type",
    "required",
    "minLength",
    "maxLength",
    "enum",
    "items",
    "mutability",
    "scope",
    "permissions",
    "master",
    "unique",
    "externalName",
    "externalNamespace",
)
_TITLES = {
    "login": "Username",
    "email": "Primary email",
    "secondEmail": "Secondary email",
    "firstName": "First name",
    "lastName": "Last name",
    "zipCode": "Zip code",
    "countryCode": "Country code",
    "profileUrl": "Profile Url",
    "managerId": "ManagerId",
}


def schema_id(org_id: str) -> str:
    return "osc" + org_id[3:]


def _invalid(causes: list[str]) -> Invalid:
    field = causes[0].split(":", 1)[0] if causes else "definitions"
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=causes)


async def custom_properties(tx: Tx) -> dict[str, dict[str, Any]]:
    row = await tx.session.get(UserSchema, tx.org_id)
    return dict(row.custom) if row is not None else {}


def _check_property(name: str, prop: object) -> list[str]:
    if not isinstance(name, str) or not _NAME.match(name):
        return [f"{name}: Property name is not valid"]
    if name in BASE_ATTRIBUTES:
        return [f"{name}: A base property of the same name already exists"]
    if not isinstance(prop, Mapping):
        return [f"{name}: must be an object"]
    causes: list[str] = []
    if not isinstance(prop.get("title"), str) or not prop["title"].strip():
        causes.append(f"{name}: The field title cannot be left blank")
    kind = prop.get("type")
    if kind not in TYPES:
        causes.append(f"{name}: type must be one of {', '.join(TYPES)}")
    if kind == "array":
        items = prop.get("items")
        if not isinstance(items, Mapping) or items.get("type") not in ITEM_TYPES:
            causes.append(f"{name}: items.type must be one of {', '.join(ITEM_TYPES)}")
    if "required" in prop and not isinstance(prop["required"], bool):
        causes.append(f"{name}: required must be a boolean")
    for bound in ("minLength", "maxLength"):
        value = prop.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            causes.append(f"{name}: {bound} must be a non-negative integer")
    enum = prop.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum or len(enum) > 100):
        causes.append(f"{name}: enum must be a non-empty list")
    return causes


async def update_custom(tx: Tx, body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``POST /meta/schemas/user/default``: add, change (property object) or remove (``null``)
    custom properties; the result is the whole custom definition."""
    definitions = body.get("definitions")
    custom = definitions.get("custom") if isinstance(definitions, Mapping) else None
    properties = custom.get("properties") if isinstance(custom, Mapping) else None
    if not isinstance(properties, Mapping):
        raise _invalid(["definitions.custom.properties: must be an object"])
    current = await custom_properties(tx)
    causes: list[str] = []
    removed = False
    for name, prop in properties.items():
        if prop is None:
            if name not in current:
                causes.append(f"{name}: Property does not exist")
            current.pop(name, None)
            removed = True
            continue
        problems = _check_property(name, prop)
        causes += problems
        if not problems:
            current[name] = {k: prop[k] for k in _KEPT if k in prop}
    if len(current) > MAX_CUSTOM:
        causes.append(f"definitions.custom.properties: at most {MAX_CUSTOM} custom properties")
    if causes:
        raise _invalid(causes)
    now = utcnow()
    row = await tx.session.get(UserSchema, tx.org_id)
    if row is None:
        row = UserSchema(org_id=tx.org_id, custom=current, created=now, last_updated=now)
        tx.session.add(row)
    else:
        row.custom = current
        row.last_updated = now
    await tx.session.flush()
    record(
        tx,
        "system.user.schema.update",
        "Update user schema",
        [Target(schema_id(tx.org_id), "UserSchema", "user", "User")],
    )
    if removed:  # group rules that read a removed attribute become INVALID
        from ostiary.domain.directory import group_rules

        await group_rules.invalidate_for_attributes(tx)
    return current


# --- profile validation ------------------------------------------------------------------------


def _matches(prop: Mapping[str, Any], value: object) -> bool:
    kind = prop.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return False
        low, high = prop.get("minLength"), prop.get("maxLength")
        return (low is None or len(value) >= low) and (high is None or len(value) <= high)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "array":
        item = {"type": (prop.get("items") or {}).get("type")}
        return isinstance(value, list) and all(_matches(item, v) for v in value)
    return False


def check_custom_attributes(
    profile: dict[str, Any], custom: Mapping[str, Mapping[str, Any]], *, incoming: Mapping[str, Any]
) -> dict[str, Any]:
    """Refuse attributes of ``incoming`` that are neither base nor declared, and declared ones
    of the wrong type; drop undeclared ones that only come from the stored profile (a property
    since removed). Returns the profile to store."""
    causes: list[str] = []
    result: dict[str, Any] = {}
    for name, value in profile.items():
        if name in BASE_ATTRIBUTES:
            result[name] = value
            continue
        prop = custom.get(name)
        if prop is None:
            if name in incoming:
                causes.append(f"{name}: Property name '{name}' is not defined in profile")
            continue
        if value is not None and not _matches(prop, value):
            causes.append(f"{name}: Does not match required type")
            continue
        enum = prop.get("enum")
        if value is not None and enum is not None and value not in enum:
            causes.append(f"{name}: Does not match required enum value")
            continue
        result[name] = value
    for name, prop in custom.items():
        if prop.get("required") and result.get(name) in (None, "", []):
            causes.append(f"{name}: The field cannot be left blank")
    if causes:
        raise _invalid(causes)
    return result


# --- rendering ---------------------------------------------------------------------------------


def _title(name: str) -> str:
    return _TITLES.get(name) or re.sub(r"(?<!^)([A-Z])", r" \1", name).capitalize()


def _base_property(name: str) -> dict[str, Any]:
    return {
        "title": _title(name),
        "type": "string",
        "required": name in REQUIRED,
        "mutability": "READ_WRITE",
        "scope": "NONE",
        "permissions": [{"principal": "SELF", "action": "READ_WRITE"}],
        "master": {"type": "PROFILE_MASTER"},
    }


def _custom_property(prop: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "mutability": "READ_WRITE",
        "scope": "NONE",
        "permissions": [{"principal": "SELF", "action": "READ_WRITE"}],
        "master": {"type": "PROFILE_MASTER"},
        **prop,
    }


async def schema_json(tx: Tx, base: str) -> dict[str, Any]:
    """Okta's UserSchema document for the org."""
    row = await tx.session.get(UserSchema, tx.org_id)
    custom = dict(row.custom) if row is not None else {}
    created = row.created if row is not None else tx.org.created
    updated = row.last_updated if row is not None else tx.org.created
    sid = schema_id(tx.org_id)
    return {
        "id": f"{base}/meta/schemas/user/{sid}",
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "user",
        "title": "User",
        "description": "Okta user profile template with default permission settings",
        "lastUpdated": iso(updated),
        "created": iso(created),
        "definitions": {
            "custom": {
                "id": "#custom",
                "type": "object",
                "properties": {name: _custom_property(prop) for name, prop in custom.items()},
                "required": [name for name, prop in custom.items() if prop.get("required")],
            },
            "base": {
                "id": "#base",
                "type": "object",
                "properties": {name: _base_property(name) for name in BASE_ATTRIBUTES},
                "required": list(REQUIRED),
            },
        },
        "type": "object",
        "properties": {
            "profile": {"allOf": [{"$ref": "#/definitions/custom"}, {"$ref": "#/definitions/base"}]}
        },
        "_links": {
            "self": {"rel": "self", "href": f"{base}/api/v1/meta/schemas/user/{sid}", "method": "GET"},
            "type": {
                "rel": "type",
                "href": f"{base}/api/v1/meta/types/user/{ids.USER_TYPE}{tx.org_id[3:]}",
                "method": "GET",
            },
        },
    }
