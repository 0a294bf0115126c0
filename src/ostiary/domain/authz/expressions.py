r"""Okta Expression Language: the subset custom claims use, parsed once and evaluated safely.

An expression is tokenized and parsed (recursive descent, no ``eval``) into an immutable
tree when a claim is created; every function name, argument count, literal regex and
literal group limit is checked then, so a bad expression is refused with
:class:`ExpressionError` at creation and never surprises a token request. Grammar,
lowest precedence first::

    expression := or ("?" expression ":" expression)?      -- ternary, nests to the right
    or         := and (("OR" | "or" | "||") and)*
    and        := equality (("AND" | "and" | "&&") equality)*
    equality   := relation (("==" | "!=") relation)?
    relation   := additive (("<" | ">" | "<=" | ">=") additive)?
    additive   := unary (("+" | "-") unary)*
    unary      := ("!" | "-") unary | primary
    primary    := literal | "(" expression ")" | "{" [expression ("," expression)*] "}"
                | reference | function "(" [expression ("," expression)*] ")"
    reference  := ("user" ["." "profile"] | "app" | "appuser" | "org") "." name

Literals: ``'single'`` or ``"double"`` quoted strings (a doubled quote stands for itself,
as in SpEL; ``\\ \" \' \n \r \t \uXXXX`` are escapes and any other backslash is kept,
so ``"\d+"`` is the regex it looks like), integers and decimals, ``true``, ``false``,
``null`` (keywords are case-insensitive). ``{"a", "b"}`` is an inline list.

Evaluation raises nothing but :class:`ExpressionEvaluationError`, and that only for a
type error or an exceeded limit (a string over :data:`MAX_STRING_LENGTH`, a regex input
over :data:`MAX_REGEX_SUBJECT_LENGTH`); missing data is not an error:

- a missing attribute is ``null``; string functions given ``null`` return ``null``
  (``String.len`` gives 0, ``stringContains``/``startsWith`` give false), array functions
  treat ``null`` as an empty list;
- ``+`` adds when both sides are numbers and otherwise concatenates, with ``null`` as
  ``""``, booleans as ``true``/``false``; ``-`` needs two numbers;
- ``AND``, ``OR``, ``!`` and ``?:`` take booleans, ``null`` counting as false;
- ``==``/``!=`` compare any values (a boolean never equals a number); ``<`` and friends
  compare two numbers or two strings;
- group functions compare names case-insensitively (as group filters do) and ids
  exactly; ``isMemberOfGroupNameRegex`` must match the whole name.

A claim whose value evaluates to ``null`` is left out of the token, as Okta does. When
evaluation raises :class:`ExpressionEvaluationError` (e.g. a list concatenated to a
string, or a ``Groups.*`` limit outside 1..100 computed at run time) the caller leaves the
claim out and logs the message. (Okta fails the whole request instead, with "The
'<claim>' user claim could not be evaluated."; a caller wanting that can raise it.)

Regular expressions run on RE2 (``google-re2``), which matches in time linear in the input:
no pattern can backtrack catastrophically, so there is no screen and no timeout to tune.
RE2 is close to Java's syntax (``\w`` and ``\d`` are ASCII as in Java, named groups are
``(?<name>...)``); what it cannot run (backreferences, lookaround, possessive
quantifiers, atomic groups) is refused with :class:`ExpressionError` when a literal pattern
is parsed, and a pattern computed at run time that RE2 refuses is an
:class:`ExpressionEvaluationError`. ``String.replace`` takes Java's replacement syntax
(``$1``, ``${name}``, ``\$``). Patterns are at most :data:`MAX_REGEX_LENGTH` characters and
never run on a string longer than :data:`MAX_REGEX_SUBJECT_LENGTH` (Okta's group names are at
most 255 characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import ge, gt, le, lt
from typing import Any, Final, Protocol, TypeGuard

import re2

from ostiary.domain.errors import DomainError, Invalid

MAX_SOURCE_LENGTH: Final = 1024
MAX_DEPTH: Final = 32
MAX_REGEX_LENGTH: Final = 256
MAX_REGEX_SUBJECT_LENGTH: Final = 256
MAX_STRING_LENGTH: Final = 65536
MAX_GROUPS_LIMIT: Final = 100

GROUP_FILTER_TYPES: Final = frozenset({"STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"})
OKTA_GROUP_SOURCE: Final = "OKTA"


# --- errors and inputs ----------------------------------------------------------------------


@dataclass
class ExpressionError(Invalid):
    """The expression (or group filter) is refused; ``position`` is 1-based when known."""

    position: int | None = None


class ExpressionEvaluationError(DomainError):
    """A type error or exceeded limit found while evaluating; the caller omits the claim."""


@dataclass(frozen=True, slots=True)
class GroupRef:
    """One of the user's groups. ``source`` is ``OKTA`` or the app (id or type) it comes from."""

    id: str
    name: str
    source: str = OKTA_GROUP_SOURCE


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What an expression may read. ``user`` is flat: profile attributes plus id, status..."""

    user: Mapping[str, object] = field(default_factory=dict)
    app: Mapping[str, object] = field(default_factory=dict)
    appuser: Mapping[str, object] = field(default_factory=dict)
    org: Mapping[str, object] = field(default_factory=dict)
    groups: Sequence[GroupRef] = ()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _refuse(detail: str, position: int | None = None) -> ExpressionError:
    """The refusal; ``position`` is a 0-based index into the source, reported 1-based."""
    if position is None:
        return ExpressionError(detail, code="E0000001", causes=[detail])
    message = f"{detail} at position {position + 1}"
    return ExpressionError(message, code="E0000001", causes=[message], position=position + 1)


# --- values ---------------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_list(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(value, list | tuple)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if _is_list(value):
        return "array"
    return "object"


def _stringify(value: object) -> str:
    """Java's string conversion for concatenation, with ``null`` as the empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ExpressionEvaluationError(f"Cannot use a value of type {_type_name(value)} as a string")


def _checked(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise ExpressionEvaluationError(f"String result longer than {MAX_STRING_LENGTH} characters")
    return text


def _equals(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_list(left) and _is_list(right):
        return len(left) == len(right) and all(_equals(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def _condition(value: object, where: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ExpressionEvaluationError(f"{where} needs a boolean, got {_type_name(value)}")


# --- regular expressions --------------------------------------------------------------------


class _Match(Protocol):
    def start(self) -> int: ...
    def end(self) -> int: ...
    def group(self, index: int, /) -> str | None: ...


class _Pattern(Protocol):
    """What the expression language uses of a compiled RE2 pattern (``re2._Regexp``)."""

    @property
    def groups(self) -> int: ...
    @property
    def groupindex(self) -> Mapping[str, int]: ...
    def finditer(self, text: str) -> Iterable[_Match]: ...
    def fullmatch(self, text: str) -> _Match | None: ...
    def __hash__(self) -> int: ...


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the admin, not to stderr

# What Java (Okta) has and RE2 cannot run in linear time, by RE2's error text.
_UNSUPPORTED_HINTS: Final = (
    (("(?=", "(?!", "(?<=", "(?<!"), "lookaround assertions are not supported"),
    (
        ("\\1", "\\2", "\\3", "\\4", "\\5", "\\6", "\\7", "\\8", "\\9", "\\k"),
        "backreferences are not supported",
    ),
    (("++", "*+", "?+", "}+"), "possessive quantifiers are not supported"),
    (("(?>",), "atomic groups are not supported"),
)


def _re2_problem(detail: str) -> str:
    for markers, hint in _UNSUPPORTED_HINTS:
        if any(marker in detail for marker in markers):
            return f"invalid regex: {hint} (regexes run on RE2, which matches in linear time): {detail}"
    return f"invalid regex (RE2 syntax): {detail}"


@lru_cache(maxsize=512)
def _compile_regex(pattern: str) -> _Pattern:
    """Compile an admin-supplied regex with RE2; raises ValueError with a reason when refused.

    RE2 matches in time linear in the input, so no pattern can stall the event loop; the
    price is that backreferences, lookaround, possessive quantifiers and atomic groups (which
    Java has) are refused, at save time for literal patterns.
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"regex longer than {MAX_REGEX_LENGTH} characters")
    try:
        compiled: _Pattern = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise ValueError(_re2_problem(detail)) from None
    return compiled


def _runtime_regex(pattern: str) -> _Pattern:
    try:
        return _compile_regex(pattern)
    except ValueError as exc:
        raise ExpressionEvaluationError(str(exc)) from None


def _regex_subject(text: str) -> str:
    if len(text) > MAX_REGEX_SUBJECT_LENGTH:
        raise ExpressionEvaluationError(f"Regex input longer than {MAX_REGEX_SUBJECT_LENGTH} characters")
    return text


_Replacement = tuple[str | int, ...]
_DIGITS = frozenset("0123456789")


def _parse_replacement(replacement: str, pattern: _Pattern) -> _Replacement:
    """Java's ``Matcher.replaceAll`` syntax: ``$n``, ``${name}``, backslash quotes the next char."""
    parts: list[str | int] = []
    literal: list[str] = []
    i, n = 0, len(replacement)
    while i < n:
        char = replacement[i]
        if char == "\\":
            if i + 1 >= n:
                raise ValueError("replacement ends with a backslash")
            literal.append(replacement[i + 1])
            i += 2
        elif char == "$":
            group, i = _group_reference(replacement, i + 1, pattern)
            parts.append("".join(literal))
            literal.clear()
            parts.append(group)
        else:
            literal.append(char)
            i += 1
    parts.append("".join(literal))
    return tuple(part for part in parts if part != "")


def _group_reference(replacement: str, i: int, pattern: _Pattern) -> tuple[int, int]:
    if i < len(replacement) and replacement[i] == "{":
        close = replacement.find("}", i)
        name = replacement[i + 1 : close] if close != -1 else ""
        if name not in pattern.groupindex:
            raise ValueError(f"no group named {name!r} in the regex")
        return pattern.groupindex[name], close + 1
    if i >= len(replacement) or replacement[i] not in _DIGITS:
        raise ValueError("'$' in a replacement must be followed by a group number or {name}")
    group = int(replacement[i])
    i += 1
    while i < len(replacement) and replacement[i] in _DIGITS:
        wider = group * 10 + int(replacement[i])
        if wider > pattern.groups:
            break
        group, i = wider, i + 1
    if group > pattern.groups:
        raise ValueError(f"no group {group} in the regex")
    return group, i


@lru_cache(maxsize=256)
def _compile_replacement(replacement: str, pattern: _Pattern) -> _Replacement:
    return _parse_replacement(replacement, pattern)


def _replace(text: str, pattern: _Pattern, replacement: str, *, first_only: bool) -> str:
    try:
        parts = _compile_replacement(replacement, pattern)
    except ValueError as exc:
        raise ExpressionEvaluationError(str(exc)) from None
    out: list[str] = []
    size = 0
    last = 0
    for match in pattern.finditer(_regex_subject(text)):
        piece = text[last : match.start()] + "".join(
            part if isinstance(part, str) else match.group(part) or "" for part in parts
        )
        size += len(piece)
        if size > MAX_STRING_LENGTH:
            raise ExpressionEvaluationError(f"String result longer than {MAX_STRING_LENGTH} characters")
        out.append(piece)
        last = match.end()
        if first_only:
            break
    out.append(text[last:])
    return _checked("".join(out))


# --- the tree -------------------------------------------------------------------------------


class _Node:
    __slots__ = ()

    def evaluate(self, ctx: EvalContext) -> object:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: object

    def evaluate(self, ctx: EvalContext) -> object:
        return self.value


@dataclass(frozen=True, slots=True)
class _Reference(_Node):
    root: str
    attribute: str

    def evaluate(self, ctx: EvalContext) -> object:
        source: Mapping[str, object] = getattr(ctx, self.root)
        value = source.get(self.attribute)
        return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class _ListLiteral(_Node):
    items: tuple[_Node, ...]

    def evaluate(self, ctx: EvalContext) -> object:
        return [item.evaluate(ctx) for item in self.items]


@dataclass(frozen=True, slots=True)
class _Not(_Node):
    operand: _Node

    def evaluate(self, ctx: EvalContext) -> object:
        return not _condition(self.operand.evaluate(ctx), "'!'")


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node

    def evaluate(self, ctx: EvalContext) -> object:
        value = self.operand.evaluate(ctx)
        if not _is_number(value):
            raise ExpressionEvaluationError(f"Unary '-' needs a number, got {_type_name(value)}")
        return -value


@dataclass(frozen=True, slots=True)
class _Logical(_Node):
    """A chain of ``AND`` or of ``OR``, short-circuited left to right."""

    is_and: bool
    operands: tuple[_Node, ...]

    def evaluate(self, ctx: EvalContext) -> object:
        where = "'AND'" if self.is_and else "'OR'"
        for operand in self.operands:
            if _condition(operand.evaluate(ctx), where) != self.is_and:
                return not self.is_and
        return self.is_and


def _add(left: object, right: object) -> object:
    if _is_number(left) and _is_number(right):
        return left + right
    return _checked(_stringify(left) + _stringify(right))


def _subtract(left: object, right: object) -> object:
    if _is_number(left) and _is_number(right):
        return left - right
    raise ExpressionEvaluationError(f"'-' needs two numbers, got {_type_name(left)} and {_type_name(right)}")


@dataclass(frozen=True, slots=True)
class _Additive(_Node):
    """``a + b - c ...`` kept flat so long concatenations do not nest deeply."""

    first: _Node
    rest: tuple[tuple[str, _Node], ...]

    def evaluate(self, ctx: EvalContext) -> object:
        value = self.first.evaluate(ctx)
        for operator, operand in self.rest:
            other = operand.evaluate(ctx)
            value = _add(value, other) if operator == "+" else _subtract(value, other)
        return value


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"<": lt, ">": gt, "<=": le, ">=": ge}


def _order(operator: str, left: object, right: object) -> bool:
    if (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
        return _ORDERINGS[operator](left, right)
    raise ExpressionEvaluationError(
        f"'{operator}' cannot compare {_type_name(left)} with {_type_name(right)}"
    )


@dataclass(frozen=True, slots=True)
class _Comparison(_Node):
    operator: str
    left: _Node
    right: _Node

    def evaluate(self, ctx: EvalContext) -> object:
        left, right = self.left.evaluate(ctx), self.right.evaluate(ctx)
        if self.operator == "==":
            return _equals(left, right)
        if self.operator == "!=":
            return not _equals(left, right)
        return _order(self.operator, left, right)


@dataclass(frozen=True, slots=True)
class _Conditional(_Node):
    condition: _Node
    then: _Node
    otherwise: _Node

    def evaluate(self, ctx: EvalContext) -> object:
        chosen = self.then if _condition(self.condition.evaluate(ctx), "'?:'") else self.otherwise
        return chosen.evaluate(ctx)


@dataclass(frozen=True, slots=True)
class _Call(_Node):
    function: _Function
    args: tuple[_Node, ...]

    def evaluate(self, ctx: EvalContext) -> object:
        values = tuple(arg.evaluate(ctx) for arg in self.args)
        try:
            return self.function.impl(ctx, values)
        except ExpressionEvaluationError as exc:
            raise ExpressionEvaluationError(f"{self.function.name}: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; build it with :func:`parse_expression`, evaluate it per token."""

    source: str
    _root: _Node = field(repr=False, compare=False)

    def evaluate(self, ctx: EvalContext) -> object:
        """The value (str, int, float, bool, None or a list); see the module doc for rules."""
        return self._root.evaluate(ctx)


# --- functions ------------------------------------------------------------------------------

_Impl = Callable[[EvalContext, tuple[object, ...]], object]
_Check = Callable[[tuple[_Node, ...], tuple[int, ...]], None]


@dataclass(frozen=True, slots=True)
class _Function:
    name: str
    min_args: int
    max_args: int | None
    impl: _Impl
    check: _Check | None = None


_FUNCTIONS: dict[str, _Function] = {}


def _function(
    name: str, arity: int | tuple[int, int | None], check: _Check | None = None
) -> Callable[[_Impl], _Impl]:
    """Register an implementation taking ``arity`` arguments: a count or (least, most or None)."""
    low, high = (arity, arity) if isinstance(arity, int) else arity

    def register(impl: _Impl) -> _Impl:
        _FUNCTIONS[name] = _Function(name, low, high, impl, check)
        return impl

    return register


def _text(args: tuple[object, ...], index: int) -> str | None:
    value = args[index]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or _is_number(value):
        return _stringify(value)
    raise ExpressionEvaluationError(f"argument {index + 1} must be a string, got {_type_name(value)}")


def _required_text(args: tuple[object, ...], index: int) -> str:
    value = _text(args, index)
    if value is None:
        raise ExpressionEvaluationError(f"argument {index + 1} must not be null")
    return value


def _as_int(value: object) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _integer(args: tuple[object, ...], index: int) -> int:
    value = _as_int(args[index])
    if value is None:
        raise ExpressionEvaluationError(
            f"argument {index + 1} must be an integer, got {_type_name(args[index])}"
        )
    return value


def _items(args: tuple[object, ...], index: int) -> list[object]:
    value = args[index]
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise ExpressionEvaluationError(f"argument {index + 1} must be an array, got {_type_name(value)}")


def _spread(values: Iterable[object]) -> list[object]:
    """Java varargs: an array argument stands for its elements."""
    out: list[object] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(value)
        else:
            out.append(value)
    return out


def _literal_at(args: tuple[_Node, ...], index: int) -> tuple[bool, object]:
    node = args[index] if index < len(args) else None
    return (True, node.value) if isinstance(node, _Literal) else (False, None)


def _check_regex_arg(index: int) -> _Check:
    def check(args: tuple[_Node, ...], positions: tuple[int, ...]) -> None:
        known, value = _literal_at(args, index)
        if known and isinstance(value, str):
            try:
                _compile_regex(value)
            except ValueError as exc:
                raise _refuse(_sentence(str(exc)), positions[index]) from None

    return check


def _check_replace(args: tuple[_Node, ...], positions: tuple[int, ...]) -> None:
    _check_regex_arg(1)(args, positions)
    known_pattern, pattern = _literal_at(args, 1)
    known_replacement, replacement = _literal_at(args, 2)
    if known_pattern and known_replacement and isinstance(pattern, str) and isinstance(replacement, str):
        try:
            _compile_replacement(replacement, _compile_regex(pattern))
        except ValueError as exc:
            raise _refuse(f"Invalid replacement: {exc}", positions[2]) from None


def _check_groups_limit(args: tuple[_Node, ...], positions: tuple[int, ...]) -> None:
    known, value = _literal_at(args, 2)
    limit = _as_int(value)
    if known and (limit is None or not 1 <= limit <= MAX_GROUPS_LIMIT):
        raise _refuse(f"The group limit must be an integer from 1 to {MAX_GROUPS_LIMIT}", positions[2])


def _check_switch_pairs(args: tuple[_Node, ...], positions: tuple[int, ...]) -> None:
    if len(args) % 2:
        raise _refuse("String.stringSwitch takes key/value pairs after the default", positions[-1])


# String functions (Apache StringUtils' null handling).


@_function("String.toUpperCase", 1)
def _to_upper(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text = _text(args, 0)
    return None if text is None else text.upper()


@_function("String.toLowerCase", 1)
def _to_lower(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text = _text(args, 0)
    return None if text is None else text.lower()


@_function("String.substring", (2, 3))
def _substring(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Indexes clamp to the string; negative ones count from the end (StringUtils.substring)."""
    text = _text(args, 0)
    if text is None:
        return None
    start = _integer(args, 1)
    end = _integer(args, 2) if len(args) == 3 else len(text)
    return text[start:end]


@_function("String.substringBefore", 2)
def _substring_before(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text, separator = _text(args, 0), _text(args, 1)
    if text is None or separator is None:
        return text
    return text.partition(separator)[0]


@_function("String.substringAfter", 2)
def _substring_after(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Empty when the separator is absent (StringUtils.substringAfter)."""
    text, separator = _text(args, 0), _text(args, 1)
    if text is None:
        return None
    if separator is None:
        return ""
    return text.partition(separator)[2]


@_function("String.stringContains", 2)
def _string_contains(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text, part = _text(args, 0), _text(args, 1)
    return text is not None and part is not None and part in text


@_function("String.startsWith", 2)
def _starts_with(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text, prefix = _text(args, 0), _text(args, 1)
    return text is not None and prefix is not None and text.startswith(prefix)


@_function("String.len", 1)
def _length(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text = _text(args, 0)
    return 0 if text is None else len(text)


def _regex_replace(args: tuple[object, ...], *, first_only: bool) -> object:
    text = _text(args, 0)
    if text is None:
        return None
    pattern = _runtime_regex(_required_text(args, 1))
    return _replace(text, pattern, _text(args, 2) or "", first_only=first_only)


@_function("String.replace", 3, check=_check_replace)
def _string_replace(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Every match of the regex (Java's ``String.replaceAll``)."""
    return _regex_replace(args, first_only=False)


@_function("String.replaceFirst", 3, check=_check_replace)
def _string_replace_first(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _regex_replace(args, first_only=True)


@_function("String.removeSpaces", 1)
def _remove_spaces(ctx: EvalContext, args: tuple[object, ...]) -> object:
    text = _text(args, 0)
    return None if text is None else "".join(text.split())


@_function("String.append", 2)
def _append(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _checked((_text(args, 0) or "") + (_text(args, 1) or ""))


@_function("String.join", (2, None))
def _join(ctx: EvalContext, args: tuple[object, ...]) -> object:
    separator = _text(args, 0) or ""
    return _checked(separator.join(_stringify(item) for item in _spread(args[1:])))


@_function("String.stringSwitch", (4, None), check=_check_switch_pairs)
def _string_switch(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """The value of the first key contained in the input, else the default."""
    text = _text(args, 0)
    if text is not None:
        for index in range(2, len(args) - 1, 2):
            key = _text(args, index)
            if key is not None and key in text:
                return args[index + 1]
    return args[1]


# Array functions. Results are new lists; null counts as an empty array.


@_function("Arrays.contains", 2)
def _arrays_contains(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return any(_equals(item, args[1]) for item in _items(args, 0))


@_function("Arrays.isEmpty", 1)
def _arrays_is_empty(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Also true for ``""``: Okta's own examples test ``Arrays.toCsvString(...)`` with it."""
    if isinstance(args[0], str):
        return args[0] == ""
    return not _items(args, 0)


@_function("Arrays.size", 1)
def _arrays_size(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return len(_items(args, 0))


@_function("Arrays.add", 2)
def _arrays_add(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return [*_items(args, 0), args[1]]


@_function("Arrays.remove", 2)
def _arrays_remove(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Removes the first equal element (ArrayUtils.removeElement)."""
    items = _items(args, 0)
    for index, item in enumerate(items):
        if _equals(item, args[1]):
            del items[index]
            break
    return items


@_function("Arrays.toCsvString", 1)
def _arrays_to_csv(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _checked(",".join(_stringify(item) for item in _items(args, 0)))


@_function("Arrays.flatten", (1, None))
def _arrays_flatten(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _spread(args)


# Group functions. Names compare case-insensitively, ids exactly; regexes match the whole name.


def _group_names(ctx: EvalContext) -> list[str]:
    return [group.name.casefold() for group in ctx.groups]


@_function("isMemberOfGroupName", 1)
def _member_of_group_name(ctx: EvalContext, args: tuple[object, ...]) -> object:
    name = _text(args, 0)
    return name is not None and name.casefold() in _group_names(ctx)


@_function("isMemberOfGroup", 1)
def _member_of_group(ctx: EvalContext, args: tuple[object, ...]) -> object:
    group_id = _text(args, 0)
    return any(group.id == group_id for group in ctx.groups)


@_function("isMemberOfAnyGroup", (1, None))
def _member_of_any_group(ctx: EvalContext, args: tuple[object, ...]) -> object:
    wanted = {_stringify(item) for item in _spread(args) if item is not None}
    return any(group.id in wanted for group in ctx.groups)


@_function("isMemberOfGroupNameStartsWith", 1)
def _member_of_group_name_starts_with(ctx: EvalContext, args: tuple[object, ...]) -> object:
    prefix = _required_text(args, 0).casefold()
    return any(name.startswith(prefix) for name in _group_names(ctx))


@_function("isMemberOfGroupNameContains", 1)
def _member_of_group_name_contains(ctx: EvalContext, args: tuple[object, ...]) -> object:
    part = _required_text(args, 0).casefold()
    return any(part in name for name in _group_names(ctx))


@_function("isMemberOfGroupNameRegex", 1, check=_check_regex_arg(0))
def _member_of_group_name_regex(ctx: EvalContext, args: tuple[object, ...]) -> object:
    pattern = _runtime_regex(_required_text(args, 0))
    return any(pattern.fullmatch(_regex_subject(group.name)) for group in ctx.groups)


def _groups_matching(
    args: tuple[object, ...], ctx: EvalContext, matches: Callable[[str, str], bool]
) -> list[str]:
    """``Groups.*(app, pattern, limit)``: names of the user's groups from ``app`` that match.

    ``app`` is ``OKTA`` (any case) for Okta groups or an app id or type; ``null`` means any
    source. The limit must be 1..100, as Okta requires.
    """
    app = _text(args, 0)
    pattern = _required_text(args, 1).casefold()
    limit = _integer(args, 2)
    if not 1 <= limit <= MAX_GROUPS_LIMIT:
        raise ExpressionEvaluationError(f"the group limit must be from 1 to {MAX_GROUPS_LIMIT}, got {limit}")
    wanted = OKTA_GROUP_SOURCE if app is not None and app.upper() == OKTA_GROUP_SOURCE else app
    names: list[str] = []
    for group in ctx.groups:
        if (wanted is None or group.source == wanted) and matches(group.name.casefold(), pattern):
            names.append(group.name)
            if len(names) == limit:
                break
    return names


@_function("Groups.startsWith", 3, check=_check_groups_limit)
def _groups_starts_with(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _groups_matching(args, ctx, str.startswith)


@_function("Groups.contains", 3, check=_check_groups_limit)
def _groups_contains(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _groups_matching(args, ctx, lambda name, part: part in name)


@_function("Groups.endsWith", 3, check=_check_groups_limit)
def _groups_ends_with(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return _groups_matching(args, ctx, str.endswith)


@_function("user.getInternalProperty", 1)
def _internal_property(ctx: EvalContext, args: tuple[object, ...]) -> object:
    """Classic Engine's way to read ``id``, ``status``, ``created``... from ``ctx.user``."""
    return ctx.user.get(_required_text(args, 0))


FUNCTION_NAMES: Final = frozenset(_FUNCTIONS)


# --- tokenizer ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "op", "end"
    value: object
    position: int


_TWO_CHAR_OPERATORS = frozenset({"==", "!=", "<=", ">=", "&&", "||"})
_ONE_CHAR_OPERATORS = frozenset("+-<>!(){},.?:")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t"}


def _read_string(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == quote:
            if source.startswith(quote, i + 1):
                chars.append(quote)
                i += 2
                continue
            return "".join(chars), i + 1
        if char == "\\" and i + 1 < len(source):
            following = source[i + 1]
            if following in _SIMPLE_ESCAPES:
                chars.append(_SIMPLE_ESCAPES[following])
                i += 2
                continue
            if following == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", source[i + 2 : i + 6]):
                chars.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
                continue
        chars.append(char)
        i += 1
    raise _refuse("Unterminated string literal", start)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char in "'\"":
            text, end = _read_string(source, i)
            tokens.append(_Token("string", text, i))
            i = end
        elif number := _NUMBER.match(source, i):
            end = number.end()
            if end < len(source) and (source[end].isalnum() or source[end] in "_$"):
                raise _refuse("Malformed number", i)
            text = number.group()
            tokens.append(_Token("number", float(text) if "." in text else int(text), i))
            i = end
        elif name := _NAME.match(source, i):
            tokens.append(_Token("name", name.group(), i))
            i = name.end()
        elif source[i : i + 2] in _TWO_CHAR_OPERATORS:
            tokens.append(_Token("op", source[i : i + 2], i))
            i += 2
        elif char in _ONE_CHAR_OPERATORS:
            tokens.append(_Token("op", char, i))
            i += 1
        elif char == "=":
            raise _refuse("Unexpected '=' (use '==' to compare)", i)
        else:
            raise _refuse(f"Unexpected character {char!r}", i)
    tokens.append(_Token("end", None, len(source)))
    return tokens


# --- parser ---------------------------------------------------------------------------------

_ROOTS = frozenset({"user", "app", "appuser", "org"})
_CONSTANTS: dict[str, object] = {"true": True, "false": False, "null": None}


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "string":
        return "a string"
    return repr(str(token.value))


class _Parser:
    def __init__(self, source: str) -> None:
        self._tokens = _tokenize(source)
        self._index = 0
        self._depth = 0

    def parse(self) -> _Node:
        node = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise _refuse(f"Unexpected {_describe(token)}", token.position)
        return node

    # token helpers

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _at_op(self, *operators: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.value in operators

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token.kind == "name" and str(token.value).lower() == word

    def _expect_op(self, operator: str) -> _Token:
        token = self._peek()
        if not self._at_op(operator):
            raise _refuse(f"Expected '{operator}' but found {_describe(token)}", token.position)
        return self._advance()

    def _nested(self, position: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _refuse(f"Expression nested deeper than {MAX_DEPTH} levels", position)

    # grammar

    def _expression(self) -> _Node:
        self._nested(self._peek().position)
        try:
            condition = self._or()
            if not self._at_op("?"):
                return condition
            self._advance()
            then = self._expression()
            self._expect_op(":")
            return _Conditional(condition, then, self._expression())
        finally:
            self._depth -= 1

    def _or(self) -> _Node:
        operands = [self._and()]
        while self._at_op("||") or self._at_word("or"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else _Logical(False, tuple(operands))

    def _and(self) -> _Node:
        operands = [self._equality()]
        while self._at_op("&&") or self._at_word("and"):
            self._advance()
            operands.append(self._equality())
        return operands[0] if len(operands) == 1 else _Logical(True, tuple(operands))

    def _equality(self) -> _Node:
        left = self._relation()
        if self._at_op("==", "!="):
            operator = str(self._advance().value)
            return _Comparison(operator, left, self._relation())
        return left

    def _relation(self) -> _Node:
        left = self._additive()
        if self._at_op("<", ">", "<=", ">="):
            operator = str(self._advance().value)
            return _Comparison(operator, left, self._additive())
        return left

    def _additive(self) -> _Node:
        first = self._unary()
        rest: list[tuple[str, _Node]] = []
        while self._at_op("+", "-"):
            operator = str(self._advance().value)
            rest.append((operator, self._unary()))
        return _Additive(first, tuple(rest)) if rest else first

    def _unary(self) -> _Node:
        if not self._at_op("!", "-"):
            return self._primary()
        token = self._advance()
        self._nested(token.position)
        try:
            operand = self._unary()
        finally:
            self._depth -= 1
        if token.value == "!":
            return _Not(operand)
        if isinstance(operand, _Literal) and _is_number(operand.value):
            return _Literal(-operand.value)
        return _Negate(operand)

    def _primary(self) -> _Node:
        token = self._peek()
        if token.kind in ("number", "string"):
            self._advance()
            return _Literal(token.value)
        if token.kind == "name":
            return self._name()
        if self._at_op("("):
            self._advance()
            node = self._expression()
            self._expect_op(")")
            return node
        if self._at_op("{"):
            self._advance()
            items, _ = self._arguments("}")
            return _ListLiteral(items)
        raise _refuse(f"Unexpected {_describe(token)}", token.position)

    def _arguments(self, closing: str) -> tuple[tuple[_Node, ...], tuple[int, ...]]:
        items: list[_Node] = []
        positions: list[int] = []
        if not self._at_op(closing):
            while True:
                positions.append(self._peek().position)
                items.append(self._expression())
                if not self._at_op(","):
                    break
                self._advance()
        self._expect_op(closing)
        return tuple(items), tuple(positions)

    def _name(self) -> _Node:
        start = self._advance()
        first = str(start.value)
        if first.lower() in _CONSTANTS and not self._at_op(".", "("):
            return _Literal(_CONSTANTS[first.lower()])
        if first.lower() in ("and", "or"):
            raise _refuse(f"Unexpected {first!r}", start.position)
        parts = [first]
        while self._at_op("."):
            self._advance()
            token = self._advance()
            if token.kind != "name":
                raise _refuse(f"Expected a name after '.' but found {_describe(token)}", token.position)
            parts.append(str(token.value))
        dotted = ".".join(parts)
        if self._at_op("("):
            return self._call(dotted, start.position)
        return self._reference(parts, dotted, start.position)

    def _call(self, name: str, position: int) -> _Node:
        function = _FUNCTIONS.get(name)
        if function is None:
            raise _refuse(f"Unknown function {name!r}", position)
        self._advance()
        args, positions = self._arguments(")")
        low, high = function.min_args, function.max_args
        if len(args) < low or (high is not None and len(args) > high):
            if high is None:
                expected = f"at least {low}"
            elif high == low:
                expected = str(low)
            else:
                expected = f"{low} to {high}"
            noun = "argument" if expected == "1" else "arguments"
            raise _refuse(f"{name} takes {expected} {noun}, got {len(args)}", position)
        if function.check is not None:
            function.check(args, positions)
        return _Call(function, args)

    @staticmethod
    def _reference(parts: list[str], dotted: str, position: int) -> _Node:
        root = parts[0]
        if root not in _ROOTS:
            raise _refuse(f"Unknown reference {dotted!r} (use user., app., appuser. or org.)", position)
        attributes = parts[2:] if root == "user" and len(parts) == 3 and parts[1] == "profile" else parts[1:]
        if len(attributes) != 1:
            raise _refuse(f"Unsupported reference {dotted!r}: name one attribute, as {root}.name", position)
        return _Reference(root, attributes[0])


def parse_expression(source: str) -> Expression:
    """Parse and validate an expression; raises :class:`ExpressionError` naming the problem."""
    if not isinstance(source, str):
        raise _refuse("The expression must be a string")
    if len(source) > MAX_SOURCE_LENGTH:
        raise _refuse(f"Expression longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise _refuse("The expression is empty")
    return Expression(source, _Parser(source).parse())


# --- group filters (claims with valueType GROUPS) -------------------------------------------


def validate_group_filter(filter_type: str, value: str) -> None:
    """Refuse an unknown ``group_filter_type`` or an unusable ``REGEX`` when the claim is saved."""
    if filter_type not in GROUP_FILTER_TYPES:
        allowed = ", ".join(sorted(GROUP_FILTER_TYPES))
        raise _refuse(f"group_filter_type must be one of {allowed}")
    if not isinstance(value, str):
        raise _refuse("The group filter value must be a string")
    if filter_type == "REGEX":
        try:
            _compile_regex(value)
        except ValueError as exc:
            raise _refuse(_sentence(str(exc))) from None


def filter_groups(groups: Sequence[GroupRef], filter_type: str, value: str) -> list[str]:
    """Names of ``groups`` that pass the filter, in the given order.

    ``STARTS_WITH``, ``EQUALS`` and ``CONTAINS`` ignore case; ``REGEX`` must match the whole
    name, case as written (``(?i)`` makes it insensitive). Validate with
    :func:`validate_group_filter` first; an invalid filter raises :class:`ExpressionError`.
    """
    validate_group_filter(filter_type, value)
    if filter_type == "REGEX":
        pattern = _compile_regex(value)
        return [
            group.name
            for group in groups
            if len(group.name) <= MAX_REGEX_SUBJECT_LENGTH and pattern.fullmatch(group.name)
        ]
    wanted = value.casefold()
    if filter_type == "EQUALS":
        return [group.name for group in groups if group.name.casefold() == wanted]
    if filter_type == "STARTS_WITH":
        return [group.name for group in groups if group.name.casefold().startswith(wanted)]
    return [group.name for group in groups if wanted in group.name.casefold()]


__all__ = [
    "FUNCTION_NAMES",
    "GROUP_FILTER_TYPES",
    "MAX_DEPTH",
    "MAX_GROUPS_LIMIT",
    "MAX_REGEX_LENGTH",
    "MAX_REGEX_SUBJECT_LENGTH",
    "MAX_SOURCE_LENGTH",
    "MAX_STRING_LENGTH",
    "EvalContext",
    "Expression",
    "ExpressionError",
    "ExpressionEvaluationError",
    "GroupRef",
    "filter_groups",
    "parse_expression",
    "validate_group_filter",
]
