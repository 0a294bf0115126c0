"""Issue 16, forward-auth: Debian's nginx with ``auth_request`` in front of the echo app, the
access gateway proxy answering ``/_ostiary/auth`` and serving ``/_ostiary/start`` and the
callback; a sign-in through nginx lands on the app with the identity headers nginx copied
from the gateway's answer, and forged ones never arrive. nginx runs as a plain process with
a generated configuration on free ports (``.ci/run`` installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import requests

from ostiary.access_gateway.proxy.app import make_proxy_app
from ostiary.access_gateway.proxy.assertion import jwks_document
from ostiary.access_gateway.proxy.catalog import StaticAppCatalog
from tests.e2e.oag_proxy_env import (
    PASSWORD,
    EchoApp,
    Org,
    app_document,
    localhost_names_resolve_to_loopback,
    serve_asgi,
)
from tests.e2e.okta_libs import CHROMIUM, launched_chromium
from tests.e2e.servers import OrgServer, free_port, wait_until_up

ALICE = "alice.nginx@example.com"

NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    server_name legacy.localhost;
{body}
  }}
}}
"""

# What docs/access-gateway.md shows, with the ports filled in.
SERVER_BODY = """
    location = /_ostiary/auth {{
      internal;
      proxy_pass http://127.0.0.1:{gateway};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
    }}
    location /_ostiary/ {{
      proxy_pass http://127.0.0.1:{gateway};
      proxy_set_header Host $http_host;
    }}
    location @ostiary_sign_in {{
      return 302 /_ostiary/start?rd=$request_uri;
    }}
    location / {{
      auth_request /_ostiary/auth;
      error_page 401 = @ostiary_sign_in;
      auth_request_set $ostiary_user $upstream_http_x_auth_request_user;
      auth_request_set $ostiary_email $upstream_http_x_auth_request_email;
      auth_request_set $ostiary_groups $upstream_http_x_auth_request_groups;
      auth_request_set $ostiary_remote_user $upstream_http_x_remote_user;
      auth_request_set $ostiary_assertion $upstream_http_x_ostiary_assertion;
      proxy_set_header X-Auth-Request-User $ostiary_user;
      proxy_set_header X-Auth-Request-Email $ostiary_email;
      proxy_set_header X-Auth-Request-Groups $ostiary_groups;
      proxy_set_header X-Remote-User $ostiary_remote_user;
      proxy_set_header X-Ostiary-Assertion $ostiary_assertion;
      proxy_pass http://127.0.0.1:{upstream};
    }}
"""


@dataclass
class Site:
    org: Org
    public: str
    echo: EchoApp
    jwks: dict[str, object]
    issuer: str


@pytest.fixture(scope="module")
def site(org: OrgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("Debian's nginx is not installed (.ci/run installs it)")
    admin = Org(org, "oag-nginx")
    alice = admin.user(ALICE, "Alice", "Nginx")
    staff = admin.group("Nginx Staff", alice)
    port, gateway_port, echo_port = free_port(), free_port(), free_port()
    public = f"http://legacy.localhost:{port}"
    document = app_document(
        "legacy-nginx",
        f"legacy.localhost:{port}",
        [(f"http://127.0.0.1:{echo_port}", 1)],
        admin.gateway_client("Legacy (nginx)", public, staff),
        groups=[staff],
        policies=[
            {"name": "root", "resourcePath": "/", "rule": "PROTECTED"},
            {"name": "public", "resourcePath": "/public", "rule": "NO_AUTH"},
        ],
    )
    issuer = "http://localhost:8090"
    proxy = make_proxy_app(StaticAppCatalog([document]), public_url=issuer)
    directory = tmp_path_factory.mktemp("nginx")
    conf = directory / "nginx.conf"
    body = SERVER_BODY.format(gateway=gateway_port, upstream=echo_port)
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, dir=directory, port=port, body=body))
    echo = EchoApp("legacy")
    with (
        localhost_names_resolve_to_loopback(),
        serve_asgi(echo, echo_port),
        serve_asgi(proxy, gateway_port, lifespan="on"),
        (directory / "nginx.out").open("wb") as out,
    ):
        process = subprocess.Popen([nginx, "-p", str(directory), "-c", str(conf)], stdout=out, stderr=out)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/public/", process=process)
            yield Site(admin, public, echo, jwks_document(proxy.assertion_keys), issuer)
        finally:
            process.terminate()
            process.wait(timeout=10)
    admin.close()


def test_sign_in_through_nginx_and_the_app_gets_the_identity(site: Site) -> None:
    forged = {
        "X-Remote-User": "admin@example.com",
        "X-Auth-Request-User": "admin",
        "X-Ostiary-Assertion": "x",
    }
    with httpx.Client(follow_redirects=False, timeout=15, headers=forged) as browser:
        first = browser.get(f"{site.public}/reports/q1?view=full&year=2024")
        assert first.status_code == 302
        assert first.headers["location"] == f"{site.public}/_ostiary/start?rd=/reports/q1?view=full&year=2024"
        start = browser.get(first.headers["location"])
        assert start.status_code == 302 and start.headers["location"].startswith(f"{site.org.url}/oauth2/v1/")
        redirect_uri = parse_qs(urlsplit(start.headers["location"]).query)["redirect_uri"]
        assert redirect_uri == [f"{site.public}/_ostiary/callback"]
        at_org = requests.get(
            start.headers["location"],
            params={"sessionToken": site.org.session_token(ALICE)},
            allow_redirects=False,
            timeout=10,
        )
        callback = browser.get(at_org.headers["location"])
        assert (
            callback.status_code == 302 and callback.headers["location"] == "/reports/q1?view=full&year=2024"
        )
        landed = browser.get(f"{site.public}{callback.headers['location']}")
        assert landed.status_code == 200, landed.text
        seen = landed.json()
        assert (seen["path"], seen["query"]) == ("/reports/q1", "view=full&year=2024")
        headers = seen["headers"]
        assert headers["x-remote-user"] == ALICE and headers["x-auth-request-user"] == ALICE
        assert headers["x-auth-request-email"] == ALICE
        assert "Nginx Staff" in headers["x-auth-request-groups"].split(",")
        key = jwt.PyJWKSet.from_dict(site.jwks).keys[0]
        claims = jwt.decode(
            headers["x-ostiary-assertion"],
            key.key,
            algorithms=["ES256"],
            audience=site.public,
            issuer=site.issuer,
        )
        assert claims["email"] == ALICE

        public = browser.get(f"{site.public}/public/page").json()["headers"]  # NO_AUTH
        assert "x-remote-user" not in public and "x-ostiary-assertion" not in public

        out = browser.get(f"{site.public}/_ostiary/logout")
        assert out.status_code == 302
        assert browser.get(f"{site.public}/reports").status_code == 302  # signed out


def test_without_a_session_nginx_never_calls_the_app(site: Site) -> None:
    hits = len(site.echo.hits)
    answer = httpx.get(f"{site.public}/secret", headers={"X-Remote-User": "admin@example.com"})
    assert (
        answer.status_code == 302 and answer.headers["location"] == f"{site.public}/_ostiary/start?rd=/secret"
    )
    assert len(site.echo.hits) == hits
    assert httpx.get(f"{site.public}/_ostiary/auth").status_code == 404  # internal to nginx


def test_sign_in_through_nginx_in_chromium(site: Site) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    with launched_chromium() as chromium:
        context = chromium.new_context(ignore_https_errors=True)  # the org's certificate: a test CA
        context.set_default_timeout(15_000)
        context.set_extra_http_headers({"X-Remote-User": "admin@example.com"})
        page = context.new_page()
        try:
            page.goto(f"{site.public}/wiki/Start?lang=en")
            page.wait_for_url("**/login?**")
            page.fill("#username", ALICE)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{site.public}/wiki/Start?lang=en")
            seen = json.loads(page.locator("pre").first.inner_text())
        finally:
            context.close()
    assert seen["headers"]["x-remote-user"] == ALICE and seen["headers"]["x-auth-request-user"] == ALICE
