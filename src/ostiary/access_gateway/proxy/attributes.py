"""Header hygiene and the app's attributes.

Before anything reaches an upstream, every header and every cookie the client sent whose
name is one of the app's attribute names (any type, active or not) is removed, compared
case-insensitively with ``_`` and ``-`` taken as the same character (CGI and WSGI stacks
map both to one environ key): a client can never forge what the app trusts. The gateway's
own session cookie and ``X-Ostiary-Assertion`` are removed too. Then the session's
attributes are added, on paths whose policy sends identity.

Values by ``source``: ``IDP`` a profile field (Okta names such as ``firstName`` or
``login`` are read from the matching ID token claim, ``given_name`` or
``preferred_username``; a claim name works too); ``STATIC`` the value itself;
``AUTH_CONTEXT`` one of ``groups``, ``login``/``username``, ``userId``, ``email``,
``remoteAddress``, ``sessionId``, ``authTime``. A value with several parts (a list, or a
string with ``,``) goes through ``multiValueProcessor``: ``SELECT_INDEX`` (the ``index``-th,
the default, index 0), ``SELECT_ALL`` (joined by ``delimiter``), ``RECORD_COUNT``.
Header values outside printable ASCII are percent-encoded: no value can split a header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ostiary.access_gateway.proxy.assertion import HEADER as ASSERTION_HEADER
from ostiary.access_gateway.proxy.config import Attribute, ProxyApp
from ostiary.access_gateway.proxy.sessions import GatewaySession

Headers = list[tuple[bytes, bytes]]

OKTA_PROFILE_CLAIMS = {
    "login": "preferred_username",
    "username": "preferred_username",
    "firstname": "given_name",
    "lastname": "family_name",
    "middlename": "middle_name",
    "nickname": "nickname",
    "displayname": "name",
    "email": "email",
    "locale": "locale",
    "timezone": "zoneinfo",
    "profileurl": "profile",
    "mobilephone": "phone_number",
    "primaryphone": "phone_number",
}


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""RFC 9110 token: what a header or cookie name may be; an attribute with another name is
never sent (still stripped from what clients send)."""


NEVER_SET: frozenset[str] = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "cookie",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-ostiary-assertion",
    }
)
"""Header names an attribute can never set: they frame the request, route it, or are the
gateway's own."""


def fold(name: str | bytes) -> str:
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    return text.strip().lower().replace("_", "-")


def reserved_names(app: ProxyApp) -> frozenset[str]:
    """Folded names no client-sent header or cookie may carry to the upstream."""
    return frozenset(fold(a.name) for a in app.attributes) | {fold(ASSERTION_HEADER)}


def header_value(text: str) -> str:
    if not (text.isascii() and text.isprintable()):
        return quote(text, safe=" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~")
    return text


def clean_cookie_header(value: str, reserved: frozenset[str], own_cookies: Iterable[str]) -> str:
    own = {fold(name) for name in own_cookies}
    kept = []
    for pair in value.split(";"):
        name = pair.split("=", 1)[0]
        if not pair.strip() or fold(name) in reserved or fold(name) in own:
            continue
        kept.append(pair.strip())
    return "; ".join(kept)


def _parts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    text = str(value)
    return [part.strip() for part in text.split(",")] if "," in text else [text]


def _processed(attribute: Attribute, value: Any) -> str | None:
    parts = _parts(value)
    kind = attribute.multi_value
    if kind == "RECORD_COUNT":
        return str(len(parts))
    if not parts:
        return None
    if kind == "SELECT_ALL":
        return attribute.delimiter.join(parts)
    return parts[attribute.index] if attribute.index < len(parts) else None


def idp_value(claims: Mapping[str, Any], field: str) -> Any:
    if field in claims:
        return claims[field]
    claim = OKTA_PROFILE_CLAIMS.get(field.lower())
    return claims.get(claim) if claim else None


def auth_context(session: GatewaySession, remote: str | None) -> dict[str, Any]:
    return {
        "groups": list(session.groups),
        "login": session.login,
        "username": session.login,
        "userid": session.user_id,
        "sub": session.user_id,
        "email": session.email,
        "remoteaddress": remote,
        "remoteip": remote,
        "sessionid": session.public_id,
        "authtime": session.claims.get("auth_time"),
    }


def attribute_value(attribute: Attribute, session: GatewaySession, remote: str | None) -> str | None:
    if attribute.source == "STATIC":
        raw: Any = attribute.value
    elif attribute.source == "IDP":
        raw = idp_value(session.claims, attribute.value)
    elif attribute.source == "AUTH_CONTEXT":
        raw = auth_context(session, remote).get(attribute.value.lower().replace("_", ""))
    else:  # SECRET, APP_CONTEXT, OID: not supported; never sent
        return None
    value = _processed(attribute, raw)
    return None if value is None else header_value(value)


def session_attributes(
    app: ProxyApp, session: GatewaySession, remote: str | None
) -> tuple[Headers, list[str]]:
    """The session's HEADER attributes as headers and its COOKIE attributes as
    ``name=value`` pairs."""
    headers: Headers = []
    cookies: list[str] = []
    for attribute in app.attributes:
        if not attribute.active or not _TOKEN.fullmatch(attribute.name):
            continue
        if attribute.type != "COOKIE" and fold(attribute.name) in NEVER_SET:
            continue
        value = attribute_value(attribute, session, remote)
        if value is None:
            continue
        if attribute.type == "COOKIE":
            cookies.append(f"{attribute.name}={quote(value, safe='')}")
        else:
            headers.append((attribute.name.lower().encode("latin-1"), value.encode("latin-1")))
    return headers, cookies


def rule_data(app: ProxyApp, session: GatewaySession, remote: str | None) -> dict[str, str]:
    """The session as the text a ``regexRule`` is matched against (see :mod:`.rules`)."""
    data: dict[str, str] = {}
    for name, value in session.claims.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            data[name.lower()] = str(value)
    for attribute in app.attributes:
        value = attribute_value(attribute, session, remote)
        if value is not None:
            data[attribute.name.lower()] = value
    data.update(
        {
            "username": session.login,
            "userid": session.user_id,
            "email": session.email or "",
            "groups": "".join(f"{g}:" for g in session.groups),
            "remoteip": remote or "",
        }
    )
    return data
