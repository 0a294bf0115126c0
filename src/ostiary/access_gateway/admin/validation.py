"""Checking request bodies against the spec's schemas: unknown members, types, enums, ranges,
URL patterns and regexes. A failure is a 400 naming every bad member; nothing is written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import re2

from ostiary.access_gateway.admin.errors import bad_request

MAX_BODY_BYTES = 256 * 1024

URL_WITH_PATH = re.compile(r"^https?://[a-zA-Z0-9.-]+(:[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$")
ORIGIN_URL = re.compile(r"^https?://[a-zA-Z0-9.-]+(:[0-9]{1,5})?/?$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Field:
    kind: str  # string, boolean, integer, number, strings, uuid, object
    enum: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    read_only: bool = False
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None


Schema = Mapping[str, Field]


async def read_json(request: Any) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise bad_request("Request body is too large")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Request body is not valid JSON") from None


def validate(
    body: Any, schema: Schema, *, required: tuple[str, ...] = (), ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The writable members of ``body``; read-only members are accepted and dropped (clients
    send back what they read), members named in ``ignore`` are dropped too."""
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in body.items():
        spec = schema.get(name)
        if spec is None:
            if name not in ignore:
                problems[name] = "unknown property"
            continue
        if spec.read_only:
            continue
        problem = _check(value, spec)
        if problem:
            problems[name] = problem
        else:
            clean[name] = value
    for name in required:
        if body.get(name) is None and name not in problems:
            problems[name] = "is required"
    if problems:
        raise bad_request("Request validation failed", **problems)
    return clean


def _check(value: Any, spec: Field) -> str | None:
    if value is None:
        return None if spec.nullable else "must not be null"
    problem = _type_problem(value, spec)
    if problem is None and spec.check is not None:
        problem = spec.check(value)
    return problem


def _type_problem(value: Any, spec: Field) -> str | None:
    if spec.kind == "boolean":
        return None if isinstance(value, bool) else "must be a boolean"
    if spec.kind in ("integer", "number"):
        allowed = (int,) if spec.kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            return f"must be an {spec.kind}" if spec.kind == "integer" else "must be a number"
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum}"
        return None
    if spec.kind == "object":
        return None if isinstance(value, dict) else "must be an object"
    if spec.kind == "strings":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "must be an array of strings"
        return None
    if not isinstance(value, str):
        return "must be a string"
    if spec.kind == "uuid" and not is_uuid(value):
        return "must be a UUID"
    if spec.enum and value not in spec.enum:
        return f"must be one of {', '.join(spec.enum)}"
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        return "has an invalid format"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"must be at most {spec.max_length} characters"
    return None


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def compile_regex(pattern: str, *, case_sensitive: bool = True) -> Any:
    """A linear-time (RE2) regex; ``ValueError`` when it does not compile."""
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    try:
        return re2.compile(pattern, options)
    except Exception as exc:  # re2 raises its own error type
        raise ValueError(str(exc)) from None


def regex_problem(value: Any) -> str | None:
    try:
        compile_regex(value)
    except ValueError:
        return "is not a valid regular expression"
    return None
