"""Okta's ``filter`` and ``search`` expressions, parsed into a small immutable tree.

The grammar is the SCIM filter subset Okta documents for its list endpoints
(``GET /api/v1/users``, ``/api/v1/groups``, ``/api/v1/logs``; RFC 7644 § 3.4.2.2)::

    expression := term ("or" term)*
    term       := factor ("and" factor)*                  -- and binds tighter than or
    factor     := "(" expression ")" | "not" "(" expression ")" | comparison
    comparison := attribute "pr" | attribute operator value
    operator   := eq | ne | gt | ge | lt | le | sw | co   -- keywords are case-insensitive
    value      := "string" | number | true | false | null -- strings take JSON escapes

Attribute names are case-sensitive dotted paths (``status``, ``profile.firstName``,
``type.id``). Which attributes and operators an endpoint accepts is an
:class:`AttributePolicy`; the policy also says how string values compare (Okta's
``filter`` is case-sensitive, its ``search`` is not) and which attributes hold
timestamps, whose values are parsed here into UTC datetimes so that SQL compares
instants, not strings. Every refusal is ``Invalid`` with Okta's ``E0000031`` and one
cause naming the position (1-based, in characters) and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, NamedTuple, cast

from ostiary.domain.errors import Invalid
from ostiary.filter_ast import And, Comparison, ComparisonOp, FilterNode, Not, Or, Present, Value

ValueKind = Literal["string", "datetime", "any"]
CaseRule = Literal["exact", "ignore", "upper"]

MAX_BYTES = 4096
MAX_COMPARISONS = 50
MAX_DEPTH = 10

COMPARISON_OPERATORS: frozenset[str] = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "sw", "co"})
OPERATORS: frozenset[str] = COMPARISON_OPERATORS | {"pr"}
_ORDERING = frozenset({"gt", "ge", "lt", "le"})
_OPERATOR_LIST = "eq, ne, gt, ge, lt, le, sw, co, pr"
_VALUE_LIST = "a double-quoted string, a number, true, false or null"


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeRule:
    """What one attribute accepts.

    ``kind``: ``string`` values must be strings, ``datetime`` values ISO-8601 timestamps
    (parsed to UTC datetimes), ``any`` takes strings, numbers and booleans (profile
    attributes). ``null`` is accepted with ``eq``/``ne`` for every kind.
    ``case``: ``exact`` compares strings as they are; ``ignore`` sets
    ``Comparison.ignore_case``; ``upper`` is for attributes whose stored values are
    canonical upper case (``status``, group ``type``): the value is upper-cased here so
    the comparison stays exact and index-friendly while behaving case-insensitively.
    """

    operators: frozenset[str]
    kind: ValueKind = "string"
    case: CaseRule = "exact"


def _frozen(rules: Mapping[str, AttributeRule]) -> Mapping[str, AttributeRule]:
    return MappingProxyType(dict(rules))


@dataclass(frozen=True)
class AttributePolicy:
    """The attributes, operators and logic one query parameter accepts.

    ``attributes`` are exact names. ``patterns`` cover families of names: ``"profile.*"``
    matches one more path segment (``profile.firstName``), ``"debugContext.**"`` any
    number (``debugContext.debugData.requestUri``); exact names win over patterns, and
    the first matching pattern wins among patterns. ``name`` ("filter", "search")
    appears in error causes.
    """

    name: str
    attributes: Mapping[str, AttributeRule]
    patterns: Mapping[str, AttributeRule] = field(default_factory=lambda: MappingProxyType({}))
    allow_not: bool = False

    def rule_for(self, attr: str) -> AttributeRule | None:
        rule = self.attributes.get(attr)
        if rule is not None:
            return rule
        for pattern, candidate in self.patterns.items():
            if _matches(pattern, attr):
                return candidate
        return None


def _matches(pattern: str, attr: str) -> bool:
    if pattern.endswith(".**"):
        prefix = pattern[:-2]
        return attr.startswith(prefix) and len(attr) > len(prefix)
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        rest = attr[len(prefix) :]
        return attr.startswith(prefix) and bool(rest) and "." not in rest
    return pattern == attr


_EQ = frozenset({"eq"})
_EQ_ORDER = _EQ | _ORDERING
_SEARCH_SCALAR = frozenset({"eq", "sw", "pr"}) | _ORDERING
_SEARCH_CONTAINS = _SEARCH_SCALAR | {"co"}
_SEARCH_DATE = _EQ_ORDER | {"pr"}
_ALL = OPERATORS

USER_FILTER_POLICY = AttributePolicy(
    name="filter",
    attributes=_frozen(
        {
            "status": AttributeRule(_EQ),
            "id": AttributeRule(_EQ),
            "lastUpdated": AttributeRule(_EQ_ORDER, kind="datetime"),
            "profile.login": AttributeRule(_EQ),
            "profile.email": AttributeRule(_EQ),
            "profile.firstName": AttributeRule(_EQ),
            "profile.lastName": AttributeRule(_EQ),
        }
    ),
)
"""``GET /api/v1/users?filter=``: case-sensitive values, ``eq`` only (``lastUpdated`` also ordered)."""

USER_SEARCH_POLICY = AttributePolicy(
    name="search",
    attributes=_frozen(
        {
            "status": AttributeRule(_SEARCH_SCALAR, case="upper"),
            "id": AttributeRule(_SEARCH_SCALAR),
            "type.id": AttributeRule(_SEARCH_SCALAR),
            "created": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "lastUpdated": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "activated": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "statusChanged": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "profile.login": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
            "profile.email": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
            "profile.firstName": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
            "profile.lastName": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
        }
    ),
    patterns=_frozen({"profile.*": AttributeRule(_SEARCH_SCALAR, kind="any", case="ignore")}),
)
"""``GET /api/v1/users?search=``: case-insensitive string values; no ``ne`` (Okta: use
``lt ... or ... gt``); ``co`` only on login, email, firstName and lastName. Ids stay
case-sensitive (opaque keys)."""

GROUP_FILTER_POLICY = AttributePolicy(
    name="filter",
    attributes=_frozen(
        {
            "id": AttributeRule(_EQ),
            "type": AttributeRule(_EQ),
            "lastUpdated": AttributeRule(_EQ_ORDER, kind="datetime"),
            "lastMembershipUpdated": AttributeRule(_EQ_ORDER, kind="datetime"),
        }
    ),
)
"""``GET /api/v1/groups?filter=``: ``id``, ``type``, ``lastUpdated``, ``lastMembershipUpdated``."""

GROUP_SEARCH_POLICY = AttributePolicy(
    name="search",
    attributes=_frozen(
        {
            "id": AttributeRule(_SEARCH_SCALAR),
            "type": AttributeRule(_SEARCH_SCALAR, case="upper"),
            "created": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "lastUpdated": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "lastMembershipUpdated": AttributeRule(_SEARCH_DATE, kind="datetime"),
            "profile.name": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
            "profile.description": AttributeRule(_SEARCH_CONTAINS, kind="any", case="ignore"),
        }
    ),
    patterns=_frozen({"profile.*": AttributeRule(_SEARCH_SCALAR, kind="any", case="ignore")}),
)
"""``GET /api/v1/groups?search=``: any profile attribute; ``co`` only on name and description."""

_LOG_ANY = AttributeRule(_ALL, kind="any")
LOG_FILTER_POLICY = AttributePolicy(
    name="filter",
    attributes=_frozen(
        {
            "eventType": AttributeRule(_ALL),
            "legacyEventType": AttributeRule(_ALL),
            "uuid": AttributeRule(_ALL),
            "displayMessage": AttributeRule(_ALL),
            "severity": AttributeRule(_ALL),
            "published": AttributeRule(_EQ_ORDER | {"ne", "pr"}, kind="datetime"),
        }
    ),
    patterns=_frozen(
        {
            "actor.*": _LOG_ANY,
            "target.*": _LOG_ANY,
            "outcome.*": _LOG_ANY,
            "transaction.*": _LOG_ANY,
            "client.**": _LOG_ANY,
            "authenticationContext.**": _LOG_ANY,
            "securityContext.**": _LOG_ANY,
            "debugContext.**": _LOG_ANY,
            "request.**": _LOG_ANY,
        }
    ),
    allow_not=True,
)
"""``GET /api/v1/logs?filter=``: every operator and ``not`` ("all operators except [ ]");
values compare exactly."""


# --- tokens ---------------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: Literal["(", ")", "string", "number", "word", "end"]
    text: str
    value: Value
    pos: int  # 1-based character position


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


def _refuse(reason: str) -> Invalid:
    return Invalid("Invalid search criteria.", code="E0000031", causes=[reason])


def _describe(token: _Token) -> str:
    return "end of input" if token.kind == "end" else repr(token.text)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        char = text[i]
        if char in "()":
            tokens.append(_Token("(" if char == "(" else ")", char, None, i + 1))
            i += 1
        elif char == '"':
            value, end = _read_string(text, i)
            tokens.append(_Token("string", text[i:end], value, i + 1))
            i = end
        elif number := _NUMBER.match(text, i):
            tokens.append(_Token("number", number.group(), _number(number), i + 1))
            i = number.end()
        elif word := _WORD.match(text, i):
            tokens.append(_Token("word", word.group(), None, i + 1))
            i = word.end()
        else:
            hint = "; strings take double quotes" if char == "'" else ""
            raise _refuse(f"Unexpected character {char!r} at position {i + 1}{hint}.")
    tokens.append(_Token("end", "", None, len(text) + 1))
    return tokens


def _number(match: re.Match[str]) -> int | float:
    if match.group(1) or match.group(2):
        value = float(match.group())
        if value in (float("inf"), float("-inf")):
            raise _refuse(f"Number {match.group()} at position {match.start() + 1} is out of range.")
        return value
    value = int(match.group()) if len(match.group()) <= 20 else _INT64_MAX + 1
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise _refuse(f"Number {match.group()[:30]} at position {match.start() + 1} is out of range.")
    return value


_INT64_MAX = 2**63 - 1  # what a database integer holds: beyond it, binding the value fails


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Read the JSON string literal opening at ``start``; return its value and the index after it."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return _checked_string("".join(out), start), i + 1
        if char != "\\":
            out.append(char)
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        if escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            i += 2
        elif escape == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
        else:
            shown = "\\" + escape if escape else "\\"
            raise _refuse(f"Invalid escape {shown!r} in the string at position {i + 1}.")
    raise _refuse(f"Unterminated string starting at position {start + 1}; expected a closing '\"'.")


def _checked_string(value: str, start: int) -> str:
    try:
        value = value.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise _refuse(f"The string at position {start + 1} holds an unpaired surrogate.") from None
    if "\x00" in value:
        raise _refuse(f"The string at position {start + 1} holds a NUL character.")
    return value


# --- the parser -----------------------------------------------------------------------------


_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?")


def parse_filter(text: str, *, allowed: AttributePolicy) -> FilterNode:
    """Parse ``text`` into a tree, accepting only what ``allowed`` permits.

    Raises ``Invalid`` (``E0000031`` "Invalid search criteria.") with one specific cause.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _refuse(f"The {allowed.name} expression is longer than {MAX_BYTES} bytes.")
    if not text.strip():
        raise _refuse(f"The {allowed.name} expression is empty.")
    return _Parser(_tokenize(text), allowed).parse()


class _Parser:
    def __init__(self, tokens: list[_Token], policy: AttributePolicy) -> None:
        self._tokens = tokens
        self._at = 0
        self._policy = policy
        self._comparisons = 0

    def parse(self) -> FilterNode:
        node = self._expression(depth=0)
        token = self._peek()
        if token.kind != "end":
            raise _refuse(
                f"Expected 'and', 'or' or end of input at position {token.pos}, found {_describe(token)}."
            )
        return node

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _next(self) -> _Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind == "word" and token.text.lower() == word:
            self._at += 1
            return True
        return False

    def _expression(self, depth: int) -> FilterNode:
        node = self._term(depth)
        while self._keyword("or"):
            node = Or(node, self._term(depth))
        return node

    def _term(self, depth: int) -> FilterNode:
        node = self._factor(depth)
        while self._keyword("and"):
            node = And(node, self._factor(depth))
        return node

    def _factor(self, depth: int) -> FilterNode:
        token = self._peek()
        if token.kind == "(":
            return self._group(depth)
        if token.kind == "word" and token.text.lower() == "not":
            if not self._policy.allow_not:
                raise _refuse(f"'not' at position {token.pos} is not supported in {self._policy.name}.")
            self._at += 1
            if self._peek().kind != "(":
                found = self._peek()
                raise _refuse(f"Expected '(' after 'not' at position {found.pos}, found {_describe(found)}.")
            return Not(self._group(depth))
        return self._comparison()

    def _group(self, depth: int) -> FilterNode:
        opening = self._next()
        if depth + 1 > MAX_DEPTH:
            raise _refuse(f"Parentheses at position {opening.pos} nest deeper than {MAX_DEPTH} levels.")
        node = self._expression(depth + 1)
        closing = self._next()
        if closing.kind != ")":
            raise _refuse(
                f"Expected 'and', 'or' or ')' at position {closing.pos} to close the '(' at position "
                f"{opening.pos}, found {_describe(closing)}."
            )
        return node

    def _comparison(self) -> FilterNode:
        token = self._next()
        if token.kind != "word" or token.text.lower() in ("and", "or", "not"):
            raise _refuse(f"Expected an attribute name at position {token.pos}, found {_describe(token)}.")
        attr = token.text
        if not _ATTRIBUTE.fullmatch(attr):
            raise _refuse(f"Invalid attribute name {attr!r} at position {token.pos}.")
        rule = self._policy.rule_for(attr)
        if rule is None:
            raise _refuse(
                f"Attribute {attr!r} at position {token.pos} is not supported in {self._policy.name}."
            )
        op_token = self._next()
        op = op_token.text.lower()
        if op_token.kind != "word" or op not in OPERATORS:
            raise _refuse(
                f"Expected an operator ({_OPERATOR_LIST}) after {attr!r} at position {op_token.pos}, "
                f"found {_describe(op_token)}."
            )
        if op not in rule.operators:
            raise _refuse(
                f"Operator {op!r} at position {op_token.pos} is not supported for {attr!r} "
                f"in {self._policy.name}."
            )
        self._count(token)
        if op == "pr":
            return Present(attr)
        value_token = self._next()
        return self._compare(attr, rule, cast(ComparisonOp, op), value_token)

    def _count(self, token: _Token) -> None:
        self._comparisons += 1
        if self._comparisons > MAX_COMPARISONS:
            raise _refuse(f"More than {MAX_COMPARISONS} comparisons (at position {token.pos}).")

    def _compare(self, attr: str, rule: AttributeRule, op: ComparisonOp, token: _Token) -> Comparison:
        value = _literal(token)
        if value is None and op not in ("eq", "ne"):
            raise _refuse(f"Operator {op!r} cannot compare with null (position {token.pos}).")
        if op in ("sw", "co") and not isinstance(value, str):
            raise _refuse(f"Operator {op!r} needs a string value at position {token.pos}.")
        if op in _ORDERING and isinstance(value, bool):
            raise _refuse(f"Operator {op!r} needs a string, number or date value at position {token.pos}.")
        if rule.kind == "datetime" and value is not None:
            return Comparison(attr, op, _timestamp(attr, value, token))
        if rule.kind == "string" and value is not None and not isinstance(value, str):
            raise _refuse(f"{attr!r} needs a string value at position {token.pos}, found {token.text}.")
        if isinstance(value, str) and rule.case == "upper":
            value = value.upper()
        ignore_case = isinstance(value, str) and rule.case == "ignore"
        return Comparison(attr, op, value, ignore_case=ignore_case)


def _literal(token: _Token) -> Value:
    if token.kind in ("string", "number"):
        return token.value
    if token.kind == "word":
        word = token.text.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        raise _refuse(f"Expected a value ({_VALUE_LIST}) at position {token.pos}, found {token.text!r}.")
    raise _refuse(f"Expected a value ({_VALUE_LIST}) at position {token.pos}, found {_describe(token)}.")


def _timestamp(attr: str, value: Value, token: _Token) -> datetime:
    """An ISO-8601 date-time (``2013-06-01T00:00:00.000Z``) as an aware UTC datetime; no zone means UTC."""
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    parsed: datetime | None = None
    if match and isinstance(value, str):
        fraction = match.group(1)
        normalised = value
        if fraction is not None and len(fraction) > 6:
            normalised = value.replace("." + fraction, "." + fraction[:6], 1)
        try:
            parsed = datetime.fromisoformat(normalised.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise _refuse(
            f'{attr!r} needs an ISO-8601 date-time like "2013-06-01T00:00:00.000Z" at position '
            f"{token.pos}, found {token.text}."
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
