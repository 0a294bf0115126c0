"""Reading a catalog entry's fields (API bodies and ``integration publish`` files), with every
problem reported at once in Okta's E0000001 shape.

An entry: ``type`` (underscore-concatenated lower case, unique), ``name``, ``scopes`` (``okta.*``
scopes installs may be granted) required; ``description``, ``logoUrl``, ``configGuideUrl`` and
``properties`` (install-time properties: ``[{"name", "label", "required"}]``) optional.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ostiary.domain.clients.okta_scopes import OKTA_SCOPES
from ostiary.domain.clients.records import Causes

TYPE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,99}")
PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_NAME = 255
MAX_DESCRIPTION = 4000
MAX_URL = 1024
MAX_PROPERTIES = 20
FIELDS = frozenset({"type", "name", "description", "logoUrl", "configGuideUrl", "scopes", "properties"})
TYPE_RULE = "must be 2 to 100 characters: lower-case letters, digits and '_', starting with a letter"
PROPERTY_SHAPE = "each property is an object with 'name', and optional 'label' and 'required'"
PROPERTY_FIELDS = frozenset({"name", "label", "required"})


@dataclass(frozen=True)
class EntryFields:
    type: str
    name: str
    scopes: tuple[str, ...]
    description: str | None = None
    logo_url: str | None = None
    config_guide_url: str | None = None
    properties: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def parse_entry(body: Mapping[str, Any], *, type_from_path: str | None = None) -> EntryFields:
    """The entry ``body`` describes; ``Invalid`` (E0000001) listing every problem otherwise.
    ``type_from_path``: the entry being replaced (the body's ``type``, if any, must match)."""
    causes = Causes()
    for key in sorted(set(body) - FIELDS):
        causes.add(str(key), "is not a property of an integration entry")
    entry_type = body.get("type", type_from_path)
    if not isinstance(entry_type, str) or not TYPE_PATTERN.fullmatch(entry_type):
        causes.add("type", TYPE_RULE)
    elif type_from_path is not None and entry_type != type_from_path:
        causes.add("type", "cannot be changed")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        causes.add("name", "The field cannot be left blank")
    elif len(name) > MAX_NAME:
        causes.add("name", f"must be at most {MAX_NAME} characters")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        causes.add("description", f"must be a string of at most {MAX_DESCRIPTION} characters")
    logo_url = _url(causes, "logoUrl", body.get("logoUrl"))
    guide_url = _url(causes, "configGuideUrl", body.get("configGuideUrl"))
    scopes = _scopes(causes, body.get("scopes"))
    properties = _properties(causes, body.get("properties"))
    causes.raise_if_any()
    assert isinstance(entry_type, str) and isinstance(name, str)
    return EntryFields(
        type=entry_type,
        name=name.strip(),
        scopes=scopes,
        description=description,
        logo_url=logo_url,
        config_guide_url=guide_url,
        properties=properties,
    )


def _url(causes: Causes, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_URL:
        causes.add(key, f"must be an absolute http(s) URL of at most {MAX_URL} characters")
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in value):
        causes.add(key, "must be an absolute http(s) URL")
        return None
    return value


def _scopes(causes: Causes, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        causes.add("scopes", "must be a non-empty list of okta.* scopes")
        return ()
    unknown = [s for s in value if s not in OKTA_SCOPES]
    for scope in unknown:
        causes.add("scopes", f"'{scope}' is not a valid Okta scope")
    return tuple(dict.fromkeys(value))


def _properties(causes: Causes, value: object) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_PROPERTIES:
        causes.add("properties", f"must be a list of at most {MAX_PROPERTIES} properties")
        return ()
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, Mapping) or set(item) - PROPERTY_FIELDS:
            causes.add("properties", PROPERTY_SHAPE)
            continue
        name, label, required = item.get("name"), item.get("label"), item.get("required", False)
        if not isinstance(name, str) or not PROPERTY_NAME.fullmatch(name) or name in seen:
            causes.add("properties", f"property name {name!r} must be a unique identifier")
            continue
        if (label is not None and (not isinstance(label, str) or len(label) > MAX_NAME)) or not isinstance(
            required, bool
        ):
            causes.add("properties", f"property {name}: 'label' must be a string and 'required' a boolean")
            continue
        seen.add(name)
        parsed.append({"name": name, "label": label or name, "required": required})
    return tuple(parsed)


def check_install_properties(declared: list[dict[str, Any]], given: object) -> dict[str, str] | None:
    """The ``properties`` of an install: string values for declared names, required ones present.
    Kept and answered as strings, the shape of the spec's examples."""
    causes = Causes()
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        causes.add("properties", "must be an object of string values")
        causes.raise_if_any()
    assert isinstance(given, Mapping)
    names = {p["name"] for p in declared}
    values: dict[str, str] = {}
    for key, value in given.items():
        value = _property_value(value)
        if key not in names:
            causes.add("properties", f"'{key}' is not a property of this integration")
        elif not isinstance(value, str) or len(value) > MAX_URL:
            causes.add("properties", f"'{key}' must be a string of at most {MAX_URL} characters")
        else:
            values[str(key)] = value
    for prop in declared:
        if prop["required"] and not values.get(prop["name"]):
            causes.add("properties", f"'{prop['name']}' is required")
    causes.raise_if_any()
    return values or None


def _property_value(value: object) -> object:
    """A property's value: a string (the spec's examples) or ``{"name"?, "value"}`` (the spec's
    ``AppPropertiesValue`` schema, which the okta SDK sends)."""
    if isinstance(value, Mapping) and set(value) <= {"name", "value"}:
        return value.get("value")
    return value
