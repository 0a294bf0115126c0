"""``fields=`` on user lists: Okta's field projection (``id,status,profile:(firstName,city)``).

Top-level members are named by their JSON names, profile attributes inside one ``profile:(...)``
directive (a bare ``profile`` keeps the whole profile). ``id`` is always returned; everything
else that is not named, ``_links`` included, is left out, as in the spec's example. A name the
object does not have is simply absent from the answer; a malformed list is refused (E0000001).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ostiary.domain.errors import Invalid

MAX_LENGTH = 2048
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,99}")
_PROFILE = re.compile(r"profile\s*:\s*\(([^()]*)\)")


@dataclass(frozen=True)
class Projection:
    """What to keep: top-level names, and profile attributes (None: the whole profile)."""

    top: frozenset[str]
    profile: frozenset[str] | None


def _invalid(cause: str) -> Invalid:
    return Invalid("Api validation failed: fields", code="E0000001", causes=[f"fields: {cause}"])


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if not _NAME.fullmatch(name):
            raise _invalid(f"'{name}' is not a field name" if name else "an empty field name")
    return names


def parse_fields(value: str | None) -> Projection | None:
    """The projection ``fields`` asks for; None when there is no ``fields`` parameter."""
    if value is None:
        return None
    if len(value) > MAX_LENGTH:
        raise _invalid("is too long")
    directives = _PROFILE.findall(value)
    if len(directives) > 1:
        raise _invalid("profile:(...) may appear once")
    rest = _PROFILE.sub("", value)
    if "(" in rest or ")" in rest or ":" in rest:
        raise _invalid("only profile:(...) takes sub-fields")
    top = {name for name in (part.strip() for part in rest.split(",")) if name}
    for name in top:
        if not _NAME.fullmatch(name):
            raise _invalid(f"'{name}' is not a field name")
    if not top and not directives:
        raise _invalid("no field named")
    profile: frozenset[str] | None = None
    if directives:
        profile = frozenset(_names(directives[0]))
        top.add("profile")
    elif "profile" not in top:
        profile = frozenset()
    return Projection(top=frozenset(top) | {"id"}, profile=profile)


def project(body: Mapping[str, Any], projection: Projection) -> dict[str, Any]:
    """``body`` (a rendered object) cut down to ``projection``, in the object's own order."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key not in projection.top:
            continue
        if key == "profile" and projection.profile is not None and isinstance(value, Mapping):
            value = {name: value[name] for name in value if name in projection.profile}
        out[key] = value
    return out
