"""A page of ``GET /api/v1/users`` rendered straight to bytes from the columns it shows.

Why: a page of 200 users loaded as ORM objects and rendered through ``directory_json.user_json``
cost 19-24 ms of the event loop's CPU per request on the 2-core VM (py-spy: hydrating ``User``
objects, one ``strftime`` per timestamp — 12 % of the samples alone — and eight link dicts per
user), which is most of a ``search=profile.login sw "…"`` request at any directory size. Here
one Core ``SELECT`` fetches only the columns the JSON needs (the password hash and recovery
answer never leave the database: only whether there is a password, and the question), each
user is one ``orjson`` dump of the fields and its ``_links`` are spliced in from a template
made once per status and page. Measured gain: see ``docs/performance.md`` ("Directory at
scale").

The bytes are exactly ``compact_json.dumps([user_json(u, base) for u in users])`` — the same
members in the same order (``tests/unit/management/test_user_page_render.py`` compares them);
``user_json`` stays the one definition of a single user's shape, for every other answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Row, Text, cast

from ostiary.compact_json import dumps
from ostiary.domain.directory import users as users_domain
from ostiary.store.models import User

COLUMNS = (
    User.id,
    User.status,
    User.created,
    User.activated,
    User.status_changed,
    User.last_login,
    User.last_updated,
    User.password_changed,
    User.transitioning_to_status,
    User.type_id,
    cast(User.profile, Text).label("profile_text"),
    User.password_hash.is_not(None).label("has_password"),
    User.recovery_question["question"].as_string().label("question"),
    User.email_lower,
    User.verified_email_lower,
)
"""What a user's JSON shows, for ``users.list_user_rows``."""

_PROVIDER = {"type": "OKTA", "name": "OKTA"}
_ID, _TYPE = "\x01", "\x02"
_ID_BYTES, _TYPE_BYTES = b"\\u0001", b"\\u0002"
"""Placeholders in a links template, as orjson writes them (ids are letters and digits)."""


def _inner(text: str) -> bytes:
    """``text`` as the inside of a JSON string."""
    return orjson.dumps(text)[1:-1]


def render_users(rows: Sequence[Row[Any]], base: str) -> bytes:
    """The JSON array of ``rows`` (of :data:`COLUMNS`), as ``user_json`` would write each user."""
    templates: dict[str, bytes] = {}
    parts = []
    for row in rows:
        status = row.status
        template = templates.get(status)
        if template is None:
            template = templates[status] = _links_template(status, base)
        body = dumps(_fields(row))
        links = template.replace(_ID_BYTES, _inner(row.id)).replace(_TYPE_BYTES, _inner(row.type_id))
        parts.append(body[:-1] + b',"_links":' + links + b"}")
    return b"[" + b",".join(parts) + b"]"


def _fields(row: Row[Any]) -> dict[str, Any]:
    profile = _profile(row.profile_text)
    credentials: dict[str, Any] = {"provider": _PROVIDER}
    if row.has_password:
        credentials["password"] = {}
    if isinstance(row.question, str):
        credentials["recovery_question"] = {"question": row.question}
    email = profile.get("email")
    if email:
        verified = row.email_lower is not None and row.email_lower == row.verified_email_lower
        credentials["emails"] = [{"value": email, "status": "VERIFIED" if verified else "UNVERIFIED",
                                  "type": "PRIMARY"}]  # fmt: skip
    return {
        "id": row.id,
        "status": row.status,
        "created": iso(row.created),
        "activated": iso(row.activated),
        "statusChanged": iso(row.status_changed),
        "lastLogin": iso(row.last_login),
        "lastUpdated": iso(row.last_updated),
        "passwordChanged": iso(row.password_changed),
        "transitioningToStatus": row.transitioning_to_status,
        "type": {"id": row.type_id},
        "profile": profile,
        "credentials": credentials,
    }


def _profile(text: str) -> dict[str, Any]:
    """The stored profile, in its stored member order (as the ORM's ``json.loads`` reads it)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses (integers past 64 bits): json's reading
        value = json.loads(text)
    return value if isinstance(value, dict) else {}


_ISO = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def iso(value: datetime | None) -> str | None:
    """``timeutil.iso`` (milliseconds, ``Z``) through orjson's datetime writer: 2.5 µs where
    ``strftime`` took 21 and ``isoformat(timespec=…)`` 11 (six timestamps a user, 1,200 a page)."""
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = orjson.dumps(value, option=_ISO)  # b'"YYYY-MM-DDTHH:MM:SS[.ffffff]Z"'
    if len(text) == 22:  # no fraction: orjson leaves out a zero microsecond
        return text[1:20].decode() + ".000Z"
    return text[1:24].decode() + "Z"


def _links_template(status: str, base: str) -> bytes:
    """``_links`` of a user in ``status``, with placeholders for the id and the type id."""
    href = f"{base}/api/v1/users/{_ID}"

    def link(path: str, method: str | None = None) -> dict[str, str]:
        return {"href": href + path, "method": method} if method else {"href": href + path}

    links: dict[str, Any] = {"self": link("")}
    if status in (users_domain.STAGED, users_domain.DEPROVISIONED):
        links["activate"] = link("/lifecycle/activate", "POST")
    if status == users_domain.ACTIVE:
        links["suspend"] = link("/lifecycle/suspend", "POST")
        links["resetPassword"] = link("/lifecycle/reset_password", "POST")
        links["expirePassword"] = link("/lifecycle/expire_password", "POST")
        links["changePassword"] = link("/credentials/change_password", "POST")
        links["changeRecoveryQuestion"] = link("/credentials/change_recovery_question", "POST")
    if status == users_domain.SUSPENDED:
        links["unsuspend"] = link("/lifecycle/unsuspend", "POST")
    if status == users_domain.LOCKED_OUT:
        links["unlock"] = link("/lifecycle/unlock", "POST")
    if status == users_domain.PROVISIONED:
        links["reactivate"] = link("/lifecycle/reactivate", "POST")
    if status != users_domain.DEPROVISIONED:
        links["deactivate"] = link("/lifecycle/deactivate", "POST")
    links["type"] = {"href": f"{base}/api/v1/meta/types/user/{_TYPE}"}
    return dumps(links)
