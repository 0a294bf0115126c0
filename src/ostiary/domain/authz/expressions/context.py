"""What an expression reads (:class:`EvalContext`), its limits, and the two errors it raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ostiary.domain.errors import DomainError, Invalid

MAX_SOURCE_LENGTH: Final = 1024
MAX_DEPTH: Final = 32
MAX_REGEX_LENGTH: Final = 256
MAX_REGEX_SUBJECT_LENGTH: Final = 256
MAX_STRING_LENGTH: Final = 65536
MAX_GROUPS_LIMIT: Final = 100

OKTA_GROUP_SOURCE: Final = "OKTA"


# --- errors and inputs ----------------------------------------------------------------------


@dataclass
class ExpressionError(Invalid):
    """The expression (or group filter) is refused; ``position`` is 1-based when known."""

    position: int | None = None


class ExpressionEvaluationError(DomainError):
    """A type error or exceeded limit found while evaluating; the caller omits the claim."""


@dataclass(frozen=True, slots=True)
class GroupRef:
    """One of the user's groups. ``source`` is ``OKTA`` or the app (id or type) it comes from."""

    id: str
    name: str
    source: str = OKTA_GROUP_SOURCE


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What an expression may read. ``user`` is flat: profile attributes plus id, status..."""

    user: Mapping[str, object] = field(default_factory=dict)
    app: Mapping[str, object] = field(default_factory=dict)
    appuser: Mapping[str, object] = field(default_factory=dict)
    org: Mapping[str, object] = field(default_factory=dict)
    groups: Sequence[GroupRef] = ()


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def refuse(detail: str, position: int | None = None) -> ExpressionError:
    """The refusal; ``position`` is a 0-based index into the source, reported 1-based."""
    if position is None:
        return ExpressionError(detail, code="E0000001", causes=[detail])
    message = f"{detail} at position {position + 1}"
    return ExpressionError(message, code="E0000001", causes=[message], position=position + 1)
