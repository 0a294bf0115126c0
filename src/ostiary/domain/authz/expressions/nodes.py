"""The immutable expression tree; each node evaluates itself against an :class:`EvalContext`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from operator import ge, gt, le, lt
from typing import TYPE_CHECKING, Any

from ostiary.domain.authz.expressions.context import EvalContext, ExpressionEvaluationError
from ostiary.domain.authz.expressions.values import (
    as_condition,
    checked,
    equals,
    is_number,
    stringify,
    type_name,
)

if TYPE_CHECKING:
    from ostiary.domain.authz.expressions.functions import Function


class Node:
    __slots__ = ()

    def evaluate(self, ctx: EvalContext) -> object:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object

    def evaluate(self, ctx: EvalContext) -> object:
        return self.value


@dataclass(frozen=True, slots=True)
class Reference(Node):
    root: str
    attribute: str

    def evaluate(self, ctx: EvalContext) -> object:
        source: Mapping[str, object] = getattr(ctx, self.root)
        value = source.get(self.attribute)
        return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]

    def evaluate(self, ctx: EvalContext) -> object:
        return [item.evaluate(ctx) for item in self.items]


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def evaluate(self, ctx: EvalContext) -> object:
        return not as_condition(self.operand.evaluate(ctx), "'!'")


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node

    def evaluate(self, ctx: EvalContext) -> object:
        value = self.operand.evaluate(ctx)
        if not is_number(value):
            raise ExpressionEvaluationError(f"Unary '-' needs a number, got {type_name(value)}")
        return -value


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """A chain of ``AND`` or of ``OR``, short-circuited left to right."""

    is_and: bool
    operands: tuple[Node, ...]

    def evaluate(self, ctx: EvalContext) -> object:
        where = "'AND'" if self.is_and else "'OR'"
        for operand in self.operands:
            if as_condition(operand.evaluate(ctx), where) != self.is_and:
                return not self.is_and
        return self.is_and


def _add(left: object, right: object) -> object:
    if is_number(left) and is_number(right):
        return left + right
    return checked(stringify(left) + stringify(right))


def _subtract(left: object, right: object) -> object:
    if is_number(left) and is_number(right):
        return left - right
    raise ExpressionEvaluationError(f"'-' needs two numbers, got {type_name(left)} and {type_name(right)}")


@dataclass(frozen=True, slots=True)
class Additive(Node):
    """``a + b - c ...`` kept flat so long concatenations do not nest deeply."""

    first: Node
    rest: tuple[tuple[str, Node], ...]

    def evaluate(self, ctx: EvalContext) -> object:
        value = self.first.evaluate(ctx)
        for operator, operand in self.rest:
            other = operand.evaluate(ctx)
            value = _add(value, other) if operator == "+" else _subtract(value, other)
        return value


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"<": lt, ">": gt, "<=": le, ">=": ge}


def _order(operator: str, left: object, right: object) -> bool:
    if (is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str)):
        return _ORDERINGS[operator](left, right)
    raise ExpressionEvaluationError(f"'{operator}' cannot compare {type_name(left)} with {type_name(right)}")


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    operator: str
    left: Node
    right: Node

    def evaluate(self, ctx: EvalContext) -> object:
        left, right = self.left.evaluate(ctx), self.right.evaluate(ctx)
        if self.operator == "==":
            return equals(left, right)
        if self.operator == "!=":
            return not equals(left, right)
        return _order(self.operator, left, right)


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node

    def evaluate(self, ctx: EvalContext) -> object:
        chosen = self.then if as_condition(self.condition.evaluate(ctx), "'?:'") else self.otherwise
        return chosen.evaluate(ctx)


@dataclass(frozen=True, slots=True)
class Call(Node):
    function: Function
    args: tuple[Node, ...]

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
    _root: Node = field(repr=False, compare=False)

    def evaluate(self, ctx: EvalContext) -> object:
        """The value (str, int, float, bool, None or a list); see the module doc for rules."""
        return self._root.evaluate(ctx)

    def references(self) -> frozenset[tuple[str, str]]:
        """Every ``(root, attribute)`` the expression reads, e.g. ``("user", "department")``."""
        return frozenset((ref.root, ref.attribute) for ref in _references(self._root))


def _references(node: object) -> Iterator[Reference]:
    if isinstance(node, Reference):
        yield node
        return
    if isinstance(node, tuple):
        for item in node:
            yield from _references(item)
        return
    if isinstance(node, Node):
        for member in fields(node):  # type: ignore[arg-type]
            yield from _references(getattr(node, member.name))
