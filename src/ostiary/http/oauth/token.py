"""``/v1/token`` (RFC 6749 §3.2): authenticate the client, run the grant, answer no-store JSON.

This is the hot path, so it is a plain ASGI app rather than a Starlette endpoint: it reads the
headers it needs in one pass (:func:`read_headers`) and answers as two messages, with no
``Request`` or ``Response`` object in between. ``http.fast_routes`` hands it the token paths
before the router, with the body it read once (:meth:`TokenEndpoint.answer`); the router serves
it too (same object). The request is a
list of named steps (:func:`_issue`); grants live in ``domain/tokens/grants``, their table in
its ``GRANTS``. Every OAuth error is rendered by ``http.errors``; anything else propagates to
the app's exception handlers like any endpoint's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope, Send

from ostiary.compact_json import dumps
from ostiary.domain.authz.key_rotation import KeyRing
from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.oauth_errors import INVALID_CLIENT, OAuthError, invalid_request, unsupported_grant_type
from ostiary.domain.orgs import Org
from ostiary.domain.tokens.grants import GRANTS
from ostiary.domain.tokens.grants.base import Grant, GrantContext, TokenResponse, check_grant_type_allowed
from ostiary.http.cors import actual_response_headers, trusted_origin_for
from ostiary.http.errors import oauth_error_body, oauth_error_headers, okta_error_body
from ostiary.http.oauth.client_auth import ASSERTION_METHODS, client_for
from ostiary.http.oauth.params import TOKEN_SECRETS, form_params
from ostiary.http.oauth.server_context import ServerContext, server_context
from ostiary.http.ratelimit import TOO_MANY
from ostiary.http.runtime import Runtime, runtime_of
from ostiary.http.token_clients import TOKEN_LIMIT, ClientRateLimited, TokenLimit

_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_JSON = (b"content-type", b"application/json")

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""``(status, headers, body)`` of a token answer, sent as two ASGI messages."""


@dataclass(slots=True)
class TokenHeaders:
    """The request headers the token path reads, from one pass over ``scope["headers"]``: the
    first of repeated ``Host``, ``Authorization``, ``Content-Type`` and ``Origin`` (as
    Starlette), and for ``http.input_guard``'s body rules the last ``Content-Type`` and whether
    a body was announced."""

    host: str = ""
    authorization: str | None = None
    content_type: str = ""
    origin: str | None = None
    last_content_type: str = ""
    has_body: bool = False


def read_headers(raw: list[tuple[bytes, bytes]]) -> TokenHeaders:
    host: str | None = None
    authorization = content_type = origin = None
    last_content_type, has_body = "", False
    for name, value in raw:
        if name == b"host":
            if host is None:
                host = value.decode("latin-1")
        elif name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"content-type":
            last_content_type = value.decode("latin-1")
            if content_type is None:
                content_type = last_content_type
        elif name == b"origin":
            if origin is None:
                origin = value.decode("latin-1")
        elif name == b"content-length":
            has_body = has_body or value.strip() not in (b"", b"0")
        elif name == b"transfer-encoding":
            has_body = True
    return TokenHeaders(host or "", authorization, content_type or "", origin, last_content_type, has_body)


class TokenEndpoint:
    """``POST {issuer}/v1/token`` (CORS for trusted origins included), mounted once: by
    ``http.fast_routes.TokenFastPath``, which calls :meth:`answer` with the body
    ``http.input_guard``'s rules were checked on, so the body is read once."""

    async def answer(self, scope: Scope, body: bytes, found: TokenHeaders) -> Answer:
        """The answer to a token request with this ``body``; OAuth errors are answers, anything
        else propagates (to the app's exception handlers)."""
        rt = runtime_of(scope)
        host = found.host
        state = scope["state"]
        try:
            params = form_params(scope.get("query_string", b""), found.content_type, body, TOKEN_SECRETS)
            request = TokenRequest(
                rt,
                host,
                scope.get("path_params", {}),
                params,
                found.authorization,
                state.get("org"),
                state.get(TOKEN_LIMIT),
            )
            result = await _issue(request)
            status, payload, headers = 200, result.as_json(), _NO_STORE
        except OAuthError as exc:
            status = exc.status
            payload = oauth_error_body(exc.error, exc.description)
            headers = _NO_STORE + raw_headers(oauth_error_headers(exc))
        except ClientRateLimited:
            status, payload, headers = 429, okta_error_body(*TOO_MANY), []
        limit = state.get(TOKEN_LIMIT)
        if limit is not None and limit.headers:
            headers = headers + limit.headers
        if found.origin:
            cors = actual_response_headers(
                await trusted_origin_for(rt, host, found.origin), credentials=False
            )
            headers = headers + raw_headers(cors)
        return json_answer(status, headers, payload)


def json_answer(status: int, headers: list[tuple[bytes, bytes]], payload: object) -> Answer:
    """``payload`` serialized once, with its length and type after ``headers``."""
    content = dumps(payload)
    return status, [*headers, (b"content-length", str(len(content)).encode()), _JSON], content


async def send_answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def raw_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One token request as the endpoint read it: what the steps below work on."""

    rt: Runtime
    host: str
    path_params: Mapping[str, str]
    params: dict[str, str]
    authorization: str | None
    org: Org | None = None
    """The org ``EdgeMiddleware`` resolved from the Host (None: look it up)."""
    limit: TokenLimit | None = None
    """The per-client rate limit ``EdgeMiddleware`` left for this request (None: no limits)."""


async def _issue(request: TokenRequest) -> TokenResponse:
    """The token endpoint's steps, in order (as node-oidc-provider's token action):
    read_form (done by the caller) → resolve_server → authenticate_client →
    check_grant_type_supported → check_grant_type_allowed → run_grant.

    Client authentication failing rolls the transaction back. Any later refusal commits it
    first and is raised after: a client assertion's ``jti`` is used up by authentication
    whatever follows (RFC 7523 §3), and a grant that refuses a replayed code or refresh token
    keeps the revocations it wrote.
    """
    rt = request.rt
    grant_type = _grant_type(request.params)
    server, ring = await resolve_server(request)
    async with rt.db.lazy_session() as session:
        caller = await _counted(request, authenticate_client(request, server, session))
        outcome = await _refusal_kept(_grant(request, server, ring, session, caller, grant_type))
    if isinstance(outcome, OAuthError):
        raise outcome  # the transaction committed above
    return outcome


def _grant_type(params: Mapping[str, str]) -> str:
    grant_type = params.get("grant_type")
    if not grant_type:
        raise invalid_request("The `grant_type` parameter is required.")
    return grant_type


async def resolve_server(request: TokenRequest) -> tuple[ServerContext, KeyRing]:
    """The authorization server of the path and host, and its signing keys (loaded before any
    write: keys commit on their own)."""
    rt = request.rt
    server = await server_context(rt, request.host, request.path_params, org=request.org)
    return server, await rt.rings.ring(server.org.id, server.server.id)


async def authenticate_client(
    request: TokenRequest, server: ServerContext, session: AsyncSession
) -> AuthenticatedClient:
    return await client_for(request.rt, session, server, request.params, "token", request.authorization)


async def _counted(
    request: TokenRequest, authentication: Awaitable[AuthenticatedClient]
) -> AuthenticatedClient:
    """The authenticated client, counted against its own ``token_client`` bucket; a failed
    authentication counts against its address's (``http.token_clients``)."""
    limit = request.limit
    if limit is None:
        return await authentication
    try:
        caller = await authentication
    except OAuthError as exc:
        if exc.error == INVALID_CLIENT:
            verdict = await limit.failed()
            if not verdict.allowed:
                raise ClientRateLimited from exc
        raise
    verdict = await limit.verified(caller.app.id)
    if not verdict.allowed:
        raise ClientRateLimited
    return caller


async def _refusal_kept(step: Awaitable[TokenResponse]) -> TokenResponse | OAuthError:
    """``step``'s token, or the OAuth error it raised as a value, so the transaction commits."""
    try:
        return await step
    except OAuthError as exc:
        return exc


async def _grant(
    request: TokenRequest,
    server: ServerContext,
    ring: KeyRing,
    session: AsyncSession,
    caller: AuthenticatedClient,
    grant_type: str,
) -> TokenResponse:
    grant = check_grant_type_supported(grant_type)
    check_grant_type_allowed(caller.app, grant_type)
    ctx = GrantContext(
        storage=request.rt.token_storage(session),
        org_id=server.org.id,
        org_url=server.org_url,
        server=server.server,
        issuer=server.issuer,
        audiences=server.audiences,
        client=caller.app,
        params=request.params,
        ring=ring,
        signer=request.rt.signer,
    )
    return await run_grant(grant, ctx, caller, session)


def check_grant_type_supported(grant_type: str) -> Grant:
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise unsupported_grant_type()
    return grant


async def run_grant(
    grant: Grant, ctx: GrantContext, caller: AuthenticatedClient, session: AsyncSession
) -> TokenResponse:
    if caller.method in ASSERTION_METHODS:
        # The assertion's jti is written: a failed grant undoes only its own writes.
        async with session.begin_nested():
            return await grant(ctx)
    return await grant(ctx)


token = TokenEndpoint()


async def exchange(request: TokenRequest) -> TokenResponse:
    """The token endpoint's steps for an in-process caller (the admin console's code exchange):
    the same checks and the same tokens as ``POST /v1/token``."""
    return await _issue(request)
