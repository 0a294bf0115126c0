"""Step 1: read the request and establish that its client and redirect URI can be trusted.

Parameters come from the query (GET) or the form (POST, Okta's ``authorizeWithPost``). The
server must exist and be active, ``client_id`` must name an active app, and ``redirect_uri``
must be one of the app's registered URIs, compared exactly (a ``*.`` subdomain pattern only
when the app has ``wildcard_redirect: SUBDOMAIN``; see
:func:`~ostiary.domain.clients.redirect_uris.redirect_uri_registered`). A ``request_uri``
from ``/v1/par`` (RFC 9126) stands for the parameters pushed there. Failures here raise
:class:`ErrorPage`: nothing is redirected until the redirect URI is known to be the client's.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.domain.clients.client_cache import Client, get_active_client
from ostiary.domain.clients.redirect_uris import redirect_uri_registered
from ostiary.domain.tokens import pushed_requests
from ostiary.http.errors import OAuthHTTPError
from ostiary.http.oauth.authorize.errors import AuthorizeError, ErrorPage
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.params import oauth_params
from ostiary.http.oauth.server_context import ServerContext, resolve_server
from ostiary.http.runtime import runtime

INVALID_CLIENT = "Invalid value for the `client_id` parameter."
REDIRECT_NOT_REGISTERED = (
    "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings."
)
INVALID_REQUEST_URI = "The 'request_uri' is invalid, expired, already used or not this client's."
MAX_PARAM_LENGTH = 4096


async def parse_request(request: Request) -> Authorization:
    try:
        params = await oauth_params(request)
        server = await resolve_server(request)
    except OAuthHTTPError as exc:
        raise ErrorPage(exc.error, exc.description, exc.status) from None
    too_long = [name for name, value in params.items() if len(value) > MAX_PARAM_LENGTH]
    if too_long:
        raise ErrorPage("invalid_request", f"The '{too_long[0]}' parameter is too long.")
    client_id = params.get("client_id", "")
    if not client_id:
        raise ErrorPage("invalid_request", "The 'client_id' parameter is required.")
    rt = runtime(request)
    async with rt.db.session() as session:
        client = await get_active_client(session, server.org.id, client_id)
        if client is None:
            raise ErrorPage("invalid_client", INVALID_CLIENT)
        if "request_uri" in params:
            params = await pushed_params(session, server, client, params["request_uri"])
    return trusted_request(request, params, server, client)


async def pushed_params(
    session: AsyncSession, server: ServerContext, client: Client, request_uri: str
) -> dict[str, str]:
    """The parameters a ``request_uri`` from ``/v1/par`` names (RFC 9126 §4): only those count,
    whatever else the query carries; unknown, used, expired or another client's is an error page
    (the redirect URI is not known yet)."""
    pushed = await pushed_requests.take(
        session,
        org_id=server.org.id,
        server_id=server.server.id,
        client_id=client.id,
        request_uri=request_uri,
    )
    if pushed is None:
        raise ErrorPage("invalid_request_uri", INVALID_REQUEST_URI)
    return pushed


def trusted_request(
    request: Request, params: dict[str, str], server: ServerContext, client: Client
) -> Authorization:
    """The request, once its ``redirect_uri`` is known to be ``client``'s (else :class:`ErrorPage`)."""
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise ErrorPage("invalid_request", "The 'redirect_uri' parameter is required.")
    wildcard = (client.settings.get("oauthClient") or {}).get("wildcard_redirect") == "SUBDOMAIN"
    if not redirect_uri_registered(redirect_uri, client.redirect_uris, wildcard=wildcard):
        raise ErrorPage("invalid_request", REDIRECT_NOT_REGISTERED)
    return Authorization(
        request=request,
        params=params,
        org=server.org,
        server=server,
        client=client,
        redirect_uri=redirect_uri,
        state=params.get("state") or None,
    )


def check_state(authz: Authorization) -> None:
    """Okta requires ``state`` on every request (CSRF protection of the redirect URI). Request
    objects (``request``, ``request_uri``) are not supported, and say so (OIDC Core §6.1)."""
    if "request" in authz.params:
        raise AuthorizeError("request_not_supported", "The 'request' parameter is not supported.")
    if "request_uri" in authz.params:
        raise AuthorizeError("request_uri_not_supported", "The 'request_uri' parameter is not supported.")
    if authz.state is None:
        raise AuthorizeError("invalid_request", "The 'state' parameter is required.")
