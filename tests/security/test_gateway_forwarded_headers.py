"""F19 (header hygiene): client-sent copies of the headers the gateway sets, or that upstreams
commonly trust, never reach the upstream; the gateway sets its own.

``Forwarded``, ``X-Real-IP`` and ``X-Forwarded-*`` used to pass through (``X-Forwarded-For``
was appended to), and so did ``X_Subject``: CGI/WSGI stacks map ``_`` and ``-`` to the same
environ key, so an upstream could have read a spoofed subject.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway import (
    RecordingUpstream,
    Seen,
    bearer,
    issuer_and_upstream,
    running_gateway,
    send_raw,
    token_for,
)
from tests.support.gateway_loopback import JwksServer, LoopbackServer
from tests.support.jwt_factory import AUDIENCE

Setup = tuple[JwksServer, LoopbackServer, RecordingUpstream]
SPOOFED = [
    ("Forwarded", "for=198.51.100.1;proto=https;host=admin.example"),
    ("X-Real-IP", "198.51.100.1"),
    ("X-Forwarded-For", "198.51.100.1"),
    ("X-Forwarded-Host", "admin.example"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Prefix", "/admin"),
    ("X-Forwarded-Port", "443"),
    ("X_Forwarded_For", "198.51.100.2"),
    ("X_Real_IP", "198.51.100.2"),
    ("X_Subject", "admin"),
    ("x_client_id", "spoofed"),
    ("X-Tenant_Id", "other-tenant"),
    ("X-Subject", "admin"),
]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with issuer_and_upstream() as (idp, upstream, recorder):
        config = {
            "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE]}],
            "routes": [
                {"path": "/asteroids", "upstream": upstream.url},
                {"path": "/visitors", "upstream": upstream.url, "public": True},
                {
                    "path": "/tenants",
                    "upstream": upstream.url,
                    "forward_claims": {"X-Subject": "sub", "X-Tenant-Id": "tid"},
                },
            ],
        }
        with running_gateway(config) as gateway:
            yield idp, gateway, recorder


def forwarded(setup: Setup, path: str, authenticated: bool = True) -> Seen:
    idp, gateway, recorder = setup
    recorder.seen.clear()
    headers = [*SPOOFED, ("Host", "gateway.example")]
    if authenticated:
        headers.append(bearer(token_for(idp.issuer, tid="t-1")))
    assert send_raw(gateway.port, path, headers).status == 200
    return recorder.seen[0]


@pytest.mark.parametrize(
    ("path", "authenticated"), [("/asteroids", True), ("/visitors", False), ("/tenants", True)]
)
def test_no_client_sent_proxy_or_identity_header_reaches_the_upstream(
    setup: Setup, path: str, authenticated: bool
) -> None:
    seen = forwarded(setup, path, authenticated)
    names = {name for name, _ in seen.headers}
    assert not names & {"forwarded", "x-real-ip", "x_forwarded_for", "x_real_ip", "x_subject", "x_client_id"}
    assert "x-tenant_id" not in names
    assert "x-forwarded-prefix" not in names and "x-forwarded-port" not in names
    values = {value for _, value in seen.headers}
    assert not values & {"admin", "spoofed", "198.51.100.1", "198.51.100.2", "other-tenant", "https"}


def test_the_gateway_sets_its_own_forwarding_headers(setup: Setup) -> None:
    seen = forwarded(setup, "/asteroids")
    assert seen.values("x-forwarded-for") == ["127.0.0.1"]
    assert seen.values("x-forwarded-proto") == ["http"]
    assert seen.values("x-forwarded-host") == ["gateway.example"]
    assert seen.values("x-subject") == ["carl.sagan@mailinator.com"]
    assert seen.values("x-client-id") == ["0oa1opaydr1bnvBKL357"]


def test_a_route_s_own_claim_headers_are_set_from_the_token_only(setup: Setup) -> None:
    seen = forwarded(setup, "/tenants")
    assert seen.values("x-tenant-id") == ["t-1"]
    assert seen.values("x-subject") == ["carl.sagan@mailinator.com"]
