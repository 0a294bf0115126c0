"""Specification of the API gateway's request pipeline (``ostiary.gateway.proxy``).

The gateway runs in process (httpx ASGITransport); the upstream (the solar-system API plus
test routes) and the issuer's JWKS endpoints are real loopback servers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from ostiary.gateway.config import parse_config
from ostiary.gateway.proxy import Gateway, build_gateway_app
from ostiary.gateway.relay import claim_header_value
from tests.support.gateway_loopback import JwksServer, LoopbackServer, free_port, upstream_app
from tests.support.jwt_factory import (
    AUDIENCE,
    GOLD,
    SILVER,
    access_claims,
    b64url,
    jwks,
    raw_token,
    rsa_key,
    tamper_claims,
)

KEY = rsa_key("rsa-1")
ORIGIN = "https://app.example"
METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture(scope="module")
def upstream() -> Iterator[LoopbackServer]:
    server = LoopbackServer(upstream_app()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def idp_server() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def idp(idp_server: JwksServer) -> JwksServer:
    return idp_server.reset(jwks(KEY))


def config_dict(upstream: str, issuer: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "issuers": [{"issuer": issuer, "audiences": [AUDIENCE]}],
        "routes": [
            {"path": "/planets", "upstream": upstream, "scopes": {"all_of": [SILVER]}},
            {"path": "/moons", "upstream": upstream, "scopes": {"all_of": [GOLD]}},
            {"path": "/asteroids", "upstream": upstream},
            {"path": "/visitors", "upstream": upstream, "public": True},
            {"path": "/grades/{student_id}", "upstream": upstream, "public": True},
            {
                "path": "/echo/*",
                "methods": ["GET", "POST", "PUT"],
                "upstream": upstream,
                "cors": {"origins": [ORIGIN], "headers": ["authorization", "content-type"], "max_age": 600},
            },
            {
                "path": "/public-echo/*",
                "upstream": upstream + "/echo",
                "strip_prefix": "/public-echo",
                "public": True,
            },
            {
                "path": "/anyof/*",
                "upstream": upstream + "/echo",
                "strip_prefix": "/anyof",
                "scopes": {"any_of": [SILVER, GOLD]},
            },
            {
                "path": "/allof/*",
                "upstream": upstream + "/echo",
                "strip_prefix": "/allof",
                "scopes": {"all_of": [SILVER, GOLD]},
            },
            {"path": "/slow", "upstream": upstream, "public": True},
            {"path": "/big/*", "upstream": upstream, "public": True},
            {"path": "/stream/*", "upstream": upstream, "public": True},
            {"path": "/cookie", "upstream": upstream, "public": True},
            {"path": "/gzip", "upstream": upstream, "public": True},
            {"path": "/no-content", "upstream": upstream, "public": True, "cors": {"origins": [ORIGIN]}},
            {"path": "/down/*", "upstream": f"http://127.0.0.1:{free_port()}", "public": True},
        ],
        "limits": {"max_request_body": 1024, "max_response_body": 200_000},
        # Generous: a loaded CI machine must not turn a slow answer into a 504. The read
        # timeout itself is tested with READ_TIMEOUT, on a gateway of its own.
        "timeouts": {"connect": 10, "read": 30},
    }
    config.update(overrides)
    return config


@pytest.fixture
async def gateway(upstream: LoopbackServer, idp: JwksServer) -> AsyncIterator[Gateway]:
    app = build_gateway_app(parse_config(config_dict(upstream.url, idp.issuer)), metrics_token=METRICS_TOKEN)
    yield app
    await app.aclose()


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(idp: JwksServer, scopes: list[str] | None = None, key: Any = KEY, **claims: Any) -> str:
    return key.sign(access_claims(issuer=idp.issuer, scopes=scopes, **claims))  # type: ignore[no-any-return]


def echoed_headers(response: httpx.Response) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        result.setdefault(name, []).append(value)
    return result


# ---------------------------------------------------------------- the solar-system scenario


async def test_a_silver_token_reads_the_planets(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/planets", headers=bearer(token_for(idp, [SILVER])))
    assert response.status_code == 200
    assert response.content == b'["mercury","venus","earth","mars","jupiter","saturn","uranus","neptune"]'
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_a_silver_token_is_refused_the_moons_with_insufficient_scope(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    response = await client.get("/moons", headers=bearer(token_for(idp, [SILVER])))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="ostiary", error="insufficient_scope"')
    assert f'scope="{GOLD}"' in challenge
    assert response.json()["error"] == "insufficient_scope"


async def test_a_gold_token_reads_the_moons(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/moons", headers=bearer(token_for(idp, [SILVER, GOLD])))
    assert response.status_code == 200
    assert response.json()[0] == "adrastea"


async def test_any_valid_token_reads_the_asteroids(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/asteroids", headers=bearer(token_for(idp)))
    assert response.json() == ["ceres", "hygiea", "pallas", "vesta"]


async def test_visitors_need_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/visitors")
    assert response.status_code == 200
    assert response.json() == ["Oumuamua", "2I/Borisov"]


async def test_path_parameters_route_to_the_upstream(client: httpx.AsyncClient) -> None:
    assert (await client.get("/grades/12345")).content == b'{"student_id":"12345","grade":"F"}'


# ---------------------------------------------------------------- 401 answers


async def test_a_missing_token_gets_a_bare_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/asteroids")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ostiary"'
    assert response.json()["error"] == "invalid_token"


async def test_another_auth_scheme_counts_as_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/asteroids", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ostiary"'


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/asteroids", headers={"Authorization": f"bEaReR {token_for(idp)}"})
    assert response.status_code == 200


async def test_an_empty_bearer_token_is_an_invalid_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/asteroids", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _hs256_with_public_pem(idp: JwksServer) -> str:
    pem = KEY.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = raw_token({"alg": "HS256", "kid": KEY.kid}, access_claims(issuer=idp.issuer)).rsplit(".", 1)[0]
    return f"{unsigned}.{b64url(hmac.new(pem, unsigned.encode(), hashlib.sha256).digest())}"


FORGERIES = {
    "alg-none": lambda idp: raw_token(
        {"alg": "none", "kid": KEY.kid}, access_claims(issuer=idp.issuer), b"x"
    ),
    "hs256-with-public-pem": _hs256_with_public_pem,
    "foreign-key-real-kid": lambda idp: token_for(idp, key=rsa_key(KEY.kid, seed="attacker")),
    "embedded-jwk": lambda idp: rsa_key("a", seed="attacker").sign(
        access_claims(issuer=idp.issuer),
        headers={"kid": KEY.kid, "jwk": rsa_key("a", seed="attacker").public_jwk()},
    ),
    "jku": lambda idp: rsa_key("a", seed="attacker").sign(
        access_claims(issuer=idp.issuer), headers={"kid": KEY.kid, "jku": idp.base_url + "/attacker/keys"}
    ),
    "kid-path-traversal": lambda idp: KEY.sign(
        access_claims(issuer=idp.issuer), headers={"kid": "../../etc/passwd"}
    ),
    "kid-sql": lambda idp: KEY.sign(access_claims(issuer=idp.issuer), headers={"kid": "x' UNION SELECT 'k"}),
    "tampered-scopes": lambda idp: tamper_claims(token_for(idp), scp=[SILVER, GOLD]),
    "expired": lambda idp: token_for(idp, now=time.time() - 7200, lifetime=3600),
    "not-yet-valid": lambda idp: token_for(idp, nbf=int(time.time()) + 600),
    "wrong-issuer": lambda idp: KEY.sign(access_claims(issuer="https://evil.example/oauth2/default")),
    "wrong-audience": lambda idp: token_for(idp, audience="api://other"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_forged_and_invalid_tokens_are_refused(
    client: httpx.AsyncClient, gateway: Gateway, idp: JwksServer, forgery: str
) -> None:
    token = FORGERIES[forgery](idp)
    response = await client.get("/asteroids", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="ostiary", error="invalid_token"')
    assert response.json()["error"] == "invalid_token"
    assert response.json()["error_description"]
    assert sum(gateway.metrics.token_failures.values()) == 1


async def test_a_jku_url_is_never_fetched_by_the_gateway(client: httpx.AsyncClient, idp: JwksServer) -> None:
    await client.get("/asteroids", headers=bearer(FORGERIES["jku"](idp)))
    assert idp.hits["/attacker/keys"] == 0


# ---------------------------------------------------------------- scopes


async def test_any_of_accepts_a_token_with_one_of_the_scopes(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    response = await client.get("/anyof/x", headers=bearer(token_for(idp, [GOLD])))
    assert response.status_code == 200
    assert (response.json()["method"], response.json()["path"]) == ("GET", "/echo/x")


async def test_any_of_refuses_a_token_with_none_of_the_scopes(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    response = await client.get("/anyof/x", headers=bearer(token_for(idp, ["other"])))
    assert response.status_code == 403
    assert f'scope="{SILVER} {GOLD}"' in response.headers["www-authenticate"]


async def test_all_of_refuses_a_token_missing_one_scope(client: httpx.AsyncClient, idp: JwksServer) -> None:
    assert (await client.get("/allof/x", headers=bearer(token_for(idp, [SILVER])))).status_code == 403


async def test_all_of_accepts_a_token_with_every_scope(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/allof/x", headers=bearer(token_for(idp, [SILVER, GOLD])))
    assert response.status_code == 200
    assert (response.json()["method"], response.json()["path"]) == ("GET", "/echo/x")


async def test_a_space_separated_scope_claim_is_understood(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    claims = access_claims(issuer=idp.issuer)
    del claims["scp"]
    claims["scope"] = f"openid {SILVER}"
    assert (await client.get("/planets", headers=bearer(KEY.sign(claims)))).status_code == 200


# ---------------------------------------------------------------- what the upstream receives


async def test_the_upstream_receives_the_forwarded_claims(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.get("/echo/me", headers=bearer(token_for(idp, [SILVER])))
    headers = echoed_headers(response)
    assert headers["x-subject"] == ["carl.sagan@mailinator.com"]
    assert headers["x-client-id"] == ["0oa1opaydr1bnvBKL357"]
    assert headers["x-scopes"] == [f"openid {SILVER}"]


async def test_client_supplied_identity_headers_are_replaced(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    spoofed = {
        "X-Subject": "admin",
        "x-client-id": "spoofed",
        "X-SCOPES": GOLD,
        **bearer(token_for(idp, [SILVER])),
    }
    headers = echoed_headers(await client.get("/echo/me", headers=spoofed))
    assert headers["x-subject"] == ["carl.sagan@mailinator.com"]
    assert headers["x-client-id"] == ["0oa1opaydr1bnvBKL357"]
    assert headers["x-scopes"] == [f"openid {SILVER}"]


async def test_client_supplied_identity_headers_are_removed_on_public_routes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/public-echo/x", headers={"X-Subject": "admin", "X-Scopes": GOLD})
    headers = echoed_headers(response)
    assert "x-subject" not in headers and "x-scopes" not in headers


async def test_hop_by_hop_headers_are_not_forwarded(client: httpx.AsyncClient) -> None:
    sent = {"Connection": "keep-alive, X-Private", "X-Private": "secret", "TE": "trailers", "Keep-Alive": "5"}
    headers = echoed_headers(
        await client.get("/public-echo/x", headers={**sent, "Proxy-Authorization": "Basic x"})
    )
    for name in ("x-private", "te", "keep-alive", "proxy-authorization"):
        assert name not in headers


async def test_x_forwarded_headers_describe_the_client(client: httpx.AsyncClient) -> None:
    headers = echoed_headers(await client.get("/public-echo/x", headers={"X-Forwarded-For": "198.51.100.1"}))
    assert headers["x-forwarded-for"] == ["203.0.113.7"]  # the client's own chain is not trusted
    assert headers["x-forwarded-proto"] == ["http"]
    assert headers["x-forwarded-host"] == ["gateway.test"]


async def test_strip_prefix_and_the_query_string_reach_the_upstream(client: httpx.AsyncClient) -> None:
    body = (await client.get("/public-echo/a/b%20c?x=1&y=%2F")).json()
    assert body["path"] == "/echo/a/b c"
    assert body["query"] == "x=1&y=%2F"


async def test_request_bodies_and_methods_are_relayed(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.put(
        "/echo/item",
        content=b'{"a":1}',
        headers={"Content-Type": "application/json", **bearer(token_for(idp))},
    )
    body = response.json()
    assert (body["method"], body["body"]) == ("PUT", '{"a":1}')
    assert echoed_headers(response)["content-type"] == ["application/json"]


async def test_upstream_status_and_headers_are_preserved(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.post("/echo/x", headers={"X-Echo-Status": "201", **bearer(token_for(idp))})
    assert response.status_code == 201
    assert response.headers["x-upstream"] == "echo"


async def test_repeated_upstream_headers_all_reach_the_client(client: httpx.AsyncClient) -> None:
    response = await client.get("/cookie")
    assert response.headers.get_list("set-cookie")[0].startswith("a=1")
    assert response.headers.get_list("set-cookie")[1].startswith("b=2")


async def test_the_gateway_never_keeps_upstream_cookies(client: httpx.AsyncClient) -> None:
    await client.get("/cookie")
    client.cookies.clear()
    assert (await client.get("/cookie")).json() == {"cookie": None}


async def test_encoded_bodies_pass_through_untouched(client: httpx.AsyncClient) -> None:
    response = await client.get("/gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"compressed": True}


async def test_a_204_passes_without_a_body_or_length(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-content", headers={"Origin": ORIGIN})
    assert response.status_code == 204
    assert "content-length" not in response.headers and response.content == b""


async def test_the_upstream_vary_is_kept_beside_the_gateway_s(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-content", headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Accept-Encoding", "Origin"]


async def test_a_large_chunked_answer_is_streamed_intact(client: httpx.AsyncClient) -> None:
    response = await client.get("/stream/150000")
    assert len(response.content) == 150000
    assert response.content[:16384] == b"A" * 16384 and response.content[-1:] == b"J"


async def test_a_small_chunked_answer_is_relayed_with_its_length(client: httpx.AsyncClient) -> None:
    response = await client.get("/stream/1000")
    assert response.headers["content-length"] == "1000"


# ---------------------------------------------------------------- routing and paths


async def test_an_unknown_path_is_404_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/galaxies")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_another_method_on_a_known_path_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.post("/planets")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def status_for_raw_path(app: Gateway, path: str) -> int:
    """Call the ASGI app directly: HTTP clients normalise dot segments before sending,
    but a raw request line (``curl --path-as-is``) does not."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"gateway.test")],
        "client": ("203.0.113.7", 50000),
        "server": ("gateway.test", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


@pytest.mark.parametrize("path", ["/visitors/../moons", "/visitors/./x", "/a//b", "/visitors/..", "/x\x00"])
async def test_paths_with_dot_or_empty_segments_are_refused(gateway: Gateway, path: str) -> None:
    assert await status_for_raw_path(gateway, path) == 400


async def test_percent_encoded_dot_segments_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/visitors/%2e%2e/moons")).status_code == 400


# ---------------------------------------------------------------- CORS


async def test_an_allowed_preflight_is_answered_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/echo/x",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST, PUT"
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert response.headers["access-control-max-age"] == "600"


async def test_a_preflight_from_another_origin_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/echo/x", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_for_a_header_not_allowed_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/echo/x",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Admin",
        },
    )
    assert response.status_code == 403


async def test_a_preflight_for_a_method_not_allowed_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/echo/x", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}
    )
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "access-control-allow-origin" not in response.headers


async def test_cross_origin_answers_carry_the_allowed_origin(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    response = await client.get("/echo/x", headers={"Origin": ORIGIN, **bearer(token_for(idp))})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in response.headers.get_list("vary")


async def test_cross_origin_401s_are_readable_by_the_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/echo/x", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN


# ---------------------------------------------------------------- failures of the upstream and limits


async def test_an_unreachable_upstream_is_502(client: httpx.AsyncClient) -> None:
    response = await asyncio.wait_for(client.get("/down/x"), 30)  # a refused connection: no wait
    assert response.status_code == 502
    assert response.json()["error"] == "bad_gateway"


READ_TIMEOUT = 0.5
"""Shorter than the upstream's 3 s stall at ``/slow``: the gateway must give up first."""


async def test_a_slow_upstream_is_504_after_the_read_timeout(
    upstream: LoopbackServer, idp: JwksServer
) -> None:
    config = config_dict(upstream.url, idp.issuer, timeouts={"connect": 10, "read": READ_TIMEOUT})
    app = build_gateway_app(parse_config(config))
    try:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as tight:
            started = time.monotonic()
            response = await tight.get("/slow")
    finally:
        await app.aclose()
    assert response.status_code == 504  # a 200 would mean the gateway waited out the stall
    assert time.monotonic() - started >= READ_TIMEOUT * 0.9


async def test_a_request_body_over_the_limit_is_413(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.post("/echo/x", content=b"x" * 2000, headers=bearer(token_for(idp)))
    assert response.status_code == 413


async def test_a_chunked_request_body_over_the_limit_is_413(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    response = await client.post("/echo/x", content=chunks(), headers=bearer(token_for(idp)))
    assert response.status_code == 413


async def test_a_request_body_within_the_limit_is_relayed(client: httpx.AsyncClient, idp: JwksServer) -> None:
    response = await client.post("/echo/x", content=b"y" * 1024, headers=bearer(token_for(idp)))
    assert response.json()["body"] == "y" * 1024


async def test_an_upstream_answer_over_the_limit_is_502(client: httpx.AsyncClient) -> None:
    response = await client.get("/big/300000")
    assert response.status_code == 502


# ---------------------------------------------------------------- metrics and helpers


async def test_metrics_are_served_in_prometheus_text_format(
    client: httpx.AsyncClient, idp: JwksServer
) -> None:
    await client.get("/planets", headers=bearer(token_for(idp, [SILVER])))
    await client.get("/planets", headers=bearer("not-a-jwt"))
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'ostiary_gateway_requests_total{route="/planets",method="GET",status="200"} 1' in text
    assert 'ostiary_gateway_requests_total{route="/planets",method="GET",status="401"} 1' in text
    assert 'ostiary_gateway_token_failures_total{reason="malformed"} 1' in text
    assert 'ostiary_gateway_upstream_latency_seconds_count{route="/planets"} 1' in text
    assert 'ostiary_gateway_upstream_latency_seconds_bucket{route="/planets",le="+Inf"} 1' in text


async def test_a_verified_token_is_reused_from_the_cache(
    client: httpx.AsyncClient, gateway: Gateway, idp: JwksServer
) -> None:
    token = token_for(idp, [SILVER])
    await client.get("/planets", headers=bearer(token))
    assert token in gateway.state.verifier._cache
    assert (await client.get("/planets", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    ("claim", "header"),
    [
        ("plain", "plain"),
        (["a", "b"], "a b"),
        (42, "42"),
        (True, "true"),
        ({"k": "v"}, '{"k":"v"}'),
        ("line\r\nX-Injected: 1", "line%0D%0AX-Injected: 1"),
        ("café", "caf%C3%A9"),
    ],
)
def test_claims_become_safe_header_values(claim: Any, header: str) -> None:
    assert claim_header_value(claim) == header


# ---------------------------------------------------------------- over real sockets


async def test_the_gateway_under_uvicorn_and_uvloop_proxies_the_scenario(
    upstream: LoopbackServer, idp: JwksServer
) -> None:
    app = build_gateway_app(parse_config(config_dict(upstream.url, idp.issuer)))
    server = LoopbackServer(app, lifespan="on", uvloop=True).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            planets = await http.get("/planets", headers=bearer(token_for(idp, [SILVER])))
            moons = await http.get("/moons", headers=bearer(token_for(idp, [SILVER])))
            missing = await http.get("/moons")
        assert planets.status_code == 200 and planets.json()[2] == "earth"
        assert moons.status_code == 403
        assert missing.status_code == 401
    finally:
        server.stop(force=False)


def test_upstream_latency_lands_in_the_first_bucket_at_or_above_it() -> None:
    from ostiary.gateway.metrics import GatewayMetrics
    from ostiary.prometheus_text import LATENCY_BUCKETS

    metrics = GatewayMetrics()
    for seconds in (0.0005, 0.001, 0.0011, 10.0, 11.0):
        metrics.observe_upstream("/planets", seconds)
    histogram = metrics.upstream_latency["/planets"]
    expected = [0] * len(LATENCY_BUCKETS)
    expected[0], expected[1], expected[-1] = 2, 1, 1
    assert histogram.counts == expected and histogram.count == 5
    assert 'le="0.001"} 2' in metrics.render() and 'le="+Inf"} 5' in metrics.render()
