"""Okta's default user profile schema: base attributes plus custom attributes kept as JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ostiary.domain.errors import Invalid

BASE_ATTRIBUTES = (
    "login",
    "email",
    "secondEmail",
    "firstName",
    "lastName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "title",
    "displayName",
    "nickName",
    "profileUrl",
    "primaryPhone",
    "mobilePhone",
    "streetAddress",
    "city",
    "state",
    "zipCode",
    "countryCode",
    "postalAddress",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "managerId",
    "manager",
)
REQUIRED = ("login", "email", "firstName", "lastName")
ALWAYS_PRESENT = ("firstName", "lastName", "mobilePhone", "secondEmail", "login", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_ATTR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_MAX_VALUE = 1024
_MAX_ATTRS = 200


def validate_profile(raw: object, *, require: bool = True) -> dict[str, Any]:
    """Check a profile and return a normalised copy; raise Okta's E0000001 listing every cause."""
    if not isinstance(raw, Mapping):
        raise Invalid(
            "Api validation failed: profile", code="E0000001", causes=["profile: must be an object"]
        )
    causes: list[str] = []
    profile: dict[str, Any] = {}
    if len(raw) > _MAX_ATTRS:
        causes.append(f"profile: at most {_MAX_ATTRS} attributes")
    for key, value in raw.items():
        if not isinstance(key, str) or not _ATTR_NAME.match(key):
            causes.append(f"{key}: Property name is not valid")
            continue
        if not _valid_value(value):
            causes.append(f"{key}: Does not match required type")
            continue
        profile[key] = value.strip() if isinstance(value, str) and key in ("login", "email") else value
    if require:
        causes += [f"{attr}: The field cannot be left blank" for attr in REQUIRED if not profile.get(attr)]
    for attr in ("login", "email", "secondEmail"):
        value = profile.get(attr)
        if value and (not isinstance(value, str) or not _EMAIL.match(value)):
            message = (
                "Username must be in the form of an email address"
                if attr == "login"
                else ("Does not match required pattern")
            )
            causes.append(f"{attr}: {message}")
    for attr in ("firstName", "lastName", "login", "email"):
        value = profile.get(attr)
        if value is not None and not isinstance(value, str):
            causes.append(f"{attr}: Does not match required type")
    if causes:
        field = causes[0].split(":", 1)[0]
        raise Invalid(f"Api validation failed: {field}", code="E0000001", causes=causes)
    for attr in ALWAYS_PRESENT:
        profile.setdefault(attr, None)
    return profile


def _valid_value(value: object) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return len(value) <= _MAX_VALUE
    if isinstance(value, list):
        return len(value) <= 100 and all(
            isinstance(v, str | int | float | bool) and (not isinstance(v, str) or len(v) <= _MAX_VALUE)
            for v in value
        )
    return False
