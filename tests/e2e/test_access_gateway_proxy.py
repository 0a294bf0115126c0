"""Issue 16, the access gateway proxy, scripted (httpx, no browser) against a real org server:
sign-in through the org (the hosted page's session token stands in for the password form),
header hygiene on every path, policies, the assertion against the served JWKS, logout,
forward-auth answers, and the edge cases (502, 504, 413, round-robin weights, health
checks, deep links, open redirects, deactivation)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import requests

from ostiary.access_gateway.proxy.app import AccessGatewayProxy, make_proxy_app
from ostiary.access_gateway.proxy.assertion import jwks_app
from ostiary.access_gateway.proxy.catalog import StaticAppCatalog
from tests.e2e.oag_proxy_env import (
    EchoApp,
    Org,
    app_document,
    localhost_names_resolve_to_loopback,
    serve_asgi,
)
from tests.e2e.servers import OrgServer, free_port

ALICE = "alice.engineer@example.com"  # in Engineers: assigned to the app
BOB = "bob.outsider@example.com"  # not assigned


@dataclass
class Env:
    org: Org
    proxy: AccessGatewayProxy
    catalog: StaticAppCatalog
    port: int
    jwks_url: str
    public_url: str
    echo: EchoApp
    rr: tuple[EchoApp, EchoApp]
    hc: tuple[EchoApp, EchoApp]
    documents: dict[str, dict[str, Any]]

    def url(self, name: str, path: str = "/") -> str:
        return f"http://{name}.localhost:{self.port}{path}"


@pytest.fixture(scope="module")
def env(org: OrgServer) -> Iterator[Env]:
    admin = Org(org, "oag-proxy")
    alice = admin.user(ALICE, "Alice", "Engineer")
    admin.user(BOB, "Bob", "Outsider")
    engineers = admin.group("Engineers", alice)
    port, jwks_port = free_port(), free_port()
    public = f"http://legacy.localhost:{port}"
    oidc = admin.gateway_client("Legacy via gateway", public, engineers)
    echo, rr, hc = EchoApp("echo"), (EchoApp("rr-a"), EchoApp("rr-b")), (EchoApp("hc-a"), EchoApp("hc-b"))
    hc[1].health_status = 500
    ports = {app.name: free_port() for app in (echo, *rr, *hc)}

    def upstream(app: EchoApp) -> str:
        return f"http://127.0.0.1:{ports[app.name]}"

    no_auth = [{"name": "all", "resourcePath": "/", "rule": "NO_AUTH"}]
    documents = {
        "legacy": app_document(
            "legacy",
            f"legacy.localhost:{port}",
            [(upstream(echo), 1)],
            oidc,
            groups=[engineers],
            proxyReadTimeout=1,
            policies=[
                {"name": "root", "resourcePath": "/", "rule": "PROTECTED"},
                {"name": "public", "resourcePath": "/public", "rule": "NO_AUTH"},
                {
                    "name": "engineers",
                    "resourcePath": "/engineers",
                    "rule": "PROTECTED_REGEX",
                    "regexRule": r"Groups=((?=(|.*:)Engineers(\R|:.*)))",
                },
                {
                    "name": "ops",
                    "resourcePath": "/ops",
                    "rule": "PROTECTED_REGEX",
                    "regexRule": r"Groups=((?=(|.*:)Ops(\R|:.*)))",
                },
            ],
            attributes=[
                {"name": "X-Remote-User", "source": "IDP", "value": "login", "type": "HEADER"},
                {"name": "X-Remote-Name", "source": "IDP", "value": "firstName", "type": "HEADER"},
                {
                    "name": "X-Remote-Groups",
                    "source": "AUTH_CONTEXT",
                    "value": "groups",
                    "type": "HEADER",
                    "multiValueProcessor": "SELECT_ALL",
                },
                {"name": "REMOTE_EMAIL", "source": "IDP", "value": "email", "type": "COOKIE"},
            ],
        ),
        "down": app_document(
            "down", f"down.localhost:{port}", [(f"http://127.0.0.1:{free_port()}", 1)], None, policies=no_auth
        ),
        "rr": app_document(
            "rr", f"rr.localhost:{port}", [(upstream(rr[0]), 2), (upstream(rr[1]), 1)], None, policies=no_auth
        ),
        "hc": app_document(
            "hc",
            f"hc.localhost:{port}",
            [(upstream(hc[0]), 1), (upstream(hc[1]), 1)],
            None,
            policies=no_auth,
            health_check={
                "enabled": True,
                "path": "/health",
                "interval": 1,
                "timeout": 1,
                "unhealthyThreshold": 1,
                "healthyThreshold": 1,
            },
        ),
    }
    catalog = StaticAppCatalog(documents.values())
    proxy = make_proxy_app(catalog, public_url=f"http://localhost:{jwks_port}")
    with (
        localhost_names_resolve_to_loopback(),
        serve_asgi(echo, ports["echo"]),
        serve_asgi(rr[0], ports["rr-a"]),
        serve_asgi(rr[1], ports["rr-b"]),
        serve_asgi(hc[0], ports["hc-a"]),
        serve_asgi(hc[1], ports["hc-b"]),
        serve_asgi(jwks_app(proxy.assertion_keys), jwks_port),
        serve_asgi(proxy, port, lifespan="on"),
    ):
        yield Env(
            admin,
            proxy,
            catalog,
            port,
            f"http://localhost:{jwks_port}/api/v2/.well-known/jwks.json",
            f"http://localhost:{jwks_port}",
            echo,
            rr,
            hc,
            documents,
        )
    admin.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=15) as c:
        yield c


def sign_in(env: Env, client: httpx.Client, login: str, url: str) -> httpx.Response:
    """From a first request without a session to the gateway's answer at the callback."""
    first = client.get(url)
    assert first.status_code == 302, first.text
    authorize = first.headers["location"]
    assert authorize.startswith(f"{env.org.url}/oauth2/v1/authorize?")
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"] and params["response_type"] == ["code"]
    assert params["redirect_uri"] == [f"http://legacy.localhost:{env.port}/_ostiary/callback"]
    at_org = requests.get(
        authorize, params={"sessionToken": env.org.session_token(login)}, allow_redirects=False, timeout=10
    )
    assert at_org.status_code == 302, at_org.text
    return client.get(at_org.headers["location"])


def signed_in(env: Env, client: httpx.Client, url: str = "/hello") -> None:
    answer = sign_in(env, client, ALICE, env.url("legacy", url))
    assert answer.status_code == 302 and answer.headers["location"] == url, answer.text


def test_sign_in_lands_on_the_deep_link_with_the_identity_headers(env: Env, client: httpx.Client) -> None:
    answer = sign_in(env, client, ALICE, env.url("legacy", "/deep/page?x=1&y=2"))
    assert answer.status_code == 302 and answer.headers["location"] == "/deep/page?x=1&y=2"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http here
    with httpx.Client() as other:
        unicode = sign_in(env, other, ALICE, env.url("legacy", "/café/ü?q=ä"))
    assert unicode.headers["location"] == "/caf%C3%A9/%C3%BC?q=%C3%A4"
    echoed = client.get(env.url("legacy", "/deep/page?x=1&y=2")).json()
    assert (echoed["path"], echoed["query"]) == ("/deep/page", "x=1&y=2")
    headers = echoed["headers"]
    assert headers["x-remote-user"] == ALICE
    assert headers["x-remote-name"] == "Alice"
    assert headers["x-remote-groups"].split(":") == ["Everyone", "Engineers"]
    assert headers["cookie"] == f"REMOTE_EMAIL={ALICE.replace('@', '%40')}"  # the gateway's cookie stays here
    assert headers["host"].startswith("127.0.0.1:")  # the resource's own host (no hostHeaderValue)
    assert headers["x-forwarded-host"] == f"legacy.localhost:{env.port}"


def test_forged_identity_headers_and_cookies_never_reach_the_app(env: Env, client: httpx.Client) -> None:
    signed_in(env, client)
    forged = {
        "X-Remote-User": "admin@example.com",
        "x_remote_user": "admin@example.com",
        "X-REMOTE-NAME": "Admin",
        "X-Ostiary-Assertion": "forged",
        "X-Auth-Request-User": "admin",
        "X-Forwarded-For": "1.2.3.4",
    }
    for path in ("/hello", "/public/page"):  # protected, and NO_AUTH
        client.cookies.set("remote_email", "admin@example.com", domain="legacy.localhost")
        echoed = client.get(env.url("legacy", path), headers=forged).json()["headers"]
        client.cookies.delete("remote_email", domain="legacy.localhost")
        values = " ".join(str(v) for v in echoed.values())
        assert "admin" not in values.lower() and "forged" not in values, echoed
        assert "x_remote_user" not in echoed and "x-auth-request-user" not in echoed
        assert echoed["x-forwarded-for"] == "127.0.0.1"
    public = client.get(env.url("legacy", "/public/page")).json()["headers"]
    assert "x-remote-user" not in public and "x-ostiary-assertion" not in public  # NO_AUTH: no identity
    anonymous = httpx.get(env.url("legacy", "/public/x"), headers=forged).json()["headers"]
    assert "x-remote-user" not in anonymous and "x_remote_user" not in anonymous


def test_the_assertion_verifies_against_the_served_jwks(env: Env, client: httpx.Client) -> None:
    signed_in(env, client)
    token = client.get(env.url("legacy", "/hello")).json()["headers"]["x-ostiary-assertion"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"]
    keys = jwt.PyJWKClient(env.jwks_url).get_signing_key(header["kid"])
    claims = jwt.decode(
        token,
        keys.key,
        algorithms=["ES256"],
        audience=f"http://legacy.localhost:{env.port}",
        issuer=env.public_url,
    )
    assert claims["email"] == ALICE and claims["groups"] == ["Everyone", "Engineers"]
    assert claims["sub"].startswith("00u") and 0 < claims["exp"] - claims["iat"] <= 60
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(
            token, keys.key, algorithms=["ES256"], audience="http://other.localhost", issuer=env.public_url
        )


def test_regex_policies_admit_by_group_and_deny_without_reaching_the_app(
    env: Env, client: httpx.Client
) -> None:
    signed_in(env, client)
    assert client.get(env.url("legacy", "/engineers/x")).json()["path"] == "/engineers/x"
    before = list(env.echo.hits)
    denied = client.get(env.url("legacy", "/ops/x"))
    assert denied.status_code == 403 and 'data-page="denied"' in denied.text
    for loose in ("/OPS/x", "/ops./x", "/ops;jsessionid=1/x", "/Ops%20/x"):  # IIS, Tomcat, Express
        assert client.get(env.url("legacy", loose)).status_code == 403, loose
    assert env.echo.hits == before


def test_a_user_outside_the_apps_groups_gets_the_denied_page(env: Env, client: httpx.Client) -> None:
    before = list(env.echo.hits)
    answer = sign_in(env, client, BOB, env.url("legacy", "/hello"))
    assert answer.status_code == 403 and 'data-page="denied"' in answer.text
    assert "set-cookie" not in answer.headers or "Max-Age=0" in answer.headers["set-cookie"]
    assert client.get(env.url("legacy", "/hello")).status_code == 302  # still no session
    assert env.echo.hits == before


def test_logout_ends_the_session_on_the_server(env: Env, client: httpx.Client) -> None:
    signed_in(env, client)
    cookies = dict(client.cookies)
    out = client.get(env.url("legacy", "/oagLogout"))
    assert out.status_code == 302 and out.headers["location"] == "/_ostiary/signed-out"
    assert "Max-Age=0" in out.headers["set-cookie"]
    replay = httpx.get(env.url("legacy", "/hello"), cookies=cookies)  # the old cookie, sent again
    assert replay.status_code == 302 and replay.headers["location"].startswith(env.org.url)
    assert client.get(env.url("legacy", "/_ostiary/signed-out")).status_code == 200


def test_a_callback_without_the_browsers_state_cookie_is_refused(env: Env, client: httpx.Client) -> None:
    first = client.get(env.url("legacy", "/hello"))
    authorize = first.headers["location"]
    at_org = requests.get(
        authorize, params={"sessionToken": env.org.session_token(ALICE)}, allow_redirects=False, timeout=10
    )
    stolen = httpx.get(at_org.headers["location"])  # another browser: no state cookie
    assert stolen.status_code == 400
    assert not [c for c in stolen.headers.get_list("set-cookie") if "Max-Age=0" not in c]
    finished = client.get(at_org.headers["location"])  # the browser that started it still can
    assert finished.status_code == 302 and finished.headers["location"] == "/hello"


def test_forward_auth_answers(env: Env, client: httpx.Client) -> None:
    auth = env.url("legacy", "/_ostiary/auth")
    assert client.get(auth, headers={"X-Original-URI": "/hello"}).status_code == 401
    assert client.get(auth, headers={"X-Original-URI": "/public/a"}).status_code == 202
    signed_in(env, client)
    ok = client.get(auth, headers={"X-Original-URI": "/engineers/a?b=c"})
    assert ok.status_code == 202
    assert ok.headers["x-auth-request-user"] == ALICE and ok.headers["x-auth-request-email"] == ALICE
    assert ok.headers["x-auth-request-groups"] == "Everyone,Engineers"
    assert ok.headers["x-remote-user"] == ALICE and ok.headers["x-ostiary-assertion"].count(".") == 2
    assert client.get(auth, headers={"X-Forwarded-Uri": "/ops/a"}).status_code == 403
    for encoded in ("/%6Fps/a", "/OPS%2e/a", "/ops;x=1/a"):  # as a (forgiving) upstream reads it
        assert client.get(auth, headers={"X-Original-URI": encoded}).status_code == 403, encoded
    assert client.get(auth, headers={"X-Original-URI": "/public/../ops/a"}).status_code == 400
    assert client.get(auth, headers={"X-Original-URI": "/%252e%252e/ops"}).status_code == 400


def test_forward_auth_for_traefik_and_caddy(env: Env, client: httpx.Client) -> None:
    gateway = f"http://127.0.0.1:{env.port}/_ostiary/auth"  # Traefik calls with its own Host
    forwarded = {"X-Forwarded-Host": f"legacy.localhost:{env.port}", "X-Forwarded-Uri": "/a/b?c=d&e=f"}
    assert httpx.get(gateway, headers=forwarded).status_code == 401
    redirected = httpx.get(
        gateway, params={"redirect": "1"}, headers={**forwarded, "X-Forwarded-Proto": "https"}
    )
    assert redirected.status_code == 302
    assert redirected.headers["location"] == (
        f"https://legacy.localhost:{env.port}/_ostiary/start?rd=/a/b%3Fc%3Dd%26e%3Df"
    )
    signed_in(env, client)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    ok = httpx.get(gateway, headers={**forwarded, "Cookie": cookie})
    assert ok.status_code == 202 and ok.headers["x-auth-request-user"] == ALICE
    start = client.get(env.url("legacy", "/_ostiary/start?rd=/a/b%3Fc%3Dd%26e%3Df"))
    assert start.status_code == 302 and start.headers["location"] == "/a/b?c=d&e=f"  # signed in already


def test_start_refuses_to_redirect_off_the_public_domain(env: Env, client: httpx.Client) -> None:
    for rd in (
        "http://evil.example/",
        "//evil.example/x",
        f"https://legacy.localhost:{env.port}/",
        "/\\evil",
    ):
        assert client.get(env.url("legacy", "/_ostiary/start"), params={"rd": rd}).status_code == 400
    started = client.get(env.url("legacy", "/_ostiary/start"), params={"rd": "/a/b?c=d"})
    assert started.status_code == 302 and started.headers["location"].startswith(env.org.url)


def test_upstream_down_is_502_and_slow_is_504(env: Env) -> None:
    down = httpx.get(env.url("down", "/x"))
    assert down.status_code == 502 and 'data-page="bad_gateway"' in down.text
    with httpx.Client(timeout=15) as c:
        signed_in(env, c)
        slow = c.get(env.url("legacy", "/slow"))
    assert slow.status_code == 504 and 'data-page="gateway_timeout"' in slow.text


def test_bodies_over_max_file_size_are_refused(env: Env, client: httpx.Client) -> None:
    signed_in(env, client)
    assert client.post(env.url("legacy", "/upload"), content=b"x" * 1000).json()["body_bytes"] == 1000
    big = client.post(env.url("legacy", "/upload"), content=b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(17):
            yield b"y" * 65536

    assert client.post(env.url("legacy", "/upload"), content=chunks()).status_code == 413


def test_weighted_round_robin(env: Env) -> None:
    for app in env.rr:
        app.hits.clear()
    for _ in range(9):
        assert httpx.get(env.url("rr", "/x")).status_code == 200
    assert (len(env.rr[0].hits), len(env.rr[1].hits)) == (6, 3)


def test_unhealthy_hosts_are_skipped_until_they_recover(env: Env) -> None:
    def only(name: str) -> bool:
        return all(httpx.get(env.url("hc", "/x")).json()["upstream"] == name for _ in range(4))

    deadline = time.monotonic() + 10
    while not only("hc-a"):
        assert time.monotonic() < deadline, "the unhealthy host kept getting requests"
        time.sleep(0.2)
    env.hc[1].health_status = 200
    deadline = time.monotonic() + 10
    while "hc-b" not in {httpx.get(env.url("hc", "/x")).json()["upstream"] for _ in range(4)}:
        assert time.monotonic() < deadline, "the recovered host got no request"
        time.sleep(0.2)


def test_a_deactivated_app_shows_the_inactive_page_and_never_the_upstream(env: Env) -> None:
    document = env.documents["rr"]
    env.catalog.put({**document, "status": "INACTIVE"})
    try:
        deadline = time.monotonic() + 5
        while (answer := httpx.get(env.url("rr", "/x"))).status_code != 503:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert 'data-page="inactive"' in answer.text
        hits = [len(a.hits) for a in env.rr]
        assert httpx.get(env.url("rr", "/x")).status_code == 503
        assert [len(a.hits) for a in env.rr] == hits
        env.catalog.put({**document, "status": "MAINTENANCE"})
        deadline = time.monotonic() + 5
        while 'data-page="maintenance"' not in httpx.get(env.url("rr", "/x")).text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        env.catalog.put(document)


def test_unknown_hosts_and_unsafe_paths(env: Env) -> None:
    assert httpx.get(env.url("nothing", "/")).status_code == 404
    assert httpx.get(env.url("rr", "/a/%2e%2e/b")).status_code in (400, 404)
    assert httpx.get(env.url("rr", "/a/%252e")).status_code == 400


def test_metrics_count_requests_and_sign_ins(env: Env) -> None:
    text = env.proxy.metrics.render()
    assert 'ostiary_oag_signins_total{app="legacy",result="success"}' in text
    assert (
        'ostiary_oag_requests_total{app="down",status="502"}' in text or "ostiary_oag_requests_total" in text
    )


def test_one_access_log_line_per_request_without_secrets(
    env: Env, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ostiary.access_gateway.access")
    answer = sign_in(env, client, ALICE, env.url("legacy", "/logged?token=abc"))
    callback_query = parse_qs(urlsplit(str(answer.request.url)).query)
    client.get(env.url("legacy", "/logged?token=abc"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ostiary.access_gateway.access"]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/logged", 302),
        ("/_ostiary/callback", 302),
        ("/logged", 200),
    ]
    assert lines[-1]["user"] == ALICE and lines[-1]["app"] == "legacy"
    assert lines[-1]["upstream"].startswith("http://127.0.0.1:") and lines[0]["user"] is None
    text = "\n".join(r.getMessage() for r in caplog.records)
    secrets_sent = [callback_query["code"][0], callback_query["state"][0], *client.cookies.values(), "abc"]
    assert not [s for s in secrets_sent if s in text]
