"""The client credentials grant (RFC 6749 §4.4): a client's own token, no user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.expressions import EvalContext
from ostiary.domain.authz.policy_engine import TokenRequest
from ostiary.domain.authz.policy_sets import ServerPolicySet
from ostiary.domain.clients.okta_scopes import OKTA_SCOPES
from ostiary.domain.oauth_errors import OAuthError, unsupported_grant_type
from ostiary.domain.tokens.access_tokens import access_token_claims
from ostiary.domain.tokens.custom_claims import evaluate_claims
from ostiary.domain.tokens.grants.base import (
    GrantContext,
    ScopeGrant,
    TokenResponse,
    requested_scopes,
    resolved_scopes,
)

GRANT_TYPE = "client_credentials"
ORG_TOKEN_LIFETIME = 3600


async def issue(ctx: GrantContext) -> TokenResponse:
    """Run after the endpoint checked the client may use this grant type."""
    client = ctx.client
    scopes = requested_scopes(ctx.params)
    policy = SCOPE_POLICIES.get(ctx.server.kind)
    if policy is None:
        raise unsupported_grant_type()
    grant = await policy(ctx, scopes)
    claims = access_token_claims(
        issuer=ctx.issuer,
        audience=ctx.audiences[0] if len(ctx.audiences) == 1 else ctx.audiences,
        client_id=client.id,
        scopes=grant.scopes,
        lifetime_seconds=grant.access_token_lifetime,
        extra=grant.extra_claims,
    )
    token = await ctx.signer.sign(claims, ctx.ring.active)
    return TokenResponse(access_token=token, expires_in=grant.access_token_lifetime, scope=grant.scopes)


async def org_server_scopes(ctx: GrantContext, requested: Sequence[str]) -> ScopeGrant:
    """The org AS issues only okta.* scopes, and only those granted to the client."""
    if not requested:
        raise OAuthError("invalid_scope", "The `scope` parameter is required and can't be empty.")
    unknown = [s for s in requested if s not in OKTA_SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    granted = await ctx.storage.scope_grants.granted_scopes(ctx.org_id, ctx.client.id, ctx.org_url)
    missing = [s for s in requested if s not in granted]
    if missing:
        raise OAuthError(
            "invalid_scope",
            "The requested scopes are not granted to the client: " + " ".join(missing) + ".",
        )
    return ScopeGrant(scopes=tuple(requested), access_token_lifetime=ORG_TOKEN_LIFETIME)


async def policy_server_scopes(ctx: GrantContext, requested: Sequence[str]) -> ScopeGrant:
    """Default and custom servers: known scopes, then the access policies (no user).

    With no user, the outcome depends only on the server's policy snapshot, the client's id
    and label (what claim expressions can read of it) and the requested scopes, so a grant is
    remembered with the snapshot (``ctx.storage.decisions``: the runtime's
    ``DomainCaches.decisions``) and recomputed when the snapshot is replaced.
    """
    policy_set = await ctx.storage.policy_sets.policy_set(ctx.org_id, ctx.server.id)
    label = ctx.client.label
    key = (GRANT_TYPE, ctx.client.id, label, tuple(requested))
    decisions = ctx.storage.decisions
    remembered = decisions.get((ctx.org_id, ctx.server.id, key))
    if remembered is not None and remembered[0] is policy_set:
        return remembered[1]  # type: ignore[no-any-return]
    grant = _decide(ctx, policy_set, requested, label)
    decisions.set((ctx.org_id, ctx.server.id, key), (policy_set, grant))
    return grant


def _decide(
    ctx: GrantContext, policy_set: ServerPolicySet, requested: Sequence[str], label: str
) -> ScopeGrant:
    scopes = resolved_scopes(policy_set, requested)
    decision = policy_set.policies.evaluate(
        TokenRequest(
            client_id=ctx.client.id,
            user_id=None,
            user_group_ids=frozenset(),
            grant_type=GRANT_TYPE,
            scopes=scopes,
        )
    )
    if not decision.granted:
        raise OAuthError(decision.error or "access_denied", decision.error_description or "Access denied.")
    app = {"clientId": ctx.client.id, "id": ctx.client.id, "name": label}
    extra = evaluate_claims(
        policy_set.claims_for("RESOURCE", decision.scopes), EvalContext(app=app, org={"id": ctx.org_id})
    )
    lifetime = (decision.access_token_lifetime_minutes or 60) * 60
    return ScopeGrant(scopes=decision.scopes, access_token_lifetime=lifetime, extra_claims=extra)


ScopePolicy = Callable[[GrantContext, Sequence[str]], Awaitable[ScopeGrant]]

# How each kind of authorization server decides the scopes of a client's own token.
SCOPE_POLICIES: Mapping[str, ScopePolicy] = {
    server_lookup.ORG: org_server_scopes,
    server_lookup.DEFAULT: policy_server_scopes,
    server_lookup.CUSTOM: policy_server_scopes,
}
