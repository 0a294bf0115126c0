"""Which scopes a user flow gets, and for how long: the scope checks and access policies.

- The **org** authorization server issues Okta's OIDC scopes (:data:`OIDC_SCOPES`) to its apps
  with no access policy, as Okta's org AS does; its access tokens live one hour and are for the
  org itself.
- **Default and custom** servers: every scope must be defined on the server (``invalid_scope``
  otherwise), then the access policies decide with the user and their groups
  (``access_denied`` with the policy's description when no rule matches).

Requests for OIDC claims scopes (``profile``, ``email``, …) or ID tokens need ``openid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.policy_engine import TokenRequest
from ostiary.domain.authz.policy_sets import policy_set
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens.grants.base import resolved_scopes
from ostiary.domain.tokens.oidc_claims import OIDC_SCOPES

ORG_ACCESS_TOKEN_LIFETIME: Final = 3600
ORG_REFRESH_WINDOW_MINUTES: Final = 7 * 24 * 60
NEEDS_OPENID: Final = frozenset({"profile", "email", "address", "phone", "groups"})
OPENID_REQUIRED: Final = (
    "Requests for ID tokens or access tokens with OpenID scopes require the `openid` scope."
)
UNKNOWN_ORG_SCOPE: Final = "The requested scope is invalid, unknown, or malformed."
NO_SCOPES: Final = "No scopes were requested."


@dataclass(frozen=True, slots=True)
class UserScopeDecision:
    """Granted scopes with the lifetimes of the matching rule (refresh ``None``: unlimited)."""

    scopes: tuple[str, ...]
    access_token_lifetime: int
    refresh_token_lifetime_minutes: int | None
    refresh_token_window_minutes: int | None


async def check_requested_scopes(
    session: AsyncSession, org_id: str, server: server_lookup.AnyServer, requested: Sequence[str]
) -> tuple[str, ...]:
    """The requested scopes if the server knows them all; ``invalid_scope`` otherwise."""
    if server.kind == server_lookup.ORG:
        scopes = tuple(dict.fromkeys(s for s in requested if s))
        if not scopes:
            raise OAuthError("invalid_scope", NO_SCOPES)
        if any(scope not in OIDC_SCOPES for scope in scopes):
            raise OAuthError("invalid_scope", UNKNOWN_ORG_SCOPE)
    else:
        scopes = resolved_scopes(await policy_set(session, org_id, server.id), list(requested))
    if "openid" not in scopes and not NEEDS_OPENID.isdisjoint(scopes):
        raise OAuthError("access_denied", OPENID_REQUIRED, status=403)
    return scopes


async def decide_user_scopes(
    session: AsyncSession,
    org_id: str,
    server: server_lookup.AnyServer,
    *,
    client_id: str,
    user_id: str,
    group_ids: frozenset[str],
    scopes: Sequence[str],
    grant_type: str,
) -> UserScopeDecision:
    """The access policies' decision for a user; ``access_denied`` when no rule matches."""
    if server.kind == server_lookup.ORG:
        return UserScopeDecision(tuple(scopes), ORG_ACCESS_TOKEN_LIFETIME, None, ORG_REFRESH_WINDOW_MINUTES)
    compiled = (await policy_set(session, org_id, server.id)).policies
    decision = compiled.evaluate(
        TokenRequest(
            client_id=client_id,
            user_id=user_id,
            user_group_ids=group_ids,
            grant_type=grant_type,
            scopes=tuple(scopes),
        )
    )
    if not decision.granted:
        raise OAuthError(decision.error or "access_denied", decision.error_description or "Access denied.")
    return UserScopeDecision(
        scopes=decision.scopes,
        access_token_lifetime=(decision.access_token_lifetime_minutes or 60) * 60,
        refresh_token_lifetime_minutes=decision.refresh_token_lifetime_minutes,
        refresh_token_window_minutes=decision.refresh_token_window_minutes,
    )
