"""The tree of a parsed Okta ``filter``/``search`` expression (the SCIM filter subset).

``domain.directory.filter_expr`` parses text into it; ``store.repositories.filter_sql``
compiles it to SQL. It lives in the library layer so that storage never imports the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ComparisonOp = Literal["eq", "ne", "gt", "ge", "lt", "le", "sw", "co"]
Value = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class Comparison:
    """``attr op value``. ``ignore_case`` asks SQL to compare strings case-insensitively."""

    attr: str
    op: ComparisonOp
    value: Value
    ignore_case: bool = False


@dataclass(frozen=True)
class Present:
    """``attr pr``: the attribute has a non-empty value."""

    attr: str


@dataclass(frozen=True)
class And:
    left: FilterNode
    right: FilterNode


@dataclass(frozen=True)
class Or:
    left: FilterNode
    right: FilterNode


@dataclass(frozen=True)
class Not:
    expr: FilterNode


FilterNode = Comparison | Present | And | Or | Not
