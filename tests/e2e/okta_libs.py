"""Okta's own JavaScript libraries for the e2e tests, pinned in ``tests/e2e/node/package-lock.json``
and installed with ``npm ci`` into the git-ignored ``tests/e2e/node/node_modules`` on first use (a
file lock keeps parallel test workers from installing twice), plus the small servers around them:
a static single-page app over TLS that loads ``okta-auth-js`` (:func:`spa_site`) and an Express
app with ``@okta/oidc-middleware`` (:func:`express_app`)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from tests.e2e.servers import OrgServer, running

NODE_DIR = Path(__file__).resolve().parent / "node"
MODULES = NODE_DIR / "node_modules"
AUTH_JS = MODULES / "@okta" / "okta-auth-js" / "dist" / "okta-auth-js.min.js"
CHROMIUM = "/usr/bin/chromium"
LOGIN = "lois.lane@example.com"
PASSWORD = "Tr1cky-Secret!"


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's Python package (never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _installed() -> bool:
    """``npm ci`` finished for the current lock file (npm writes its own copy last)."""
    own_copy = MODULES / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    return own_copy.exists() and own_copy.stat().st_mtime >= lock.stat().st_mtime


def install_node_modules() -> Path:
    """Install the pinned packages once; skip when this machine has no npm (like no Chromium)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed():
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return MODULES


def admin_session(org: OrgServer, name: str) -> requests.Session:
    admin = requests.Session()
    admin.headers.update({"Authorization": f"SSWS {org.create_token(name)}", "Accept": "application/json"})
    return admin


def ensure_user(admin: requests.Session, org: OrgServer) -> None:
    user = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Lois", "lastName": "Lane"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    created = admin.post(f"{org.url}/api/v1/users?activate=true", json=user)
    assert created.status_code == 200 or "already exists" in created.text, created.text


def create_assigned_app(admin: requests.Session, org: OrgServer, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/apps with ``body`` as Okta's guides write it, assigned to Everyone."""
    created = admin.post(f"{org.url}/api/v1/apps", json=body)
    assert created.status_code == 200, created.text
    app = dict(created.json())
    everyone = admin.get(f"{org.url}/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assigned = admin.put(f"{org.url}/api/v1/apps/{app['id']}/groups/{everyone}", json={})
    assert assigned.status_code == 200, assigned.text
    return app


def trust_origin(admin: requests.Session, org: OrgServer, origin: str) -> None:
    body = {"name": origin, "origin": origin, "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}]}
    created = admin.post(f"{org.url}/api/v1/trustedOrigins", json=body)
    assert created.status_code == 200, created.text


# --- the single-page app ---------------------------------------------------------------------

SPA_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>okta-auth-js SPA</title>
<script src="/okta-auth-js.min.js"></script></head>
<body><pre id="status">loading</pre>
<script>
const config = __CONFIG__;
const OktaAuthClass = OktaAuth.OktaAuth || OktaAuth;
window.authClient = new OktaAuthClass({
  issuer: config.issuer,
  clientId: config.clientId,
  redirectUri: window.location.origin + "/login/callback",
  postLogoutRedirectUri: window.location.origin + "/",
  scopes: ["openid", "profile", "email"],
  pkce: true,
  tokenManager: { autoRenew: false, storage: "localStorage" },
  restoreOriginalUri: async () => {},
});
const status = document.getElementById("status");
window.ready = (async () => {
  if (authClient.isLoginRedirect()) {
    await authClient.handleLoginRedirect();
    window.history.replaceState(null, "", "/");
    return "signed-in";
  }
  return "loaded";
})().then(
  (value) => { status.textContent = value; return value; },
  (error) => { status.textContent = "error: " + error; throw error; },
);
</script>
</body>
</html>
"""

FOREIGN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A foreign site</title></head>
<body>
<script>
window.messages = [];
window.addEventListener("message", (event) => window.messages.push(event.origin));
const frame = document.createElement("iframe");
frame.onload = () => { window.frameLoaded = true; };
frame.src = __SRC__;
document.body.appendChild(frame);
</script>
</body>
</html>
"""


def spa_site(issuer: str, client_id: str) -> Starlette:
    """Every path serves the SPA page (its router is okta-auth-js itself), except the library and
    ``/foreign?src=URL``, a page that frames ``src`` and records the messages it receives."""
    config = json.dumps({"issuer": issuer, "clientId": client_id})

    async def library(request: Request) -> Response:
        return FileResponse(AUTH_JS, media_type="text/javascript")

    async def foreign(request: Request) -> Response:
        return HTMLResponse(FOREIGN_PAGE.replace("__SRC__", json.dumps(request.query_params["src"])))

    async def page(request: Request) -> Response:
        return HTMLResponse(SPA_PAGE.replace("__CONFIG__", config))

    return Starlette(
        routes=[
            Route("/okta-auth-js.min.js", library),
            Route("/foreign", foreign),
            Route("/{path:path}", page),
        ]
    )


@contextmanager
def serve_tls_in_thread(app: Starlette, port: int) -> Iterator[None]:
    """``app`` over https on 127.0.0.1 with the tests' localhost certificate."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ssl_certfile=os.environ["OSTIARY_TEST_TLS_CERT"],
        ssl_keyfile=os.environ["OSTIARY_TEST_TLS_KEY"],
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-spa-site", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the SPA site did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=5)


# --- the Express app -------------------------------------------------------------------------


@contextmanager
def express_app(
    org: OrgServer, issuer: str, client_id: str, secret: str, port: int, log: Path
) -> Iterator[str]:
    """``node express_app.js`` (Okta's README example) on ``http://localhost:{port}``."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    base = f"http://localhost:{port}"
    env = {
        "ISSUER": issuer,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "APP_BASE_URL": base,
        "PORT": str(port),
        "NODE_EXTRA_CA_CERTS": os.environ["SSL_CERT_FILE"],  # the org's certificate comes from a test CA
    }
    with running([node, str(NODE_DIR / "express_app.js")], f"{base}/healthz", env, log):
        yield base
