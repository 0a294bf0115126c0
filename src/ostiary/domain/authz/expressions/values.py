"""Java-like value rules shared by the operators and functions: types, strings, equality."""

from __future__ import annotations

from typing import TypeGuard

from ostiary.domain.authz.expressions.context import MAX_STRING_LENGTH, ExpressionEvaluationError


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_list(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(value, list | tuple)


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if _is_list(value):
        return "array"
    return "object"


def stringify(value: object) -> str:
    """Java's string conversion for concatenation, with ``null`` as the empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ExpressionEvaluationError(f"Cannot use a value of type {type_name(value)} as a string")


def checked(text: str) -> str:
    if len(text) > MAX_STRING_LENGTH:
        raise ExpressionEvaluationError(f"String result longer than {MAX_STRING_LENGTH} characters")
    return text


def equals(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_list(left) and _is_list(right):
        return len(left) == len(right) and all(equals(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def as_condition(value: object, where: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ExpressionEvaluationError(f"{where} needs a boolean, got {type_name(value)}")
