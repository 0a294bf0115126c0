"""The gateway's scope check: which granted scopes a route's ``scopes`` rule lets through."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeRule:
    """``all_of``: every scope is needed; ``any_of``: one of them is enough (both may be given)."""

    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def allows(self, granted: frozenset[str]) -> bool:
        # Set operations rather than generator expressions: this runs on every proxied call.
        if not granted.issuperset(self.all_of):
            return False
        return not self.any_of or not granted.isdisjoint(self.any_of)

    @property
    def needed(self) -> str:
        """The ``scope`` attribute of an ``insufficient_scope`` challenge (RFC 6750 §3)."""
        return " ".join(self.all_of + self.any_of)
