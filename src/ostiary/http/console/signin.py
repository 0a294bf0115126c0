"""Console sign-in: OIDC authorization code + PKCE (S256) against the org authorization server.

``GET /admin/login`` makes sure the org has its console client
(:mod:`ostiary.domain.console.client`), remembers ``state``, ``nonce`` and the PKCE verifier in a
short-lived cookie (``ostiary_admin_login``: HttpOnly, SameSite=Lax, ``Path=/admin``, Secure on
https) and sends the browser to ``/oauth2/v1/authorize``, i.e. the org's hosted sign-in page.
``GET /admin/callback`` checks ``state``, redeems the code through the token endpoint's own steps
(in process: the same checks as ``POST /oauth2/v1/token``), checks the ID token's ``nonce``, and
admits the user only when :func:`console_access` says so: a console session is started and its
cookie set; anyone else gets the 403 page. ``POST /admin/signout`` (CSRF-checked) ends it.

The console must be opened at the org URL (``OSTIARY_BASE_URL``, or the org's subdomain): the
client's one redirect URI is ``{org URL}/admin/callback``.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ostiary import ids
from ostiary.domain.console.client import CALLBACK_PATH, ensure_console_client
from ostiary.domain.context import Tx
from ostiary.domain.directory import sessions as sessions_domain
from ostiary.domain.directory import users as users_domain
from ostiary.domain.errors import NotFound
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens.pkce import s256
from ostiary.http.auth import client_info
from ostiary.http.console.pages import (
    NOT_ADMIN,
    PREFIX,
    Admin,
    admin_page,
    admin_tx,
    clear_console_cookie,
    cookie_name,
    forbidden,
    is_admin,
    redirect,
    render,
    set_console_cookie,
)
from ostiary.http.login.page import safe_next
from ostiary.http.login.sessions import max_session_lifetime
from ostiary.http.oauth.token import TokenRequest, exchange
from ostiary.http.runtime import runtime

FLOW_COOKIE = "ostiary_admin_login"
FLOW_LIFETIME = 600
SIGN_IN_FAILED = "Signing in to the admin console did not complete. Start again from the console."


def _flow_cookie_name(request: Request) -> str:
    return f"__Secure-{FLOW_COOKIE}" if request.url.scheme == "https" else FLOW_COOKIE


def _encode(flow: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()


def _decode(value: str | None) -> dict[str, str] | None:
    if not value or len(value) > 4096:
        return None
    try:
        flow = json.loads(base64.urlsafe_b64decode(value.encode()))
    except ValueError:
        return None
    if not isinstance(flow, dict) or not all(isinstance(v, str) for v in flow.values()):
        return None
    return flow


async def login(request: Request) -> Response:
    rt = runtime(request)
    org = await rt.org_for(request)
    org_url = rt.org_url(org)
    async with rt.db.session() as session:
        client_id = await ensure_console_client(Tx(session=session, org=org), org_url)
    flow = {
        "state": ids.random_token(32),
        "nonce": ids.random_token(32),
        "verifier": ids.random_token(48),
        "next": safe_next(request.query_params.get("next")) or PREFIX,
        "client_id": client_id,
    }
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid profile email",
            "redirect_uri": org_url + CALLBACK_PATH,
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": s256(flow["verifier"]),
            "code_challenge_method": "S256",
        }
    )
    response = redirect(f"/oauth2/v1/authorize?{query}")
    response.set_cookie(
        _flow_cookie_name(request),
        _encode(flow),
        max_age=FLOW_LIFETIME,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


def _claims(jwt: str | None) -> dict[str, Any]:
    """The payload of a JWT that came straight from this server's token endpoint, in process
    (OIDC Core §3.1.3.7: the signature need not be checked on a direct channel to the issuer)."""
    if not jwt or jwt.count(".") != 2:
        return {}
    payload = jwt.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


async def callback(request: Request) -> Response:
    params = request.query_params
    flow = _decode(request.cookies.get(_flow_cookie_name(request)))
    state = params.get("state") or ""
    if flow is None or not hmac.compare_digest(state.encode(), flow.get("state", "").encode()):
        return _done(request, forbidden(request, SIGN_IN_FAILED))
    if params.get("error"):
        return _done(request, forbidden(request, f"{SIGN_IN_FAILED} ({params.get('error')})"))
    rt = runtime(request)
    org = await rt.org_for(request)
    token_request = TokenRequest(
        rt,
        request.headers.get("host", ""),
        {},
        {
            "grant_type": "authorization_code",
            "code": params.get("code") or "",
            "redirect_uri": rt.org_url(org) + CALLBACK_PATH,
            "code_verifier": flow.get("verifier", ""),
            "client_id": flow.get("client_id", ""),
        },
        None,
        org,
    )
    try:
        tokens = await exchange(token_request)
    except OAuthError:
        return _done(request, forbidden(request, SIGN_IN_FAILED))
    claims = _claims(tokens.id_token)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), flow["nonce"].encode()):
        return _done(request, forbidden(request, SIGN_IN_FAILED))
    user_id = str(claims.get("sub", ""))
    if not await is_admin(request, user_id):
        return _done(request, forbidden(request, NOT_ADMIN))
    async with rt.db.session() as session:
        tx = Tx(session=session, org=org, client=client_info(request))
        try:
            user = await users_domain.get_user(tx, user_id)
        except NotFound:
            return _done(request, forbidden(request, SIGN_IN_FAILED))
        amr = claims.get("amr")
        started = await sessions_domain.start_session(
            tx,
            user,
            amr=amr if isinstance(amr, list) else ["pwd"],
            max_lifetime=max_session_lifetime(request),
        )
    response = _done(request, redirect(safe_next(flow.get("next")) or PREFIX))
    set_console_cookie(response, request, started.secret)
    return response


def _done(request: Request, response: Response) -> Response:
    """``response`` with the one-use flow cookie removed."""
    response.delete_cookie(
        _flow_cookie_name(request),
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


async def _signout(request: Request, admin: Admin) -> Response:
    secret = request.cookies.get(cookie_name(request))
    async with admin_tx(request, admin) as tx:
        row = await sessions_domain.find_by_secret(tx, secret)
        if row is not None:
            await sessions_domain.end(tx, row)
    response = render(request, "signed_out.html", status=200)
    clear_console_cookie(response, request)
    return response


routes = [
    Route(f"{PREFIX}/login", login, methods=["GET"]),
    Route(CALLBACK_PATH, callback, methods=["GET"]),
    Route(f"{PREFIX}/signout", admin_page(_signout), methods=["POST"]),
]
