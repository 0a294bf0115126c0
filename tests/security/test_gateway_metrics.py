"""F19 (metrics): the gateway's ``/metrics`` is not public by default.

It used to be on by default, unauthenticated, on the public listener, and it shadowed an
upstream ``/metrics``. Now it is served only with ``Authorization: Bearer`` and the token in
``OSTIARY_GATEWAY_METRICS_TOKEN``, or to anyone with an explicit ``metrics.public: true``;
with neither, the gateway does not serve it and the path is routed like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ostiary.gateway.config import ConfigError, parse_config
from ostiary.gateway.proxy import Gateway
from tests.support.gateway import RecordingUpstream, issuer_and_upstream, send_raw
from tests.support.gateway_loopback import LoopbackServer
from tests.support.jwt_factory import AUDIENCE

METRICS_TOKEN = "m3tr1cs-7c1f0e8d2b5a4f6e9d3c"
PROMETHEUS = b"# TYPE ostiary_gateway_requests_total counter"


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, str, RecordingUpstream]]:
    with issuer_and_upstream() as (idp, server, recorder):
        yield idp.issuer, server.url, recorder


@contextmanager
def gateway(
    upstream: tuple[str, str, RecordingUpstream], metrics: dict[str, Any], token: str | None = None
) -> Iterator[LoopbackServer]:
    issuer, url, recorder = upstream
    recorder.seen.clear()
    config = parse_config(
        {
            "issuers": [{"issuer": issuer, "audiences": [AUDIENCE]}],
            "routes": [{"path": "/metrics", "upstream": url, "public": True}],
            "metrics": metrics,
        }
    )
    server = LoopbackServer(Gateway(config, metrics_token=token), lifespan="on").start()
    try:
        yield server
    finally:
        server.stop(force=False)


def test_without_a_token_or_public_the_gateway_does_not_serve_its_metrics(
    upstream: tuple[str, str, RecordingUpstream],
) -> None:
    with gateway(upstream, {"enabled": True}) as server:
        answer = send_raw(server.port, "/metrics")
    assert PROMETHEUS not in answer.body
    assert [seen.path for seen in upstream[2].seen] == ["/metrics"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"],
)
def test_metrics_need_the_metrics_token(
    upstream: tuple[str, str, RecordingUpstream], authorization: str | None
) -> None:
    headers = [("Authorization", authorization)] if authorization else []
    with gateway(upstream, {"enabled": True}, METRICS_TOKEN) as server:
        answer = send_raw(server.port, "/metrics", headers)
    assert answer.status == 401
    assert (answer.header("www-authenticate") or "").startswith('Bearer realm="ostiary-metrics"')
    assert PROMETHEUS not in answer.body
    assert upstream[2].seen == []


def test_metrics_are_served_with_the_metrics_token(upstream: tuple[str, str, RecordingUpstream]) -> None:
    with gateway(upstream, {"enabled": True}, METRICS_TOKEN) as server:
        answer = send_raw(server.port, "/metrics", [("Authorization", f"Bearer {METRICS_TOKEN}")])
    assert answer.status == 200
    assert PROMETHEUS in answer.body


def test_public_metrics_are_an_explicit_choice(upstream: tuple[str, str, RecordingUpstream]) -> None:
    with gateway(upstream, {"enabled": True, "public": True}) as server:
        answer = send_raw(server.port, "/metrics")
    assert answer.status == 200
    assert PROMETHEUS in answer.body


def test_disabled_metrics_are_not_served_even_with_a_token(
    upstream: tuple[str, str, RecordingUpstream],
) -> None:
    with gateway(upstream, {"enabled": False}, METRICS_TOKEN) as server:
        answer = send_raw(server.port, "/metrics", [("Authorization", f"Bearer {METRICS_TOKEN}")])
    assert PROMETHEUS not in answer.body


def test_metrics_public_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match=r"metrics\.public: expected true or false"):
        parse_config(
            {
                "issuers": [{"issuer": "https://idp.example/oauth2/default", "audiences": [AUDIENCE]}],
                "routes": [{"path": "/x", "upstream": "http://127.0.0.1:9"}],
                "metrics": {"public": "yes"},
            }
        )


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ostiary.gateway.server import metrics_token_from_env

    monkeypatch.setenv("OSTIARY_GATEWAY_METRICS_TOKEN", METRICS_TOKEN)
    assert metrics_token_from_env() == METRICS_TOKEN
    monkeypatch.setenv("OSTIARY_GATEWAY_METRICS_TOKEN", "  ")
    assert metrics_token_from_env() is None
    monkeypatch.delenv("OSTIARY_GATEWAY_METRICS_TOKEN")
    assert metrics_token_from_env() is None
