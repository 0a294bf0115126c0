"""Routes of the OAuth/OIDC endpoints: the org AS under ``/oauth2/v1`` and every other server
under ``/oauth2/{authServerId}/v1``, served by the same handlers."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ostiary.http.oauth.discovery import oauth_authorization_server, openid_configuration
from ostiary.http.oauth.introspect import introspect
from ostiary.http.oauth.keys import keys
from ostiary.http.oauth.revoke import revoke
from ostiary.http.oauth.token import token


def routes() -> list[BaseRoute]:
    per_server = [
        ("/v1/token", token, ["POST"]),
        ("/v1/keys", keys, ["GET"]),
        ("/v1/introspect", introspect, ["POST"]),
        ("/v1/revoke", revoke, ["POST"]),
        ("/.well-known/openid-configuration", openid_configuration, ["GET"]),
        ("/.well-known/oauth-authorization-server", oauth_authorization_server, ["GET"]),
    ]
    found: list[BaseRoute] = [
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", oauth_authorization_server, methods=["GET"]),
    ]
    for path, handler, methods in per_server:
        if path.startswith("/v1/"):
            found.append(Route("/oauth2" + path, handler, methods=methods))
        found.append(Route("/oauth2/{authServerId}" + path, handler, methods=methods))
    return found
