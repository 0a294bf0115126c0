"""``/v1/introspect`` (RFC 7662): authenticate the client, then the domain's answer
(:mod:`ostiary.domain.tokens.introspection`) as no-store JSON.

A plain ASGI endpoint like the token endpoint's (:class:`~ostiary.http.oauth.token.TokenEndpoint`),
mounted once, by ``http.fast_routes.TokenFastPath``, which hands it the body it read once and the
headers it read in one pass; only the CORS preflight (``OPTIONS``) is the router's. Why: profiled
under ``bench/verify_paths.py`` (py-spy), the generic request path (four ASGI layers, Starlette's
router, ``Request``/``Response`` objects, ``oauth_cors``'s wrapper, a session opened and closed
per request) was about half of an introspection's CPU in the serving process; the signature
check was a quarter. See ``docs/performance.md`` for the figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from ostiary.domain.clients.authentication import AuthenticatedClient
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import introspection
from ostiary.domain.tokens.verification import TokenServer
from ostiary.http.cors import actual_response_headers, trusted_origin_for
from ostiary.http.errors import oauth_error_body, oauth_error_headers
from ostiary.http.oauth.client_auth import with_client_lazily
from ostiary.http.oauth.params import CLIENT_CREDENTIALS, form_params
from ostiary.http.oauth.server_context import server_context
from ostiary.http.oauth.token import Answer, TokenHeaders, json_answer, raw_headers
from ostiary.http.runtime import runtime_of

_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class IntrospectEndpoint:
    """``POST {issuer}/v1/introspect`` (CORS for trusted origins included)."""

    async def answer(self, scope: Scope, body: bytes, found: TokenHeaders) -> Answer:
        """The answer to an introspection request with this ``body``; OAuth errors are answers,
        anything else propagates (to the app's exception handlers)."""
        rt = runtime_of(scope)
        try:
            # Okta's public demo sends ``token`` in the query string: only client credentials
            # are refused there.
            params = form_params(scope.get("query_string", b""), found.content_type, body, CLIENT_CREDENTIALS)
            ctx = await server_context(
                rt, found.host, scope.get("path_params", {}), org=scope["state"].get("org")
            )
            server = TokenServer(ctx.org.id, ctx.server.id, ctx.issuer)
            rings = rt.rings

            async def step(session: AsyncSession, caller: AuthenticatedClient) -> dict[str, Any]:
                token, hint = params.get("token"), params.get("token_type_hint")
                return await introspection.introspect(session, rings, server, caller, token, hint)

            payload: dict[str, Any] = await with_client_lazily(
                rt, ctx, params, "introspect", found.authorization, step
            )
            status, headers = 200, _NO_STORE
        except OAuthError as exc:
            status = exc.status
            payload = oauth_error_body(exc.error, exc.description)
            headers = _NO_STORE + raw_headers(oauth_error_headers(exc))
        if found.origin:
            cors = actual_response_headers(
                await trusted_origin_for(rt, found.host, found.origin), credentials=False
            )
            headers = headers + raw_headers(cors)
        return json_answer(status, headers, payload)


introspect_endpoint = IntrospectEndpoint()
