"""Token preview: what a token request would get, without issuing anything.

Pick a server, a client, a grant type, a user (none for ``client_credentials``) and scopes:
the answer is the exact claims of the access token and the ID token, or the OAuth error the
request would get, with the rule trace (every policy and rule the engine looked at, in order,
matched or why not: client, grant type, people, scope).

Exact, because the tokens are minted by the same functions the endpoints use
(:func:`~ostiary.domain.tokens.user_tokens.mint_user_tokens` for a code,
``mint_access_token``/``mint_id_token`` as the authorize endpoint for ``implicit``, the
client credentials grant itself), with a signer that records the claims instead of signing
them. What only a real issuance fixes differs by nature: ``iat``, ``exp``, ``jti``,
``auth_time`` (the preview uses now), ``nonce`` (none), and ``at_hash``/``c_hash`` (they hash
the real token or code; left out). Nothing is written, except that a server's first signing
key is created if it has none (as on its first token).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.key_rotation import KeyRing
from ostiary.domain.authz.policy_engine import TokenRequest, TraceStep
from ostiary.domain.authz.policy_sets import policy_set
from ostiary.domain.clients.assignments import is_user_assigned
from ostiary.domain.clients.client_cache import Client, get_active_client
from ostiary.domain.context import Tx
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens.grant_context import GrantContext
from ostiary.domain.tokens.grants import client_credentials
from ostiary.domain.tokens.grants.base import check_grant_type_allowed, resolved_scopes
from ostiary.domain.tokens.storage import TokenStorage
from ostiary.domain.tokens.token_user import TokenUser, token_user
from ostiary.domain.tokens.user_context import UserContext, load_user_context
from ostiary.domain.tokens.user_scopes import check_requested_scopes, decide_user_scopes
from ostiary.domain.tokens.user_tokens import mint_access_token, mint_id_token, mint_user_tokens
from ostiary.jose.signing_keys import SigningKey
from ostiary.store.models import AuthorizationServer

GRANT_TYPES = ("authorization_code", "implicit", "client_credentials")
HASHES = ("at_hash", "c_hash")
NOT_ASSIGNED = "User is not assigned to the client application."


@dataclass(frozen=True)
class PreviewRequest:
    client_id: str
    grant_type: str
    scopes: tuple[str, ...]
    user: str | None = None
    """A user id or login; None for ``client_credentials``."""


@dataclass
class Preview:
    granted: bool = False
    scopes: tuple[str, ...] = ()
    access_token: dict[str, Any] | None = None
    id_token: dict[str, Any] | None = None
    error: str | None = None
    error_description: str | None = None
    policy_id: str | None = None
    rule_id: str | None = None
    trace: list[TraceStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"granted": self.granted}
        if self.granted:
            body.update(scopes=list(self.scopes), accessToken=self.access_token, idToken=self.id_token)
            body.update(policyId=self.policy_id, ruleId=self.rule_id)
        else:
            body.update(error=self.error, error_description=self.error_description)
        body["trace"] = [
            {
                "policyId": s.policy_id,
                "policyName": s.policy_name,
                "ruleId": s.rule_id,
                "ruleName": s.rule_name,
                "matched": s.matched,
                "reason": s.reason,
            }
            for s in self.trace
        ]
        body["notes"] = list(self.notes)
        return body


class _ClaimsRecorder:
    """A :class:`~ostiary.jose.signer.Signer` that keeps the claims and signs nothing."""

    def __init__(self) -> None:
        self.signed: list[dict[str, Any]] = []

    async def sign(self, claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str:
        self.signed.append(dict(claims))
        return f"preview.{len(self.signed)}.unsigned"

    def submit(self, signing_input: bytes, key: SigningKey) -> Any:
        raise NotImplementedError("the preview signs nothing")

    def start(self) -> None:
        return None

    def close(self, *, wait: bool = True) -> None:
        return None


def _without_hashes(claims: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if claims is None else {k: v for k, v in claims.items() if k not in HASHES}


async def preview_tokens(
    tx: Tx,
    server: AuthorizationServer,
    ring: KeyRing,
    request: PreviewRequest,
    *,
    org_url: str,
    storage: TokenStorage,
) -> Preview:
    """The preview of ``request`` at ``server`` (see the module docstring)."""
    result = Preview()
    recorder = _ClaimsRecorder()
    try:
        client = await get_active_client(tx.session, tx.org_id, request.client_id)
        if client is None:
            raise OAuthError("invalid_client", "The client does not exist or is not active.")
        if request.grant_type not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type", f"Preview supports {', '.join(GRANT_TYPES)}.")
        check_grant_type_allowed(client, request.grant_type)
        record = server_lookup.server_record(server)
        ctx = GrantContext(
            storage=storage,
            org_id=tx.org_id,
            org_url=org_url,
            server=record,
            issuer=server_lookup.issuer(record, org_url),
            audiences=tuple(server_lookup.audiences(record, org_url)),
            client=client,
            params={"grant_type": request.grant_type, "scope": " ".join(request.scopes)},
            ring=ring,
            signer=recorder,
        )
        if request.grant_type == "client_credentials":
            await _client_preview(tx, ctx, request, result)
        else:
            await _user_preview(tx, ctx, client, request, result)
    except OAuthError as exc:
        result.granted, result.error, result.error_description = False, exc.error, exc.description
        return result
    result.granted = True
    return result


async def _explain(
    tx: Tx,
    ctx: GrantContext,
    result: Preview,
    *,
    user_id: str | None,
    group_ids: frozenset[str],
    scopes: Sequence[str],
) -> None:
    """Record the policy engine's trace for the request (the org AS has no policies)."""
    if ctx.server.kind == server_lookup.ORG:
        result.notes.append("The org authorization server has no access policies.")
        return
    decision = (await policy_set(tx.session, ctx.org_id, ctx.server.id)).policies.evaluate(
        TokenRequest(
            client_id=ctx.client.id,
            user_id=user_id,
            user_group_ids=group_ids,
            grant_type=str(ctx.params["grant_type"]),
            scopes=tuple(scopes),
        ),
        explain=True,
    )
    result.trace = list(decision.trace)
    result.policy_id, result.rule_id = decision.policy_id, decision.rule_id


async def _client_preview(tx: Tx, ctx: GrantContext, request: PreviewRequest, result: Preview) -> None:
    if request.user:
        raise OAuthError("invalid_request", "A client_credentials token has no user: leave the user empty.")
    if ctx.server.kind != server_lookup.ORG:
        resolved = resolved_scopes(await policy_set(tx.session, ctx.org_id, ctx.server.id), request.scopes)
        await _explain(tx, ctx, result, user_id=None, group_ids=frozenset(), scopes=resolved)
    tokens = await client_credentials.issue(ctx)
    result.scopes = tuple(tokens.scope)
    result.access_token = _recorded(ctx)[0]


def _recorded(ctx: GrantContext) -> list[dict[str, Any]]:
    signer = ctx.signer
    assert isinstance(signer, _ClaimsRecorder)
    return signer.signed


async def _user(tx: Tx, ref: str | None) -> TokenUser:
    if not ref:
        raise OAuthError("invalid_request", "Choose the user the token would be for.")
    try:
        return token_user(await users_domain.get_user(tx, ref))
    except NotFound:
        raise OAuthError("invalid_request", f"No user {ref} in this org.") from None


async def _user_preview(
    tx: Tx, ctx: GrantContext, client: Client, request: PreviewRequest, result: Preview
) -> None:
    """As the authorize endpoint, then the code grant (or the implicit response)."""
    user = await _user(tx, request.user)
    scopes = await check_requested_scopes(tx.session, ctx.org_id, ctx.server, request.scopes)
    if user.status != "ACTIVE":
        raise OAuthError("access_denied", "The user is not active.")
    if not await is_user_assigned(tx.session, ctx.org_id, client.id, user.id):
        raise OAuthError("access_denied", NOT_ASSIGNED)
    context = await load_user_context(ctx.storage.users, ctx.org_id, client, user)
    await _explain(tx, ctx, result, user_id=user.id, group_ids=context.group_ids, scopes=scopes)
    decision = await decide_user_scopes(
        tx.session,
        ctx.org_id,
        ctx.server,
        client_id=client.id,
        user_id=user.id,
        group_ids=context.group_ids,
        scopes=scopes,
        grant_type=request.grant_type,
    )
    now = int(time.time())
    if request.grant_type == "implicit":
        await _implicit(ctx, user, scopes, decision.scopes, decision.access_token_lifetime, context, now)
    else:
        await mint_user_tokens(
            ctx,
            user=user,
            scopes=decision.scopes,
            access_lifetime=decision.access_token_lifetime,
            auth_time=now,
            amr=["pwd"],
            nonce=None,
            include_id_token=True,
        )
    signed = _recorded(ctx)
    result.scopes = decision.scopes
    result.access_token = signed[0]
    result.id_token = _without_hashes(signed[1]) if len(signed) > 1 else None


async def _implicit(
    ctx: GrantContext,
    user: TokenUser,
    scopes: Sequence[str],
    granted: Sequence[str],
    lifetime: int,
    context: UserContext,
    now: int,
) -> None:
    """``response_type=token id_token``: the access token, then the thin ID token."""
    access = await mint_access_token(
        ctx, user=user, scopes=granted, lifetime=lifetime, auth_time=now, context=context, now=now
    )
    if "openid" in scopes:
        await mint_id_token(
            ctx,
            user=user,
            scopes=scopes,
            auth_time=now,
            amr=["pwd"],
            nonce=None,
            context=context,
            access_token=access,
            thin=True,
            now=now,
        )
