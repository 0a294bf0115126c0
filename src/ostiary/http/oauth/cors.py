"""CORS on the OAuth endpoints that pages call with ``fetch`` (token, keys, introspect, revoke,
userinfo, discovery): headers only for ACTIVE trusted origins with the CORS scope, none for
anyone else, errors included. No credentials: these endpoints never read cookies."""

from __future__ import annotations

from ostiary.domain.oauth_errors import OAuthError
from ostiary.http.cors import Handler, apply_cors, cors_headers, preflight_endpoint
from ostiary.http.errors import oauth_error_response


def oauth_cors(handler: Handler) -> Handler:
    async def endpoint(request):  # type: ignore[no-untyped-def]
        try:
            response = await handler(request)
        except OAuthError as exc:
            response = oauth_error_response(exc)
        apply_cors(response, await cors_headers(request, credentials=False))
        return response

    return endpoint


def oauth_preflight(*methods: str) -> Handler:
    return preflight_endpoint(*methods, credentials=False)
