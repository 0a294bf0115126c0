"""The resource-matching rule of a ``PROTECTED_REGEX`` policy (``regexRule``).

Okta's appliance writes these as ``Name=REGEX`` against the session's data, for example
``Groups=((?=(|.*:)Everyone(\\R|:.*)))`` (allow the group Everyone),
``UserName=admin@example.com`` or ``RemoteIP=(?!192\\..*)`` (deny an address range). The
session data is text: ``UserName`` (the login), ``Groups`` (the group names joined as
``a:b:c:``, as the appliance does), ``RemoteIP``, ``Email``, ``UserId``, and every profile
claim of the ID token and every attribute of the app by its name; names are
case-insensitive. The regex must match at the start of the value (``re.match``, so the
appliance's lookahead idioms keep their meaning). Several ``Name=REGEX`` terms separated by
`` && `` must all match. A rule that cannot be read never allows (fail closed).

Regexes run on RE2 (linear time) when RE2 accepts them; the appliance's predefined group
rules need lookahead, which RE2 lacks, so those fall back to Python's engine on a value
capped at :data:`MAX_SUBJECT` characters. Only admins with ``okta.oag.app.manage`` write
rules. ``\\R`` (PCRE's newline) is read as ``(?:\\r\\n|\\n|\\r)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import re2

MAX_RULE_LENGTH: Final = 2048
MAX_SUBJECT: Final = 8192
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@dataclass(frozen=True)
class Term:
    name: str
    """Lower-cased session data name."""
    pattern: str
    match: Callable[[str], bool]


@dataclass(frozen=True)
class AccessRule:
    text: str
    terms: tuple[Term, ...]
    problem: str | None = None

    def allows(self, data: Mapping[str, str]) -> bool:
        """``data``: session data by lower-cased name (see the module docstring)."""
        if self.problem is not None or not self.terms:
            return False
        return all(term.match(data.get(term.name, "")[:MAX_SUBJECT]) for term in self.terms)


def _pcre_to_python(pattern: str) -> str:
    return pattern.replace("\\R", "(?:\\r\\n|\\n|\\r)")


def _matcher(pattern: str) -> Callable[[str], bool]:
    translated = _pcre_to_python(pattern)
    try:
        compiled_re2 = re2.compile(translated, _RE2_OPTIONS)
    except re2.error:
        compiled = re.compile(translated)  # raises re.error for what neither engine reads
        return lambda value: compiled.match(value) is not None
    return lambda value: compiled_re2.match(value) is not None


def compile_rule(text: object) -> AccessRule:
    """The rule of ``text``; a rule that cannot be read carries its ``problem`` and denies."""
    if not isinstance(text, str) or not text.strip():
        return AccessRule("", (), "a PROTECTED_REGEX policy needs a regexRule")
    if len(text) > MAX_RULE_LENGTH:
        return AccessRule(text, (), f"the regexRule is longer than {MAX_RULE_LENGTH} characters")
    terms = []
    for part in text.split(" && "):
        found = _NAME.match(part)
        if found is None:
            return AccessRule(text, (), "a regexRule term is Name=REGEX (for example Groups=...)")
        pattern = part[found.end() :].strip()
        try:
            terms.append(Term(found.group(1).lower(), pattern, _matcher(pattern)))
        except re.error as exc:
            return AccessRule(text, (), f"the regex of {found.group(1)} does not compile: {exc}")
    return AccessRule(text, tuple(terms))


def rule_problem(text: object) -> str | None:
    """Why ``text`` is not a usable ``regexRule`` (for the admin API's 400), else ``None``."""
    return compile_rule(text).problem
