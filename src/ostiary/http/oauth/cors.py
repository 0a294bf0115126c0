"""CORS on the OAuth endpoints that pages call with ``fetch`` (token, keys, introspect, revoke,
userinfo, discovery): headers only for ACTIVE trusted origins with the CORS scope, none for
anyone else, errors included. No credentials: these endpoints never read cookies."""

from __future__ import annotations

from ostiary.http.cors import Handler, cors_headers, preflight_endpoint
from ostiary.http.errors import OAuthHTTPError, oauth_error


def oauth_cors(handler: Handler) -> Handler:
    async def endpoint(request):  # type: ignore[no-untyped-def]
        try:
            response = await handler(request)
        except OAuthHTTPError as exc:
            headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **exc.headers}
            response = oauth_error(exc.status, exc.error, exc.description, headers)
        headers = await cors_headers(request, credentials=False)
        vary = headers.pop("Vary", None)
        response.headers.update(headers)
        if vary:
            response.headers.add_vary_header(vary)
        return response

    return endpoint


def oauth_preflight(*methods: str) -> Handler:
    return preflight_endpoint(*methods, credentials=False)
