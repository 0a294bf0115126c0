"""Regular expressions on RE2 and Java's replacement syntax (``$1``, ``${name}``, ``\\$``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final, Protocol

import re2

from ostiary.domain.authz.expressions.context import (
    MAX_REGEX_LENGTH,
    MAX_REGEX_SUBJECT_LENGTH,
    MAX_STRING_LENGTH,
    ExpressionEvaluationError,
)
from ostiary.domain.authz.expressions.values import checked


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
def compile_regex(pattern: str) -> _Pattern:
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


def runtime_regex(pattern: str) -> _Pattern:
    try:
        return compile_regex(pattern)
    except ValueError as exc:
        raise ExpressionEvaluationError(str(exc)) from None


def regex_subject(text: str) -> str:
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
def compile_replacement(replacement: str, pattern: _Pattern) -> _Replacement:
    return _parse_replacement(replacement, pattern)


def replace_matches(text: str, pattern: _Pattern, replacement: str, *, first_only: bool) -> str:
    try:
        parts = compile_replacement(replacement, pattern)
    except ValueError as exc:
        raise ExpressionEvaluationError(str(exc)) from None
    out: list[str] = []
    size = 0
    last = 0
    for match in pattern.finditer(regex_subject(text)):
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
    return checked("".join(out))
