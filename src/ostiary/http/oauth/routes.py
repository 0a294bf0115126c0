"""Routes of the OAuth/OIDC endpoints: the org AS under ``/oauth2/v1`` and every other server
under ``/oauth2/{authServerId}/v1``, served by the same handlers.

Endpoints that pages call with ``fetch`` get CORS for trusted origins (and an ``OPTIONS``
preflight); the browser-navigation endpoints (authorize, its resume and consent pages, logout)
do not."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ostiary.http.oauth.activate import activate
from ostiary.http.oauth.authorize import authorize, resume
from ostiary.http.oauth.consent import consent
from ostiary.http.oauth.cors import oauth_cors, oauth_preflight
from ostiary.http.oauth.device import device_authorize
from ostiary.http.oauth.discovery import oauth_authorization_server, openid_configuration
from ostiary.http.oauth.jwks import keys
from ostiary.http.oauth.logout import logout
from ostiary.http.oauth.par import par
from ostiary.http.oauth.revoke import revoke
from ostiary.http.oauth.userinfo import userinfo

GET, POST, GET_POST = ["GET"], ["POST"], ["GET", "POST"]


def routes() -> list[BaseRoute]:
    with_cors = [
        ("/v1/keys", keys, GET),
        ("/v1/revoke", revoke, POST),
        ("/v1/par", par, POST),
        ("/v1/device/authorize", device_authorize, POST),
        ("/v1/userinfo", userinfo, GET_POST),
        ("/.well-known/openid-configuration", openid_configuration, GET),
        ("/.well-known/oauth-authorization-server", oauth_authorization_server, GET),
    ]
    navigation = [
        ("/v1/authorize", authorize, GET_POST),
        ("/v1/authorize/resume", resume, GET),
        ("/v1/authorize/consent", consent, GET_POST),
        ("/v1/logout", logout, GET_POST),
    ]
    per_server: list[tuple[str, object, list[str]]] = [
        # POST (and its 405s) is http.fast_routes.TokenFastPath's, which skips the router
        ("/v1/token", oauth_preflight(*POST), ["OPTIONS"]),
        ("/v1/introspect", oauth_preflight(*POST), ["OPTIONS"]),
    ]
    for path, handler, methods in with_cors:
        per_server.append((path, oauth_cors(handler), methods))
        per_server.append((path, oauth_preflight(*methods), ["OPTIONS"]))
    per_server.extend(navigation)
    found: list[BaseRoute] = [Route("/activate", activate, methods=GET_POST)]
    for path, endpoint, methods in per_server:
        if path.startswith("/.well-known/"):
            found.append(Route(path, endpoint, methods=methods))  # type: ignore[arg-type]
        else:
            found.append(Route("/oauth2" + path, endpoint, methods=methods))  # type: ignore[arg-type]
        found.append(Route("/oauth2/{authServerId}" + path, endpoint, methods=methods))  # type: ignore[arg-type]
    return found
