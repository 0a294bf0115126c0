"""The immutable expression tree; each node evaluates itself against an :class:`EvalContext`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import ge, gt, le, lt
from typing import TYPE_CHECKING, Any

from ostiary.domain.authz.expressions.context import EvalContext, ExpressionEvaluationError
from ostiary.domain.authz.expressions.values import (
    _checked,
    _condition,
    _equals,
    _is_number,
    _stringify,
    _type_name,
)

if TYPE_CHECKING:
    from ostiary.domain.authz.expressions.functions import _Function


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
