"""SQL for a parsed ``filter``/``search`` expression (the tree of ``ostiary.filter_ast``).

``compile_filter(node, resolve)`` turns the tree into one SQLAlchemy condition that
runs on SQLite and PostgreSQL alike. The caller's ``resolve`` maps each attribute to
where it lives: a column, a JSON value inside a JSON column (``User.profile["email"]``
or an explicit :class:`JsonPath`), or :class:`Custom` SQL of its own.

Semantics, the same on both engines:

- Strings compare as stored unless ``Comparison.ignore_case`` (set by the policy; Okta's
  ``search``) asks for ``lower()`` on both sides. ``lower()`` folds ASCII only on SQLite,
  so there non-ASCII letters stay case-sensitive.
- ``sw``/``co`` are ``LIKE`` with ``%``, ``_`` and ``\\`` escaped (``ESCAPE '\\'``).
  SQLite's ``LIKE`` ignores ASCII case, so a case-sensitive match there also checks
  ``substr``/``instr``.
- ``gt``/``ge``/``lt``/``le`` on strings order bytewise (``COLLATE "C"`` on PostgreSQL, as
  SQLite does), timestamps chronologically, JSON numbers numerically.
- JSON values match by type: a string value only matches JSON strings, a number only
  JSON numbers (no cast ever runs on a non-number), ``true``/``false`` only JSON booleans.
  When the JSON value is an array, the comparison matches if any element does (SCIM and
  Okta's search on array attributes).
- ``eq null`` matches SQL NULL, a missing JSON key and JSON ``null``; ``pr`` is the
  opposite, and also excludes ``""`` and ``[]`` (SCIM: "has a non-empty value").
- ``ne`` and ``not`` are the exact complement of the positive match: a row whose
  attribute is missing or NULL is "not equal".
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, assert_never

from sqlalchemy import (
    Boolean,
    Float,
    String,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ColumnElement, Grouping
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON, TypeDecorator, TypeEngine

from ostiary.filter_ast import And, Comparison, FilterNode, Not, Or, Present
from ostiary.timeutil import iso


@dataclass(frozen=True)
class JsonPath:
    """A value inside a JSON column: ``JsonPath(User.profile, ("firstName",))``."""

    column: ColumnElement[Any]
    keys: tuple[str | int, ...]


@dataclass(frozen=True)
class Custom:
    """An attribute with SQL of its own, e.g. a log event's many ``target.id`` values.

    ``build`` receives the ``Comparison`` (every operator, ``ne`` included) or ``Present``.
    """

    build: Callable[[Comparison | Present], ColumnElement[bool]]


Resolved = ColumnElement[Any] | JsonPath | Custom
Resolver = Callable[[str], Any]
"""Maps an attribute name to a :data:`Resolved` (ORM attributes such as ``User.id`` do too)."""


def compile_filter(node: FilterNode, resolve: Resolver) -> ColumnElement[bool]:
    """The SQL condition for ``node``; ``resolve`` may raise for an attribute it does not know."""
    match node:
        case And(left, right):
            return and_(compile_filter(left, resolve), compile_filter(right, resolve))
        case Or(left, right):
            return or_(compile_filter(left, resolve), compile_filter(right, resolve))
        case Not(expr):
            return _negate(compile_filter(expr, resolve))
        case Present(attr):
            return _present(_target(resolve(attr)), node)
        case Comparison():
            return _comparison(_target(resolve(node.attr)), node)
        case _:
            assert_never(node)


def json_path(column: Any, *keys: str | int) -> JsonPath:
    """``json_path(User.profile, "firstName")``; accepts ORM attributes as well as columns."""
    return JsonPath(_clause(column), keys)


# --- dispatch -------------------------------------------------------------------------------


Target = ColumnElement[Any] | JsonPath | Custom


def _target(resolved: Any) -> Target:
    if isinstance(resolved, JsonPath | Custom):
        return resolved
    expr = _clause(resolved)
    if _is_json(expr.type):
        path = _decompose(expr)
        if path is None:
            raise TypeError(f"{expr!r} is a whole JSON column; resolve attributes to a key inside it")
        return path
    return expr


def _clause(value: Any) -> ColumnElement[Any]:
    clause = value.__clause_element__() if hasattr(value, "__clause_element__") else value
    if not isinstance(clause, ColumnElement):
        raise TypeError(f"cannot compile a filter against {value!r}")
    return clause


def _is_json(type_: TypeEngine[Any]) -> bool:
    if isinstance(type_, TypeDecorator):
        return isinstance(type_.impl_instance, JSON)
    return isinstance(type_, JSON)


def _decompose(expr: ColumnElement[Any]) -> JsonPath | None:
    """``profile["a"]["b"]`` (SQLAlchemy JSON indexing) as ``JsonPath(profile, ("a", "b"))``."""
    keys: list[str | int] = []
    node: ColumnElement[Any] = expr
    while True:
        if isinstance(node, Grouping) and isinstance(node.element, ColumnElement):
            node = node.element
        elif isinstance(node, BinaryExpression) and node.operator in (
            operators.json_getitem_op,
            operators.json_path_getitem_op,
        ):
            if not isinstance(node.right, BindParameter):
                return None
            key = node.right.value
            if isinstance(key, tuple | list):
                keys[:0] = list(key)
            elif isinstance(key, str | int):
                keys.insert(0, key)
            else:
                return None
            node = node.left
        else:
            break
    return JsonPath(node, tuple(keys)) if keys else None


def _comparison(target: Target, node: Comparison) -> ColumnElement[bool]:
    if isinstance(target, Custom):
        return target.build(node)
    if node.op == "ne":
        return _negate(_comparison(target, replace(node, op="eq")))
    if isinstance(target, JsonPath):
        return _json_comparison(target, node)
    return _column_comparison(target, node)


def _present(target: Target, node: Present) -> ColumnElement[bool]:
    if isinstance(target, Custom):
        return target.build(node)
    if isinstance(target, JsonPath):
        return _json_present(target)
    if _is_string(target.type):
        return and_(target.is_not(None), target != "")
    return target.is_not(None)


def _negate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """NOT that is true where ``condition`` is false *or unknown* (SQL NULL)."""
    return not_(func.coalesce(condition, false(), type_=Boolean))


def _is_string(type_: TypeEngine[Any]) -> bool:
    if isinstance(type_, TypeDecorator):
        return isinstance(type_.impl_instance, String)
    return isinstance(type_, String)


# --- plain columns ----------------------------------------------------------------------------

_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _column_comparison(column: ColumnElement[Any], node: Comparison) -> ColumnElement[bool]:
    value = node.value
    if value is None:
        return column.is_(None)
    if isinstance(value, str):
        return _string_match(column, node.op, value, ignore_case=node.ignore_case)
    result: ColumnElement[bool] = _ORDER[node.op](column, value)
    return result


def _string_match(text: ColumnElement[Any], op: str, value: str, *, ignore_case: bool) -> ColumnElement[bool]:
    if op in ("sw", "co"):
        return _like(text, op, value, ignore_case=ignore_case)
    left: ColumnElement[Any] = _lower(text) if ignore_case else text
    right: ColumnElement[Any] = func.lower(literal(value, String)) if ignore_case else literal(value, String)
    if op == "eq":
        equal: ColumnElement[bool] = left == right
        return equal
    compare = _ORDER[op]
    return _per_dialect(sqlite=compare(left, right), postgresql=compare(left.collate("C"), right))


def _like(text: ColumnElement[Any], op: str, value: str, *, ignore_case: bool) -> ColumnElement[bool]:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped + "%" if op == "sw" else "%" + escaped + "%"
    if ignore_case:
        return _lower(text).like(func.lower(literal(pattern, String)), escape="\\")
    like = text.like(literal(pattern, String), escape="\\")
    exact: ColumnElement[bool] = (
        func.substr(text, 1, len(value)) == value if op == "sw" else func.instr(text, value) > 0
    )
    return _per_dialect(sqlite=and_(like, exact), postgresql=like)


# --- JSON values ------------------------------------------------------------------------------

_STRING_KINDS = ("text", "string")  # json_type() on SQLite, jsonb_typeof() on PostgreSQL
_NUMBER_KINDS = ("integer", "real", "number")


@dataclass(frozen=True)
class _JsonValue:
    """One JSON value seen from SQL: its type name, its text, and its number (NULL unless a number)."""

    kind: ColumnElement[Any]
    text: ColumnElement[Any]
    number: ColumnElement[Any]


def _json_comparison(path: JsonPath, node: Comparison) -> ColumnElement[bool]:
    kind = _json_kind(path)
    if node.value is None:
        return or_(kind.is_(None), kind == "null")
    scalar = _value_match(_json_scalar(path, kind), node)
    return or_(scalar, and_(kind == "array", _any_element(path, node)))


def _json_present(path: JsonPath) -> ColumnElement[bool]:
    kind = _json_kind(path)
    text = _json_item(path).as_string()
    return and_(
        kind.is_not(None),
        kind != "null",
        not_(and_(kind.in_(_STRING_KINDS), text == "")),
        not_(and_(kind == "array", text == "[]")),
    )


def _value_match(value: _JsonValue, node: Comparison) -> ColumnElement[bool]:
    wanted = node.value
    if isinstance(wanted, bool):
        word = "true" if wanted else "false"
        return or_(value.kind == word, and_(value.kind == "boolean", value.text == word))
    if isinstance(wanted, int | float):
        result: ColumnElement[bool] = _ORDER[node.op](value.number, wanted)
        return result
    if isinstance(wanted, datetime):
        wanted = iso(wanted)
    if isinstance(wanted, str):
        match = _string_match(value.text, node.op, wanted, ignore_case=node.ignore_case)
        return and_(value.kind.in_(_STRING_KINDS), match)
    raise ValueError(f"cannot compare a JSON value with {wanted!r}")


def _json_item(path: JsonPath) -> Any:
    """SQLAlchemy's JSON index expression: ``->``/``->>`` on PostgreSQL, ``JSON_EXTRACT`` on SQLite."""
    key: Any = path.keys[0] if len(path.keys) == 1 else path.keys
    return path.column[key]


def _json_scalar(path: JsonPath, kind: ColumnElement[Any]) -> _JsonValue:
    item = _json_item(path)
    number = case((kind.in_(_NUMBER_KINDS), item.as_float()), else_=None)
    return _JsonValue(kind=kind, text=item.as_string(), number=number)


def _json_kind(path: JsonPath) -> ColumnElement[Any]:
    return _per_dialect(
        sqlite=func.json_type(path.column, _sqlite_path(path.keys)),
        postgresql=func.jsonb_typeof(cast(_json_item(path), _jsonb())),
        type_=String(),
    )


def _jsonb() -> TypeEngine[Any]:
    """PostgreSQL's JSONB, imported on a filter's first use: the package loads every PostgreSQL
    driver's dialect (50 ms of CPU), which ``serve --memory``'s start does without."""
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB()


def _sqlite_path(keys: tuple[str | int, ...]) -> str:
    parts = ["$"]
    for key in keys:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif '"' in key or "\\" in key:
            raise ValueError(f"JSON key {key!r} cannot be addressed in a filter")
        else:
            parts.append(f'."{key}"')
    return "".join(parts)


def _any_element(path: JsonPath, node: Comparison) -> ColumnElement[bool]:
    """EXISTS an element of the JSON array at ``path`` that matches ``node``."""
    lite = func.json_each(path.column, _sqlite_path(path.keys)).table_valued("value", "type")
    lite_kind = lite.c.type
    lite_value = _JsonValue(
        kind=lite_kind,
        text=lite.c.value,
        number=case((lite_kind.in_(_NUMBER_KINDS), lite.c.value), else_=None),
    )
    array = cast(_json_item(path), _jsonb())
    elements = case((func.jsonb_typeof(array) == "array", array), else_=literal_column("'[]'::jsonb"))
    pg = func.jsonb_array_elements(elements).table_valued("value")
    pg_kind = func.jsonb_typeof(pg.c.value)
    pg_text = pg.c.value.op("#>>", return_type=Text)(literal_column("'{}'"))
    pg_value = _JsonValue(
        kind=pg_kind,
        text=pg_text,
        number=case((pg_kind == "number", cast(pg_text, Float)), else_=None),
    )
    return _per_dialect(
        sqlite=select(literal(1)).select_from(lite).where(_value_match(lite_value, node)).exists(),
        postgresql=select(literal(1)).select_from(pg).where(_value_match(pg_value, node)).exists(),
    )


# --- one expression per engine --------------------------------------------------------------


class _PerDialect(FunctionElement[Any]):
    """Renders its first clause on SQLite (and when printed), its second on PostgreSQL."""

    name = "per_dialect"
    inherit_cache = True

    def __init__(self, sqlite: ColumnElement[Any], postgresql: ColumnElement[Any], type_: TypeEngine[Any]):
        super().__init__(sqlite, postgresql)
        self.type = type_


def _per_dialect(
    *, sqlite: ColumnElement[Any], postgresql: ColumnElement[Any], type_: TypeEngine[Any] | None = None
) -> ColumnElement[Any]:
    return _PerDialect(sqlite, postgresql, type_ if type_ is not None else Boolean())


class _ByteOrdered(_PerDialect):
    """A column compared in the ``"C"`` collation on PostgreSQL; its ``lower()`` is folded in
    the column's own collation first (``"C"`` would fold ASCII only), then compared in ``"C"``."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column, column.collate("C"), column.type)
        self.column = column

    def lowered(self) -> ColumnElement[Any]:
        folded = func.lower(self.column)
        return _per_dialect(sqlite=folded, postgresql=folded.collate("C"), type_=String())


def byte_ordered(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` in the ``"C"`` collation on PostgreSQL (SQLite compares bytes anyway), and
    ``lower(column) COLLATE "C"`` where the comparison ignores case: the expression of an index
    built the same way, ``users.login``'s (migration 0019), whose statistics let the planner
    estimate a ``LIKE`` prefix."""
    return _ByteOrdered(column)


def _lower(text: ColumnElement[Any]) -> ColumnElement[Any]:
    return text.lowered() if isinstance(text, _ByteOrdered) else func.lower(text)


@compiles(_PerDialect)
def _render_sqlite(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(_PerDialect, "postgresql")
def _render_postgresql(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses.clauses[1], **kw)
