"""The standard claims of OpenID Connect Core §5.1, released by scope (§5.4), from an Okta profile.

``profile`` → name, given/family/middle name, nickname, preferred_username, profile, zoneinfo,
locale, updated_at; ``email`` → email, email_verified; ``address`` → address; ``phone`` →
phone_number. The same mapping feeds the ID token and ``/userinfo``; a claim whose profile
attribute is empty is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ostiary.domain.tokens.token_user import TokenUser

OIDC_SCOPES: Final = ("openid", "profile", "email", "address", "phone", "offline_access", "groups")
"""The scopes the org authorization server grants to its apps (Okta's OIDC scopes)."""

SCOPE_CLAIMS: Final = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number",),
}

_ADDRESS: Final = (
    ("street_address", "streetAddress"),
    ("locality", "city"),
    ("region", "state"),
    ("postal_code", "zipCode"),
    ("country", "countryCode"),
)


def _text(profile: Mapping[str, Any], name: str) -> str | None:
    value = profile.get(name)
    return value if isinstance(value, str) and value else None


def display_name(user: TokenUser) -> str:
    """``displayName``, else first and last name, else the login (what Okta shows as ``name``)."""
    profile = user.profile or {}
    explicit = _text(profile, "displayName")
    if explicit:
        return explicit
    parts = [_text(profile, "firstName"), _text(profile, "lastName")]
    return " ".join(p for p in parts if p) or user.login


def _locale(profile: Mapping[str, Any]) -> str | None:
    value = _text(profile, "locale")
    return value.replace("_", "-") if value else None


def _address(profile: Mapping[str, Any]) -> dict[str, str] | None:
    address = {claim: value for claim, attr in _ADDRESS if (value := _text(profile, attr))}
    return address or None


def _all_claims(user: TokenUser) -> dict[str, Any]:
    profile = user.profile or {}
    updated = user.last_updated
    return {
        "name": display_name(user),
        "family_name": _text(profile, "lastName"),
        "given_name": _text(profile, "firstName"),
        "middle_name": _text(profile, "middleName"),
        "nickname": _text(profile, "nickName"),
        "preferred_username": user.login,
        "profile": _text(profile, "profileUrl"),
        "zoneinfo": _text(profile, "timezone"),
        "locale": _locale(profile),
        "updated_at": int(updated.timestamp()) if updated is not None else None,
        "email": _text(profile, "email"),
        "email_verified": user.email_verified if _text(profile, "email") else None,
        "address": _address(profile),
        "phone_number": _text(profile, "mobilePhone") or _text(profile, "primaryPhone"),
    }


def claims_for_scopes(user: TokenUser, scopes: Iterable[str]) -> dict[str, Any]:
    """The standard claims ``scopes`` release for ``user``, empty ones left out."""
    values = _all_claims(user)
    released: dict[str, Any] = {}
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ()):
            value = values.get(name)
            if value is not None:
                released[name] = value
    return released
