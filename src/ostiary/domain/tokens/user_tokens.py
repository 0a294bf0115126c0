"""Tokens for a signed-in user: the access token and the ID token (OpenID Connect Core §2).

Used by every user grant (authorization code, the implicit and hybrid responses of the
authorize endpoint, refresh tokens). Claims as Okta mints them (see the wire notes, §9):

- access token: ``ver jti iss aud iat exp cid uid scp auth_time sub`` (``sub`` = the login),
  then the server's RESOURCE claims that apply to the granted scopes;
- ID token: ``sub`` (the user id), ``name``/``email``/… as the scopes release them, ``ver iss
  aud iat exp jti amr idp nonce auth_time at_hash c_hash``, then the IDENTITY claims (a GROUPS
  claim included). An ID token delivered from the authorize endpoint *together with an access
  token* is "thin", as Okta's: no scope-dependent claims and only the IDENTITY claims marked
  ``alwaysIncludeInToken`` (the client reads the rest from ``/userinfo``).

The org authorization server has no custom claims; its ``groups`` scope releases all the
user's group names as ``groups``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.policy_sets import IDENTITY, RESOURCE, ClaimView
from ostiary.domain.tokens.access_tokens import UserSubject, access_token_claims, new_jti
from ostiary.domain.tokens.custom_claims import evaluate_claims
from ostiary.domain.tokens.grant_context import GrantContext, TokenResponse
from ostiary.domain.tokens.oidc_claims import claims_for_scopes
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.domain.tokens.user_context import UserContext, load_user_context
from ostiary.jose.signer import left_hash
from ostiary.timeutil import token_time

ID_TOKEN_LIFETIME: Final = 3600


async def _custom_claims(ctx: GrantContext, claim_type: str, scopes: Sequence[str]) -> tuple[ClaimView, ...]:
    if ctx.server.kind == server_lookup.ORG:
        return ()
    return (await ctx.storage.policy_sets.policy_set(ctx.org_id, ctx.server.id)).claims_for(
        claim_type, scopes
    )


def _audience(ctx: GrantContext) -> str | list[str]:
    return ctx.audiences[0] if len(ctx.audiences) == 1 else list(ctx.audiences)


async def mint_access_token(
    ctx: GrantContext,
    *,
    user: TokenUser,
    scopes: Sequence[str],
    lifetime: int,
    auth_time: int,
    context: UserContext,
    now: int | None = None,
    jti: str | None = None,
) -> str:
    extra = evaluate_claims(await _custom_claims(ctx, RESOURCE, scopes), context.eval)
    claims = access_token_claims(
        issuer=ctx.issuer,
        audience=_audience(ctx),
        client_id=ctx.client.id,
        scopes=scopes,
        lifetime_seconds=lifetime,
        user=UserSubject(user_id=user.id, login=user.login, auth_time=auth_time),
        extra=extra,
        now=now,
        jti=jti,
    )
    return await ctx.signer.sign(claims, ctx.ring.active)


async def mint_id_token(
    ctx: GrantContext,
    *,
    user: TokenUser,
    scopes: Sequence[str],
    auth_time: int,
    amr: Sequence[str],
    nonce: str | None,
    context: UserContext,
    access_token: str | None = None,
    code: str | None = None,
    thin: bool = False,
    now: int | None = None,
) -> str:
    """An ID token for ``ctx.client``; ``at_hash``/``c_hash`` bind it to the access token/code."""
    issued = token_time() if now is None else now
    alg = ctx.ring.active.alg
    released: Mapping[str, Any] = {} if thin else claims_for_scopes(user, scopes)
    claims: dict[str, Any] = {"sub": user.id}
    for name in ("name", "email"):
        if name in released:
            claims[name] = released[name]
    claims.update(
        {
            "ver": 1,
            "iss": ctx.issuer,
            "aud": ctx.client.id,
            "iat": issued,
            "exp": issued + ID_TOKEN_LIFETIME,
            "jti": new_jti("ID"),
            "amr": list(amr),
            "idp": ctx.org_id,
        }
    )
    if nonce is not None:
        claims["nonce"] = nonce
    for name, value in released.items():
        claims.setdefault(name, value)
    claims["auth_time"] = auth_time
    if access_token is not None:
        claims["at_hash"] = left_hash(access_token, alg)
    if code is not None:
        claims["c_hash"] = left_hash(code, alg)
    for name, value in (await _identity_claims(ctx, scopes, context, thin)).items():
        claims.setdefault(name, value)
    return await ctx.signer.sign(claims, ctx.ring.active)


async def _identity_claims(
    ctx: GrantContext, scopes: Sequence[str], context: UserContext, thin: bool
) -> dict[str, Any]:
    if ctx.server.kind == server_lookup.ORG:
        if thin or "groups" not in scopes:
            return {}
        return {"groups": [group.name for group in context.eval.groups]}
    claims = await _custom_claims(ctx, IDENTITY, scopes)
    if thin:
        claims = tuple(c for c in claims if c.always_include_in_token)
    return evaluate_claims(claims, context.eval)


async def mint_user_tokens(
    ctx: GrantContext,
    *,
    user: TokenUser,
    scopes: Sequence[str],
    access_lifetime: int,
    auth_time: int,
    amr: Sequence[str],
    nonce: str | None,
    include_id_token: bool,
    code: str | None = None,
    now: int | None = None,
    access_jti: str | None = None,
) -> TokenResponse:
    """An access token for ``user`` and, with ``include_id_token`` and ``openid`` granted, an
    ID token carrying ``at_hash`` (and ``c_hash`` when ``code`` is given). ``refresh_token``
    is left for the caller to fill in. ``now`` (the tokens' ``iat``) and ``access_jti``: chosen
    by the caller, which then knows the access token's ``jti`` and ``exp`` without reading
    them back from it."""
    context = await load_user_context(ctx.storage.users, ctx.org_id, ctx.client, user)
    now = token_time() if now is None else now
    access_token = await mint_access_token(
        ctx,
        user=user,
        scopes=scopes,
        lifetime=access_lifetime,
        auth_time=auth_time,
        context=context,
        now=now,
        jti=access_jti,
    )
    id_token = None
    if include_id_token and "openid" in scopes:
        id_token = await mint_id_token(
            ctx,
            user=user,
            scopes=scopes,
            auth_time=auth_time,
            amr=amr,
            nonce=nonce,
            context=context,
            access_token=access_token,
            code=code,
            now=now,
        )
    return TokenResponse(
        access_token=access_token, expires_in=access_lifetime, scope=tuple(scopes), id_token=id_token
    )


__all__ = ["ID_TOKEN_LIFETIME", "mint_access_token", "mint_id_token", "mint_user_tokens"]
