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

The package, one module per part: :mod:`.lexer` (tokens), :mod:`.parser` (recursive
descent, :func:`parse_expression`), :mod:`.nodes` (the tree and its evaluation),
:mod:`.functions` (the built-ins), :mod:`.regex` (RE2 and the replacement syntax),
:mod:`.values` (Java-like value rules), :mod:`.context` (inputs, limits, errors) and
:mod:`.group_filters` (``valueType: GROUPS`` claims, which share the regex rules).
"""

from __future__ import annotations

from ostiary.domain.authz.expressions.context import (
    MAX_DEPTH,
    MAX_GROUPS_LIMIT,
    MAX_REGEX_LENGTH,
    MAX_REGEX_SUBJECT_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_STRING_LENGTH,
    EvalContext,
    ExpressionError,
    ExpressionEvaluationError,
    GroupRef,
)
from ostiary.domain.authz.expressions.functions import FUNCTION_NAMES
from ostiary.domain.authz.expressions.group_filters import (
    GROUP_FILTER_TYPES,
    filter_groups,
    validate_group_filter,
)
from ostiary.domain.authz.expressions.nodes import Expression
from ostiary.domain.authz.expressions.parser import parse_expression

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
