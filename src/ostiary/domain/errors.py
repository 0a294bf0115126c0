"""Domain errors. The http layer maps each to an Okta (or OAuth) error body in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DomainError(Exception):
    """Base of every error the domain raises on purpose.

    ``code`` is an Okta error code (``E0000001``...) when one fits; ``causes`` are the
    ``errorCauses`` summaries of a validation error.
    """

    message: str
    code: str | None = None
    causes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The resource does not exist (in this org)."""


class Invalid(DomainError):
    """The input is not acceptable: validation failed."""


class Forbidden(DomainError):
    """The caller may not do this, or the object's state forbids it."""


class Conflict(DomainError):
    """The change collides with existing state (e.g. a duplicate login)."""


class Unauthenticated(DomainError):
    """The caller's credentials are missing or wrong."""
