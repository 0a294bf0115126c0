"""The grant handler type, the outcome of scope evaluation, and the check every grant type
shares: the client is registered for it (``unauthorized_client``). What a handler receives and
returns is in ``domain.tokens.grant_context``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ostiary.domain.authz.policy_engine import PolicyScopeError
from ostiary.domain.authz.policy_sets import ServerPolicySet
from ostiary.domain.clients.client_cache import Client
from ostiary.domain.oauth_errors import OAuthError, unauthorized_client
from ostiary.domain.tokens.grant_context import GrantContext, TokenResponse


@dataclass(frozen=True)
class ScopeGrant:
    """The outcome of scope evaluation: the granted scopes and the token lifetimes."""

    scopes: tuple[str, ...]
    access_token_lifetime: int = 3600
    extra_claims: Mapping[str, Any] = field(default_factory=dict)


Grant = Callable[[GrantContext], Awaitable[TokenResponse]]
"""A grant handler; the table of them by ``grant_type`` is :data:`ostiary.domain.tokens.grants.GRANTS`."""


def check_grant_type_allowed(client: Client, grant_type: str) -> None:
    """The client is registered for ``grant_type`` (RFC 6749 §5.2 ``unauthorized_client``)."""
    if grant_type not in (client.grant_types or ()):
        raise unauthorized_client(
            "The client is not authorized to use the provided grant type. "
            f"Configured grant types: {list(client.grant_types or [])}."
        )


def requested_scopes(params: Mapping[str, str]) -> list[str]:
    """The ``scope`` parameter split on spaces, order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for scope in params.get("scope", "").split(" "):
        if scope:
            seen.setdefault(scope, None)
    return list(seen)


def resolved_scopes(policy_set: ServerPolicySet, requested: Sequence[str]) -> tuple[str, ...]:
    """``policy_set.resolve_scopes`` with its refusal as the OAuth error (``invalid_scope``)."""
    try:
        return policy_set.resolve_scopes(requested)
    except PolicyScopeError as exc:
        raise OAuthError(exc.error, exc.description) from None


__all__ = [
    "Grant",
    "GrantContext",
    "ScopeGrant",
    "TokenResponse",
    "check_grant_type_allowed",
    "requested_scopes",
    "resolved_scopes",
]
