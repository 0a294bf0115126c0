"""The recursive-descent parser, and :func:`parse_expression`, the package's entry point."""

from __future__ import annotations

from ostiary.domain.authz.expressions.context import MAX_DEPTH, MAX_SOURCE_LENGTH, refuse
from ostiary.domain.authz.expressions.functions import FUNCTIONS
from ostiary.domain.authz.expressions.lexer import Token, tokenize
from ostiary.domain.authz.expressions.nodes import (
    Additive,
    Call,
    Comparison,
    Conditional,
    Expression,
    ListLiteral,
    Literal,
    Logical,
    Negate,
    Node,
    Not,
    Reference,
)
from ostiary.domain.authz.expressions.values import is_number

_ROOTS = frozenset({"user", "app", "appuser", "org"})
_CONSTANTS: dict[str, object] = {"true": True, "false": False, "null": None}


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "end of expression"
    if token.kind == "string":
        return "a string"
    return repr(str(token.value))


class _Parser:
    def __init__(self, source: str) -> None:
        self._tokens = tokenize(source)
        self._index = 0
        self._depth = 0

    def parse(self) -> Node:
        node = self._expression()
        token = self._peek()
        if token.kind != "end":
            raise refuse(f"Unexpected {_describe(token)}", token.position)
        return node

    # token helpers

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _at_op(self, *operators: str) -> bool:
        token = self._peek()
        return token.kind == "op" and token.value in operators

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token.kind == "name" and str(token.value).lower() == word

    def _expect_op(self, operator: str) -> Token:
        token = self._peek()
        if not self._at_op(operator):
            raise refuse(f"Expected '{operator}' but found {_describe(token)}", token.position)
        return self._advance()

    def _nested(self, position: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise refuse(f"Expression nested deeper than {MAX_DEPTH} levels", position)

    # grammar

    def _expression(self) -> Node:
        self._nested(self._peek().position)
        try:
            condition = self._or()
            if not self._at_op("?"):
                return condition
            self._advance()
            then = self._expression()
            self._expect_op(":")
            return Conditional(condition, then, self._expression())
        finally:
            self._depth -= 1

    def _or(self) -> Node:
        operands = [self._and()]
        while self._at_op("||") or self._at_word("or"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Logical(False, tuple(operands))

    def _and(self) -> Node:
        operands = [self._equality()]
        while self._at_op("&&") or self._at_word("and"):
            self._advance()
            operands.append(self._equality())
        return operands[0] if len(operands) == 1 else Logical(True, tuple(operands))

    def _equality(self) -> Node:
        left = self._relation()
        if self._at_op("==", "!="):
            operator = str(self._advance().value)
            return Comparison(operator, left, self._relation())
        return left

    def _relation(self) -> Node:
        left = self._additive()
        if self._at_op("<", ">", "<=", ">="):
            operator = str(self._advance().value)
            return Comparison(operator, left, self._additive())
        return left

    def _additive(self) -> Node:
        first = self._unary()
        rest: list[tuple[str, Node]] = []
        while self._at_op("+", "-"):
            operator = str(self._advance().value)
            rest.append((operator, self._unary()))
        return Additive(first, tuple(rest)) if rest else first

    def _unary(self) -> Node:
        if not self._at_op("!", "-"):
            return self._primary()
        token = self._advance()
        self._nested(token.position)
        try:
            operand = self._unary()
        finally:
            self._depth -= 1
        if token.value == "!":
            return Not(operand)
        if isinstance(operand, Literal) and is_number(operand.value):
            return Literal(-operand.value)
        return Negate(operand)

    def _primary(self) -> Node:
        token = self._peek()
        if token.kind in ("number", "string"):
            self._advance()
            return Literal(token.value)
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
            return ListLiteral(items)
        raise refuse(f"Unexpected {_describe(token)}", token.position)

    def _arguments(self, closing: str) -> tuple[tuple[Node, ...], tuple[int, ...]]:
        items: list[Node] = []
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

    def _name(self) -> Node:
        start = self._advance()
        first = str(start.value)
        if first.lower() in _CONSTANTS and not self._at_op(".", "("):
            return Literal(_CONSTANTS[first.lower()])
        if first.lower() in ("and", "or"):
            raise refuse(f"Unexpected {first!r}", start.position)
        parts = [first]
        while self._at_op("."):
            self._advance()
            token = self._advance()
            if token.kind != "name":
                raise refuse(f"Expected a name after '.' but found {_describe(token)}", token.position)
            parts.append(str(token.value))
        dotted = ".".join(parts)
        if self._at_op("("):
            return self._call(dotted, start.position)
        return self._reference(parts, dotted, start.position)

    def _call(self, name: str, position: int) -> Node:
        function = FUNCTIONS.get(name)
        if function is None:
            raise refuse(f"Unknown function {name!r}", position)
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
            raise refuse(f"{name} takes {expected} {noun}, got {len(args)}", position)
        if function.check is not None:
            function.check(args, positions)
        return Call(function, args)

    @staticmethod
    def _reference(parts: list[str], dotted: str, position: int) -> Node:
        root = parts[0]
        if root not in _ROOTS:
            raise refuse(f"Unknown reference {dotted!r} (use user., app., appuser. or org.)", position)
        attributes = parts[2:] if root == "user" and len(parts) == 3 and parts[1] == "profile" else parts[1:]
        if len(attributes) != 1:
            raise refuse(f"Unsupported reference {dotted!r}: name one attribute, as {root}.name", position)
        return Reference(root, attributes[0])


def parse_expression(source: str) -> Expression:
    """Parse and validate an expression; raises :class:`ExpressionError` naming the problem."""
    if not isinstance(source, str):
        raise refuse("The expression must be a string")
    if len(source) > MAX_SOURCE_LENGTH:
        raise refuse(f"Expression longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise refuse("The expression is empty")
    return Expression(source, _Parser(source).parse())
