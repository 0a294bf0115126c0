"""A tiny OIDC client web app for the browser tests, served by uvicorn on a thread.

``/start?flow=code|implicit[&prompt=...]`` sends the browser to ``/authorize`` with a fresh
state and nonce; ``/callback`` exchanges the code (client_secret_basic) and shows what it got;
``/implicit`` shows the fragment it received (the tokens never reach this server); ``/logout``
sends the browser to the org's ``/logout`` with the last ID token; ``/signed-out`` is where it
comes back. Everything received is shown as JSON in ``<pre id="result">``.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route


def decoded(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@dataclass
class ClientConfig:
    issuer: str
    client_id: str
    client_secret: str
    base_url: str
    scope: str = "openid profile email"
    pending: dict[str, str] = field(default_factory=dict)  # state → nonce
    last_id_token: str | None = None

    @property
    def callback(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def implicit_callback(self) -> str:
        return f"{self.base_url}/implicit"

    @property
    def signed_out(self) -> str:
        return f"{self.base_url}/signed-out"


def _page(title: str, result: Any, script: str = "") -> HTMLResponse:
    body = html.escape(json.dumps(result, indent=2)) if result is not None else ""
    return HTMLResponse(
        f"<!doctype html><title>{title}</title><h1>{title}</h1><pre id='result'>{body}</pre>{script}"
    )


def build_client_app(config: ClientConfig) -> Starlette:
    async def start(request: Request) -> Response:
        flow = request.query_params.get("flow", "code")
        state, nonce = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
        config.pending[state] = nonce
        params = {
            "client_id": config.client_id,
            "response_type": "code" if flow == "code" else "token id_token",
            "redirect_uri": config.callback if flow == "code" else config.implicit_callback,
            "scope": config.scope,
            "state": state,
            "nonce": nonce,
        }
        for extra in ("prompt", "login_hint", "max_age"):
            if extra in request.query_params:
                params[extra] = request.query_params[extra]
        return RedirectResponse(f"{config.issuer}/v1/authorize?{urlencode(params)}", status_code=302)

    async def callback(request: Request) -> Response:
        query = dict(request.query_params)
        if "error" in query:
            return _page("Error", query)
        nonce = config.pending.pop(query.get("state", ""), None)
        answer = requests.post(
            f"{config.issuer}/v1/token",
            data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": config.callback},
            auth=(config.client_id, config.client_secret),
            timeout=10,
        )
        tokens = answer.json()
        result: dict[str, Any] = {"status": answer.status_code, "state_known": nonce is not None}
        if answer.status_code == 200:
            config.last_id_token = tokens.get("id_token")
            result["access_token"] = decoded(tokens["access_token"])
            result["id_token"] = decoded(tokens["id_token"])
            result["nonce_ok"] = result["id_token"].get("nonce") == nonce
        else:
            result["error"] = tokens
        return _page("Signed in", result)

    async def implicit(_request: Request) -> Response:
        script = (
            "<script>const p = new URLSearchParams(location.hash.slice(1));"
            "document.getElementById('result').textContent = JSON.stringify(Object.fromEntries(p));</script>"
        )
        return _page("Implicit", None, script)

    async def logout(_request: Request) -> Response:
        params = {
            "id_token_hint": config.last_id_token or "",
            "post_logout_redirect_uri": config.signed_out,
            "state": "bye",
        }
        return RedirectResponse(f"{config.issuer}/v1/logout?{urlencode(params)}", status_code=302)

    async def signed_out(request: Request) -> Response:
        return _page("Signed out", dict(request.query_params))

    return Starlette(
        routes=[
            Route("/start", start),
            Route("/callback", callback),
            Route("/implicit", implicit),
            Route("/logout", logout),
            Route("/signed-out", signed_out),
        ]
    )


@contextmanager
def serve_in_thread(app: Starlette, port: int) -> Iterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="test-client-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test client app did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=5)
