"""The built-in functions (``String.*``, ``Arrays.*``, group membership), checked when parsed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ostiary.domain.authz.expressions.context import (
    MAX_GROUPS_LIMIT,
    OKTA_GROUP_SOURCE,
    EvalContext,
    ExpressionEvaluationError,
    refuse,
    sentence,
)
from ostiary.domain.authz.expressions.nodes import Literal, Node
from ostiary.domain.authz.expressions.regex import (
    compile_regex,
    compile_replacement,
    regex_subject,
    replace_matches,
    runtime_regex,
)
from ostiary.domain.authz.expressions.values import checked, equals, is_number, stringify, type_name

_Impl = Callable[[EvalContext, tuple[object, ...]], object]
_Check = Callable[[tuple[Node, ...], tuple[int, ...]], None]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    impl: _Impl
    check: _Check | None = None


FUNCTIONS: dict[str, Function] = {}


def _function(
    name: str, arity: int | tuple[int, int | None], check: _Check | None = None
) -> Callable[[_Impl], _Impl]:
    """Register an implementation taking ``arity`` arguments: a count or (least, most or None)."""
    low, high = (arity, arity) if isinstance(arity, int) else arity

    def register(impl: _Impl) -> _Impl:
        FUNCTIONS[name] = Function(name, low, high, impl, check)
        return impl

    return register


def _text(args: tuple[object, ...], index: int) -> str | None:
    value = args[index]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or is_number(value):
        return stringify(value)
    raise ExpressionEvaluationError(f"argument {index + 1} must be a string, got {type_name(value)}")


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
            f"argument {index + 1} must be an integer, got {type_name(args[index])}"
        )
    return value


def _items(args: tuple[object, ...], index: int) -> list[object]:
    value = args[index]
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise ExpressionEvaluationError(f"argument {index + 1} must be an array, got {type_name(value)}")


def _spread(values: Iterable[object]) -> list[object]:
    """Java varargs: an array argument stands for its elements."""
    out: list[object] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(value)
        else:
            out.append(value)
    return out


def _literal_at(args: tuple[Node, ...], index: int) -> tuple[bool, object]:
    node = args[index] if index < len(args) else None
    return (True, node.value) if isinstance(node, Literal) else (False, None)


def _check_regex_arg(index: int) -> _Check:
    def check(args: tuple[Node, ...], positions: tuple[int, ...]) -> None:
        known, value = _literal_at(args, index)
        if known and isinstance(value, str):
            try:
                compile_regex(value)
            except ValueError as exc:
                raise refuse(sentence(str(exc)), positions[index]) from None

    return check


def _check_replace(args: tuple[Node, ...], positions: tuple[int, ...]) -> None:
    _check_regex_arg(1)(args, positions)
    known_pattern, pattern = _literal_at(args, 1)
    known_replacement, replacement = _literal_at(args, 2)
    if known_pattern and known_replacement and isinstance(pattern, str) and isinstance(replacement, str):
        try:
            compile_replacement(replacement, compile_regex(pattern))
        except ValueError as exc:
            raise refuse(f"Invalid replacement: {exc}", positions[2]) from None


def _check_groups_limit(args: tuple[Node, ...], positions: tuple[int, ...]) -> None:
    known, value = _literal_at(args, 2)
    limit = _as_int(value)
    if known and (limit is None or not 1 <= limit <= MAX_GROUPS_LIMIT):
        raise refuse(f"The group limit must be an integer from 1 to {MAX_GROUPS_LIMIT}", positions[2])


def _check_switch_pairs(args: tuple[Node, ...], positions: tuple[int, ...]) -> None:
    if len(args) % 2:
        raise refuse("String.stringSwitch takes key/value pairs after the default", positions[-1])


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
    pattern = runtime_regex(_required_text(args, 1))
    return replace_matches(text, pattern, _text(args, 2) or "", first_only=first_only)


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
    return checked((_text(args, 0) or "") + (_text(args, 1) or ""))


@_function("String.join", (2, None))
def _join(ctx: EvalContext, args: tuple[object, ...]) -> object:
    separator = _text(args, 0) or ""
    return checked(separator.join(stringify(item) for item in _spread(args[1:])))


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
    return any(equals(item, args[1]) for item in _items(args, 0))


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
        if equals(item, args[1]):
            del items[index]
            break
    return items


@_function("Arrays.toCsvString", 1)
def _arrays_to_csv(ctx: EvalContext, args: tuple[object, ...]) -> object:
    return checked(",".join(stringify(item) for item in _items(args, 0)))


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
    wanted = {stringify(item) for item in _spread(args) if item is not None}
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
    pattern = runtime_regex(_required_text(args, 0))
    return any(pattern.fullmatch(regex_subject(group.name)) for group in ctx.groups)


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


FUNCTION_NAMES: Final = frozenset(FUNCTIONS)
