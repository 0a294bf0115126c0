"""The access gateway proxy's reading of app documents, policies, rules and attributes."""

from __future__ import annotations

from typing import Any

import pytest

from ostiary.access_gateway.proxy.app import same_domain_target
from ostiary.access_gateway.proxy.attributes import (
    clean_cookie_header,
    reserved_names,
    rule_data,
    session_attributes,
)
from ostiary.access_gateway.proxy.balancer import Balancer
from ostiary.access_gateway.proxy.config import parse_app
from ostiary.access_gateway.proxy.policies import policy_for
from ostiary.access_gateway.proxy.rules import compile_rule, rule_problem
from ostiary.access_gateway.proxy.sessions import GatewaySession, is_live


def app_doc(**extra: Any) -> dict[str, Any]:
    return {"id": "a1", "publicDomain": "Legacy.Localhost:8090", "status": "ACTIVE", **extra}


def policy(path: str, rule: str = "PROTECTED", **extra: Any) -> dict[str, Any]:
    return {"name": path, "resourcePath": path, "rule": rule, **extra}


def session(**extra: Any) -> GatewaySession:
    values: dict[str, Any] = {
        "app_id": "a1",
        "user_id": "00u1",
        "login": "ada@example.com",
        "email": "ada@example.com",
        "groups": ("Everyone", "Engineers"),
        "claims": {"given_name": "Ada", "family_name": "Lovelace", "preferred_username": "ada@example.com"},
        "id_token": "t",
        "created_at": 1000.0,
        "last_seen": 1000.0,
    }
    values.update(extra)
    return GatewaySession(**values)


def test_a_minimal_document_gets_the_spec_defaults() -> None:
    app = parse_app(app_doc())
    assert app.public_domain == "legacy.localhost:8090"
    assert app.max_file_size == 1 and app.max_body_bytes == 1024 * 1024
    assert app.proxy_read_timeout == 60
    assert app.behavior.logout_path == "/oagLogout" and app.behavior.no_session == "IDP_REDIRECT"
    assert (app.session.idle_timeout, app.session.max_timeout) == (3600, 28800)
    assert app.health_check.enabled is False and app.health_check.interval == 10
    assert app.oidc is None and app.policies == () and app.resources == ()


def test_the_longest_covering_resource_path_wins() -> None:
    app = parse_app(
        app_doc(
            _embedded={
                "policies": [
                    policy("/"),
                    policy("/public", "NO_AUTH"),
                    policy("/public/admin"),
                    policy("/Docs", "NO_AUTH", caseSensitive=False),
                    policy("/off", "NO_AUTH", active=False),
                ]
            }
        )
    )
    assert policy_for(app, "/public/x").rule == "NO_AUTH"
    assert policy_for(app, "/public").rule == "NO_AUTH"
    assert policy_for(app, "/publicity").rule == "PROTECTED"  # a path segment, not a string prefix
    assert policy_for(app, "/public/admin/y").rule == "PROTECTED"
    assert policy_for(app, "/docs/a").rule == "NO_AUTH"
    assert policy_for(app, "/off").rule == "PROTECTED"
    assert policy_for(parse_app(app_doc()), "/anything").rule == "PROTECTED"  # no policy: closed


@pytest.mark.parametrize(
    ("rule", "groups", "allowed"),
    [
        (r"Groups=((?=(|.*:)Everyone(\R|:.*)))", ("Everyone",), True),
        (r"Groups=((?=(|.*:)Engineers(\R|:.*)))", ("Everyone", "Engineers"), True),
        (r"Groups=((?=(|.*:)Engineers(\R|:.*)))", ("Everyone", "Engineers-old"), False),
        (r"Groups=((?!(|.*:)Everyone(\R|:.*)))", ("Everyone",), False),
        (r"Groups=((?=(|.*:)A(\R|:.*)))((?=(|.*:)B(\R|:.*)))", ("B", "A"), True),
        (r"Groups=((?=(|.*:)A(\R|:.*)))((?=(|.*:)B(\R|:.*)))", ("A",), False),
    ],
)
def test_the_appliances_group_rules(rule: str, groups: tuple[str, ...], allowed: bool) -> None:
    assert compile_rule(rule).allows({"groups": "".join(f"{g}:" for g in groups)}) is allowed


def test_rules_on_user_and_address_and_unreadable_rules_deny() -> None:
    assert compile_rule("UserName=ada@example\\.com").allows({"username": "ada@example.com"})
    assert not compile_rule("UserName=ada@example\\.com").allows({"username": "bob@example.com"})
    assert not compile_rule("RemoteIP=(?!192\\..*)").allows({"remoteip": "192.168.1.1"})
    assert compile_rule("RemoteIP=(?!192\\..*)").allows({"remoteip": "10.0.0.1"})
    assert compile_rule("UserName=ada.* && RemoteIP=10\\.").allows({"username": "ada", "remoteip": "10.1"})
    for bad in ("", None, "no equals sign", "Groups=(unclosed"):
        assert rule_problem(bad) is not None
        assert not compile_rule(bad).allows({"groups": "x:"})


def test_attributes_by_source_and_multi_value_processing() -> None:
    app = parse_app(
        app_doc(
            _embedded={
                "attributes": [
                    {"name": "X-Remote-User", "source": "IDP", "value": "login", "type": "HEADER"},
                    {"name": "X-First", "source": "IDP", "value": "firstName", "type": "HEADER"},
                    {"name": "X-Static", "source": "STATIC", "value": "v1", "type": "HEADER"},
                    {
                        "name": "X-Groups",
                        "source": "AUTH_CONTEXT",
                        "value": "groups",
                        "type": "HEADER",
                        "multiValueProcessor": "SELECT_ALL",
                        "delimiter": ";",
                    },
                    {"name": "X-Group0", "source": "AUTH_CONTEXT", "value": "groups", "type": "HEADER"},
                    {
                        "name": "X-Group-Count",
                        "source": "AUTH_CONTEXT",
                        "value": "groups",
                        "type": "HEADER",
                        "multiValueProcessor": "RECORD_COUNT",
                    },
                    {"name": "LAST", "source": "IDP", "value": "lastName", "type": "COOKIE"},
                    {"name": "X-Off", "source": "STATIC", "value": "no", "type": "HEADER", "active": False},
                ]
            }
        )
    )
    headers, cookies = session_attributes(app, session(), "10.0.0.1")
    assert dict(headers) == {
        b"x-remote-user": b"ada@example.com",
        b"x-first": b"Ada",
        b"x-static": b"v1",
        b"x-groups": b"Everyone;Engineers",
        b"x-group0": b"Everyone",
        b"x-group-count": b"2",
    }
    assert cookies == ["LAST=Lovelace"]
    assert rule_data(app, session(), "10.0.0.1")["groups"] == "Everyone:Engineers:"
    reserved = reserved_names(app)
    assert {"x-remote-user", "x-off", "last", "x-ostiary-assertion"} <= reserved
    cleaned = clean_cookie_header("a=1; LAST=forged; x_remote_user=f; own=s; b=2", reserved, ("own",))
    assert cleaned == "a=1; b=2"


def test_a_header_value_can_never_be_split() -> None:
    app = parse_app(
        app_doc(
            _embedded={"attributes": [{"name": "X-Name", "source": "IDP", "value": "name", "type": "HEADER"}]}
        )
    )
    headers, _ = session_attributes(app, session(claims={"name": "Eve\r\nX-Admin: yes"}), None)
    assert headers == [(b"x-name", b"Eve%0D%0AX-Admin: yes")]


def test_idle_and_maximum_timeouts() -> None:
    app = parse_app(app_doc(_embedded={"session": {"idleSessionTimeout": 60, "maxSessionTimeout": 120}}))
    assert is_live(session(created_at=0, last_seen=50), app.session, 100)
    assert not is_live(session(created_at=0, last_seen=30), app.session, 100)  # idle 70 s
    assert not is_live(session(created_at=0, last_seen=119), app.session, 121)  # over the maximum


async def test_weighted_round_robin_skips_inactive_and_zero_weight_hosts() -> None:
    app = parse_app(
        app_doc(
            _embedded={
                "protectedResources": [
                    {"id": "a", "hostname": "http://a:1", "assignedWeight": 2},
                    {"id": "b", "hostname": "http://b:1/", "assignedWeight": 1},
                    {"id": "c", "hostname": "http://c:1", "assignedWeight": 5, "active": False},
                    {"id": "d", "hostname": "http://d:1", "assignedWeight": 0},
                ]
            }
        )
    )

    async def never(url: str, check: Any) -> bool:
        raise AssertionError("no health check is configured")

    balancer = Balancer(never)
    picks = [balancer.pick(app) for _ in range(9)]
    assert [p.id for p in picks if p] == ["a", "b", "a"] * 3


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/deep/link?x=1", "/deep/link?x=1"),
        ("http://legacy.localhost:8090/a?b", "/a?b"),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("https://legacy.localhost:8090/a", None),
        ("http://legacy.localhost:8091/a", None),
        ("http://evil.example/a", None),
        ("http://x@legacy.localhost:8090/a", None),
        ("javascript:alert(1)", None),
    ],
)
def test_redirect_targets_stay_on_the_public_domain(target: str, expected: str | None) -> None:
    assert same_domain_target(parse_app(app_doc()), "http", target) == expected


async def test_health_checks_take_hosts_out_and_stop_when_the_app_is_forgotten() -> None:
    import asyncio

    app = parse_app(
        app_doc(
            _embedded={
                "protectedResources": [{"hostname": "http://a:1"}, {"hostname": "http://b:1"}],
                "healthCheck": {"enabled": True, "path": "/hc", "interval": 0.01, "unhealthyThreshold": 2},
            }
        )
    )
    probed: list[str] = []

    async def probe(url: str, check: Any) -> bool:
        probed.append(url)
        return url.startswith("http://a:1")

    balancer = Balancer(probe)
    assert {balancer.pick(app).hostname for _ in range(2)} == {"http://a:1", "http://b:1"}  # type: ignore[union-attr]
    for _ in range(500):
        if not balancer.is_healthy(app, "http://b:1"):
            break
        await asyncio.sleep(0.01)
    assert {balancer.pick(app).hostname for _ in range(4)} == {"http://a:1"}  # type: ignore[union-attr]
    assert "http://b:1/hc" in probed
    task = balancer._apps[app.id].checker
    assert task is not None and not task.done()
    balancer.forget(app.id)
    await asyncio.wait([task], timeout=5)
    assert task.cancelled()


def test_attributes_whose_names_are_not_header_tokens_are_never_sent_but_still_stripped() -> None:
    app = parse_app(
        app_doc(
            _embedded={
                "attributes": [{"name": "X Bad: yes", "source": "STATIC", "value": "v", "type": "HEADER"}]
            }
        )
    )
    assert session_attributes(app, session(), None) == ([], [])
    assert "x bad: yes" in reserved_names(app)


def test_apps_without_sign_in() -> None:
    assert not parse_app(app_doc(type="OAG_NOAUTH")).requires_sign_in
    assert not parse_app(app_doc(_embedded={"session": {"auth": "NOAUTH"}})).requires_sign_in
    assert parse_app(app_doc()).requires_sign_in


async def test_the_metrics_app_serves_the_text_format() -> None:
    from ostiary.access_gateway.proxy.metrics import ProxyMetrics, metrics_app

    metrics = ProxyMetrics()
    metrics.count_request('we"ird', 200)
    metrics.observe_upstream("a", 0.003)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await metrics_app(metrics)({"type": "http", "method": "GET"}, None, send)
    text = sent[1]["body"].decode()
    assert 'ostiary_oag_requests_total{app="we\\"ird",status="200"} 1' in text
    assert 'ostiary_oag_upstream_latency_seconds_bucket{app="a",le="0.005"} 1' in text
    assert 'ostiary_oag_upstream_latency_seconds_bucket{app="a",le="0.0025"} 0' in text


async def test_on_https_the_cookies_are_secure_and_the_callback_is_https() -> None:
    import httpx

    from ostiary.access_gateway.proxy.app import make_proxy_app
    from ostiary.access_gateway.proxy.catalog import StaticAppCatalog

    oidc = {"orgUrl": "https://org.example", "clientId": "c1", "clientSecret": "s1"}
    proxy = make_proxy_app(
        StaticAppCatalog([app_doc(publicDomain="legacy.example", ostiaryOidc=oidc)]),
        public_url="https://gw.example",
    )
    transport = httpx.ASGITransport(app=proxy)
    async with httpx.AsyncClient(transport=transport, base_url="https://legacy.example") as client:
        answer = await client.get("/reports?x=1")
        stray = await client.get("/_ostiary/callback?code=c&state=unknown")
    await proxy.aclose()
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert (location.host, location.path) == ("org.example", "/oauth2/v1/authorize")
    assert location.params["redirect_uri"] == "https://legacy.example/_ostiary/callback"
    assert location.params["scope"] == "openid profile email groups"
    assert len(location.params["code_challenge"]) == 43 and location.params["nonce"]
    state_cookie = answer.headers["set-cookie"]
    assert location.params["state"] not in state_cookie  # the cookie holds the sealed sign-in
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/_ostiary/callback", "Max-Age=600"):
        assert flag in state_cookie
    assert stray.status_code == 400


def test_attributes_can_never_set_framing_routing_or_the_gateways_own_headers() -> None:
    names = (
        "Host",
        "Content-Length",
        "transfer_encoding",
        "Cookie",
        "X-Forwarded-For",
        "X-Ostiary-Assertion",
    )
    app = parse_app(
        app_doc(
            _embedded={
                "attributes": [{"name": n, "source": "STATIC", "value": "1", "type": "HEADER"} for n in names]
                + [{"name": "X-Fine", "source": "STATIC", "value": "1", "type": "HEADER"}]
            }
        )
    )
    assert session_attributes(app, session(), None) == ([(b"x-fine", b"1")], [])


async def test_a_failing_catalog_answers_503_without_details() -> None:
    import httpx

    from ostiary.access_gateway.proxy.app import make_proxy_app

    class Broken:
        async def app_for_host(self, host: str) -> dict[str, Any] | None:
            raise ConnectionError("database password=hunter2 unreachable")

    proxy = make_proxy_app(Broken(), public_url="https://gw.example")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="https://a.example") as c:
        answer = await c.get("/")
    assert answer.status_code == 503 and "hunter2" not in answer.text
    assert 'data-page="unavailable"' in answer.text


def test_a_sealed_sign_in_opens_only_with_its_state_in_time_and_untouched() -> None:
    from ostiary.access_gateway.proxy.sessions import PendingSignIn, SignInSeal

    seal = SignInSeal(ttl=600)
    pending = PendingSignIn("a1", "verifier", "nonce", "/deep?x=1", 1000.0)
    sealed = seal.seal("state-1", pending)
    assert seal.open("state-1", sealed, now=1100) == pending
    assert seal.open("state-2", sealed, now=1100) is None
    assert seal.open("state-1", sealed, now=1600) is None  # expired
    assert seal.open("state-1", sealed, now=900) is None  # from the future
    payload, mac = sealed.split(".")
    forged = SignInSeal().seal("state-1", PendingSignIn("a1", "v", "n", "https://evil.example", 1000.0))
    assert seal.open("state-1", forged, now=1100) is None  # another gateway's key
    assert seal.open("state-1", forged.split(".")[0] + "." + mac, now=1100) is None
    assert seal.open("state-1", payload, now=1100) is None
    assert seal.open("state-1", None) is None and seal.open("", sealed) is None
