"""Forward-auth: the gateway as the authorization sub-request of a proxy the team already
runs (nginx ``auth_request``, Traefik ``ForwardAuth``, Caddy ``forward_auth``), as
oauth2-proxy is used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from ostiary.access_gateway.proxy import pages
from ostiary.access_gateway.proxy.assertion import HEADER as ASSERTION_HEADER
from ostiary.access_gateway.proxy.attributes import header_value, session_attributes
from ostiary.access_gateway.proxy.config import Policy, ProxyApp
from ostiary.access_gateway.proxy.exchange import START, Answer, Exchange, public_origin
from ostiary.access_gateway.proxy.policies import needs_session, policies_for, sends_identity
from ostiary.access_gateway.proxy.sessions import GatewaySession
from ostiary.request_paths import path_problem

HEADERS: Final = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-groups")
"""Set in the answer; removed from what clients send upstream in the proxy mode."""


def forward_auth(
    ex: Exchange,
    app: ProxyApp,
    session: GatewaySession | None,
    admits: Callable[[ProxyApp, Policy, GatewaySession, str | None], bool],
    assertion: Callable[[ProxyApp, GatewaySession, str], str],
) -> Answer:
    """nginx ``auth_request`` (``X-Original-URI``), Traefik ``ForwardAuth`` and Caddy
    ``forward_auth`` (``X-Forwarded-Uri``). The original URI arrives as the client sent it:
    its path is percent-decoded and checked before the policy is chosen, as the proxy mode
    does. ``?redirect=1`` answers a missing session with a 302 to the sign-in (Traefik and
    Caddy hand the answer to the browser; nginx needs the 401 and an ``error_page``)."""
    original = ex.header(b"x-original-uri") or ex.header(b"x-forwarded-uri") or "/"
    path = unquote(urlsplit(original).path) or "/"
    if path_problem(path, allow_semicolons=True):
        return pages.blank(400)
    policies = policies_for(app, path)
    policy = policies[0]
    needed = any(needs_session(p, app) for p in policies)
    if not needed and (session is None or not sends_identity(policy, app)):
        return pages.blank(202)
    if session is None:
        if ex.query().get("redirect") in ("1", "true"):
            proto = ex.header(b"x-forwarded-proto")
            scheme = proto if proto in ("http", "https") else ex.scheme
            start = f"{public_origin(app, scheme)}{START}?rd={quote(original, safe='/')}"
            return pages.redirect(start)
        return pages.blank(401)
    if not all(admits(app, p, session, ex.remote) for p in policies):
        return pages.blank(403)
    status, headers, body = pages.blank(202)
    headers = [
        *headers,
        (b"x-auth-request-user", header_value(session.login).encode()),
        (b"x-auth-request-email", header_value(session.email or "").encode()),
        (b"x-auth-request-groups", header_value(",".join(session.groups)).encode()),
        (ASSERTION_HEADER.encode(), assertion(app, session, ex.scheme).encode()),
    ]
    identity, _cookies = session_attributes(app, session, ex.remote)
    headers += identity
    return status, headers, body
