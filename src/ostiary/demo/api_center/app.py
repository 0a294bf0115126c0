"""The API Center demo app (:3090): sign in as a demo user, see the decoded tokens, call the gateway.

It is an ordinary OIDC web client of the org: the authorization-code flow with PKCE and a client
secret (tokens exchanged server-side), and the implicit ``token id_token`` flow the seed shows
(tokens arrive in the fragment; a few lines of JavaScript post them back, and the server checks
state, nonce and signatures). Sessions are server-side, keyed by a random HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ostiary.jose.b64 import b64url_decode, b64url_encode
from ostiary.jose.verify import KeySet, TokenInvalid, verify_jwt

COOKIE = "api_center_session"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)

_ERROR_FIELDS: tuple[str, ...] = ("error", "error_description")


@dataclass(frozen=True)
class DemoAppConfig:
    issuer: str
    client_id: str
    client_secret: str
    app_url: str
    gateway_url: str
    audience: str
    scopes: dict[str, str]  # "silver"/"gold" → scope name
    users: list[dict[str, Any]] = field(default_factory=list)
    endpoints: tuple[str, ...] = ("planets", "moons")


@dataclass
class DemoSession:
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # state → nonce, verifier, flow
    tokens: dict[str, Any] | None = None
    last_call: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)


def decode_part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(b64url_decode(segment))
    return decoded


def describe_token(token: str) -> dict[str, Any]:
    claims = decode_part(token, 1)
    scopes = claims.get("scp") or []
    remaining = int(claims.get("exp", 0) - time.time())
    return {
        "header": json.dumps(decode_part(token, 0), indent=2),
        "claims": json.dumps(claims, indent=2),
        "scopes": scopes,
        "expires_in": max(remaining, 0),
    }


class DemoApp:
    def __init__(self, config: DemoAppConfig) -> None:
        self.config = config
        self.sessions: dict[str, DemoSession] = {}
        self._http: aiohttp.ClientSession | None = None
        self._keys: KeySet | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def session(self, request: Request) -> tuple[str, DemoSession]:
        sid = request.cookies.get(COOKIE)
        if sid and sid in self.sessions:
            return sid, self.sessions[sid]
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = DemoSession()
        return sid, self.sessions[sid]

    def _with_cookie(self, response: Response, sid: str, request: Request) -> Response:
        response.set_cookie(
            COOKIE, sid, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
        )
        return response

    async def keys(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            async with self.http.get(f"{self.config.issuer}/v1/keys") as response:
                self._keys = KeySet.from_jwks(await response.json())
        return self._keys

    async def verify(self, token: str, audience: str, nonce: str | None = None) -> dict[str, Any]:
        try:
            claims = verify_jwt(token, await self.keys(), issuer=self.config.issuer, audience=audience)
        except TokenInvalid as exc:
            if exc.reason != "unknown_kid":
                raise
            claims = verify_jwt(
                token, await self.keys(refresh=True), issuer=self.config.issuer, audience=audience
            )
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenInvalid("nonce", "the ID token's nonce does not match the request")
        return claims

    # -- pages -------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        sid, session = self.session(request)
        context: dict[str, Any] = {
            "config": self.config,
            "error": request.query_params.get("error"),
            "error_description": request.query_params.get("error_description"),
            "tokens": None,
            "last_call": session.last_call,
        }
        if session.tokens:
            context["tokens"] = {
                "user": session.tokens.get("user"),
                "flow": session.tokens.get("flow"),
                "access": describe_token(session.tokens["access_token"]),
                "id": describe_token(session.tokens["id_token"]) if session.tokens.get("id_token") else None,
            }
        html = TEMPLATES.get_template("index.html").render(**context)
        return self._with_cookie(HTMLResponse(html), sid, request)

    async def login(self, request: Request) -> Response:
        """Start a flow: ``flow`` is code or implicit, ``tier`` silver or gold, ``user`` a login hint."""
        sid, session = self.session(request)
        flow = request.query_params.get("flow", "code")
        tier = request.query_params.get("tier", "silver")
        scopes = ["openid", "profile", "email", self.config.scopes["silver"]]
        if tier == "gold":
            scopes.append(self.config.scopes["gold"])
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {
            "client_id": self.config.client_id,
            "scope": " ".join(scopes),
            "state": state,
            "nonce": nonce,
            "prompt": "login",
        }
        if request.query_params.get("user"):
            params["login_hint"] = request.query_params["user"]
        pending: dict[str, Any] = {"nonce": nonce, "flow": flow, "user": request.query_params.get("user")}
        if flow == "implicit":
            params.update(
                response_type="token id_token",
                response_mode="fragment",
                redirect_uri=f"{self.config.app_url}/implicit/callback",
            )
        else:
            verifier = secrets.token_urlsafe(48)
            pending["verifier"] = verifier
            params.update(
                response_type="code",
                redirect_uri=f"{self.config.app_url}/authorization-code/callback",
                code_challenge=b64url_encode(hashlib.sha256(verifier.encode()).digest()),
                code_challenge_method="S256",
            )
        session.pending = {state: pending}
        location = f"{self.config.issuer}/v1/authorize?{urlencode(params)}"
        return self._with_cookie(RedirectResponse(location, status_code=302), sid, request)

    def _take_pending(self, session: DemoSession, state: str | None) -> dict[str, Any] | None:
        if not state:
            return None
        return session.pending.pop(state, None)

    async def code_callback(self, request: Request) -> Response:
        sid, session = self.session(request)
        params = request.query_params
        if "error" in params:
            return RedirectResponse(
                "/?" + urlencode({k: params[k] for k in ("error", "error_description") if k in params}), 302
            )
        pending = self._take_pending(session, params.get("state"))
        if pending is None or pending["flow"] != "code":
            return RedirectResponse("/?" + urlencode({"error": "invalid_state"}), 302)
        form = {
            "grant_type": "authorization_code",
            "code": params.get("code", ""),
            "redirect_uri": f"{self.config.app_url}/authorization-code/callback",
            "code_verifier": pending["verifier"],
        }
        auth = aiohttp.BasicAuth(self.config.client_id, self.config.client_secret)
        async with self.http.post(f"{self.config.issuer}/v1/token", data=form, auth=auth) as response:
            body = await response.json()
        if "access_token" not in body:
            return RedirectResponse(
                "/?"
                + urlencode(
                    {
                        "error": body.get("error", "token_error"),
                        "error_description": body.get("error_description", ""),
                    }
                ),
                302,
            )
        try:
            id_claims = await self.verify(body["id_token"], self.config.client_id, pending["nonce"])
            await self.verify(body["access_token"], self.config.audience)
        except TokenInvalid as exc:
            return RedirectResponse(
                "/?" + urlencode({"error": "invalid_token", "error_description": exc.description}), 302
            )
        session.tokens = {
            **body,
            "flow": "authorization code + PKCE",
            "user": id_claims.get("preferred_username"),
        }
        session.last_call = None
        return self._with_cookie(RedirectResponse("/", status_code=302), sid, request)

    async def implicit_callback(self, request: Request) -> Response:
        html = TEMPLATES.get_template("implicit_callback.html").render()
        return HTMLResponse(html)

    async def implicit_tokens(self, request: Request) -> Response:
        """The fragment's parameters, posted by the callback page's script."""
        _sid, session = self.session(request)
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        if "error" in values:
            return JSONResponse(
                {"redirect": "/?" + urlencode({k: values[k] for k in _ERROR_FIELDS if k in values})}
            )
        pending = self._take_pending(session, values.get("state"))
        if pending is None or pending["flow"] != "implicit":
            return JSONResponse({"redirect": "/?error=invalid_state"})
        try:
            id_claims = await self.verify(values.get("id_token", ""), self.config.client_id, pending["nonce"])
            await self.verify(values.get("access_token", ""), self.config.audience)
        except TokenInvalid as exc:
            return JSONResponse(
                {
                    "redirect": "/?"
                    + urlencode({"error": "invalid_token", "error_description": exc.description})
                }
            )
        session.tokens = {
            "access_token": values["access_token"],
            "id_token": values["id_token"],
            "flow": "implicit (token id_token)",
            "user": id_claims.get("preferred_username"),
        }
        session.last_call = None
        return JSONResponse({"redirect": "/"})

    async def call(self, request: Request) -> Response:
        """Call ``/planets`` or ``/moons`` through the gateway with the session's access token."""
        sid, session = self.session(request)
        form = await request.form()
        endpoint = str(form.get("endpoint", ""))
        if endpoint not in self.config.endpoints:
            return RedirectResponse("/?error=unknown_endpoint", 302)
        headers = {"Accept": "application/json"}
        if session.tokens:
            headers["Authorization"] = f"Bearer {session.tokens['access_token']}"
        try:
            async with self.http.get(f"{self.config.gateway_url}/{endpoint}", headers=headers) as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientError as exc:
            text, status = f"gateway unreachable: {type(exc).__name__}", 502
        try:
            shown = json.dumps(json.loads(text), indent=2)
        except ValueError:
            shown = text
        session.last_call = {"endpoint": endpoint, "status": status, "body": shown}
        return self._with_cookie(RedirectResponse("/#result", status_code=303), sid, request)

    async def logout(self, request: Request) -> Response:
        sid, session = self.session(request)
        id_token = (session.tokens or {}).get("id_token")
        self.sessions.pop(sid, None)
        response: Response = RedirectResponse("/", status_code=303)
        if id_token:
            params = {"id_token_hint": id_token, "post_logout_redirect_uri": f"{self.config.app_url}/"}
            response = RedirectResponse(
                f"{self.config.issuer}/v1/logout?{urlencode(params)}", status_code=303
            )
        response.delete_cookie(COOKIE, path="/")
        return response


def build_api_center_app(config: DemoAppConfig) -> Starlette:
    demo = DemoApp(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await demo.close()

    app = Starlette(
        routes=[
            Route("/", demo.index, methods=["GET"]),
            Route("/login", demo.login, methods=["GET"]),
            Route("/authorization-code/callback", demo.code_callback, methods=["GET"]),
            Route("/implicit/callback", demo.implicit_callback, methods=["GET"]),
            Route("/implicit/tokens", demo.implicit_tokens, methods=["POST"]),
            Route("/call", demo.call, methods=["POST"]),
            Route("/logout", demo.logout, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.demo = demo
    return app
