"""``/v1/token`` (RFC 6749 §3.2): authenticate the client, run the grant, answer no-store JSON.

This is the hot path, so it is a plain ASGI app rather than a Starlette endpoint: it reads the
four headers it needs in one pass, the body straight from ``receive``, and sends its answer as
two messages, with no ``Request`` or ``Response`` object in between. ``http.fast_routes`` hands
it the token paths before the router; the router serves it too (same object). Grants live in
``domain/tokens/grants``. Errors it does not map itself (a body over the cap) propagate to the
app's exception handlers like any endpoint's.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Receive, Scope, Send

from ostiary.compact_json import dumps
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens.grants import GRANTS
from ostiary.domain.tokens.grants.base import GrantContext, TokenResponse
from ostiary.http.cors import actual_response_headers, trusted_origin_for
from ostiary.http.errors import OAuthHTTPError, oauth_error_body, oauth_error_headers
from ostiary.http.oauth.client_auth import ASSERTION_METHODS, client_for
from ostiary.http.oauth.params import MAX_FORM_BYTES, TOKEN_SECRETS, form_params
from ostiary.http.oauth.servers import server_context
from ostiary.http.runtime import Runtime, runtime_of

_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_JSON = (b"content-type", b"application/json")
_WANTED = frozenset({b"host", b"authorization", b"content-type", b"origin"})


class TokenEndpoint:
    """``POST {issuer}/v1/token`` as an ASGI app (CORS for trusted origins included)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt = runtime_of(scope)
        found: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name in _WANTED and name not in found:  # the first of repeated headers, as Starlette
                found[name] = value.decode("latin-1")
        host, content_type = found.get(b"host", ""), found.get(b"content-type", "")
        authorization, origin = found.get(b"authorization"), found.get(b"origin")
        try:
            body = await _read_body(receive)
            params = form_params(scope.get("query_string", b""), content_type, body, TOKEN_SECRETS)
            result = await _issue(rt, host, scope.get("path_params", {}), params, authorization)
            status, payload, headers = 200, result.as_json(), _NO_STORE
        except OAuthError as exc:
            status = exc.status
            payload = oauth_error_body(exc.error, exc.description)
            headers = _NO_STORE + _raw(oauth_error_headers(exc))
        if origin:
            cors = actual_response_headers(await trusted_origin_for(rt, host, origin), credentials=False)
            headers = headers + _raw(cors)
        content = dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(content)).encode()), _JSON],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _raw(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""  # the client went away
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                raise OAuthHTTPError(413, "invalid_request", "The request body is too large.")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _issue(
    rt: Runtime, host: str, path_params: Mapping[str, str], params: dict[str, str], authorization: str | None
) -> TokenResponse:
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthHTTPError(400, "invalid_request", "The `grant_type` parameter is required.")
    grant = GRANTS.get(grant_type)
    ctx = await server_context(rt, host, path_params)
    ring = await rt.rings.ring(ctx.org.id, ctx.server.id)  # before any write: keys commit on their own
    failure: OAuthHTTPError | None = None
    async with rt.db.lazy_session() as session:
        client_auth = await client_for(rt, session, ctx, params, "token", authorization)
        if grant is None:
            failure = OAuthHTTPError(
                400, "unsupported_grant_type", "The grant type in the request isn't supported."
            )
        else:
            grant_ctx = GrantContext(
                session=session,
                org_id=ctx.org.id,
                org_url=ctx.org_url,
                server=ctx.server,
                issuer=ctx.issuer,
                audiences=ctx.audiences,
                client=client_auth.app,
                params=params,
                ring=ring,
                signer=rt.signer,
            )
            try:
                if client_auth.method in ASSERTION_METHODS:
                    # The assertion's jti is written: a failed grant undoes only its own writes.
                    async with session.begin_nested():
                        return await grant(grant_ctx)
                return await grant(grant_ctx)
            except OAuthError as exc:
                failure = OAuthHTTPError(exc.status, exc.error, exc.description)
    # Committed above even on failure: a used client_assertion jti must stay used.
    assert failure is not None
    raise failure


token = TokenEndpoint()
