"""F9: the gateway refuses paths an upstream could read as another path, and forwards exactly
the path it matched.

Route ``/api/*`` needs silver, ``/moons`` gold. Tomcat/Spring/Jetty read ``..;`` as ``..``,
IIS reads ``\\`` as ``/``, double-decoding stacks read ``%252e`` as ``.``: had any of these
reached the upstream, a silver token on ``/api/*`` would have been a gold token on ``/moons``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ostiary.gateway.config import ConfigError, parse_config
from tests.support.gateway import (
    RecordingUpstream,
    bearer,
    issuer_and_upstream,
    running_gateway,
    send_raw,
    token_for,
)
from tests.support.gateway_loopback import JwksServer, LoopbackServer
from tests.support.jwt_factory import AUDIENCE, GOLD, SILVER

Setup = tuple[JwksServer, LoopbackServer, RecordingUpstream]


def routes(upstream: str) -> list[dict[str, Any]]:
    return [
        {"path": "/api/*", "upstream": upstream, "scopes": {"all_of": [SILVER]}},
        {"path": "/moons", "upstream": upstream, "scopes": {"all_of": [GOLD]}},
        {"path": "/matrix/*", "upstream": upstream, "scopes": {"all_of": [SILVER]}, "allow_semicolons": True},
        {"path": "/base/*", "upstream": upstream + "/v2", "strip_prefix": "/base", "public": True},
    ]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with issuer_and_upstream() as (idp, upstream, recorder):
        config = {
            "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE]}],
            "routes": routes(upstream.url),
        }
        with running_gateway(config) as gateway:
            yield idp, gateway, recorder


@pytest.fixture
def silver(setup: Setup) -> tuple[str, str]:
    return bearer(token_for(setup[0].issuer, [SILVER]))


def get(setup: Setup, target: str, auth: tuple[str, str]) -> Any:
    _, gateway, recorder = setup
    recorder.seen.clear()
    return send_raw(gateway.port, target, [auth])


CONFUSING_PATHS = [
    "/api/..;/moons",
    "/api/%2e%2e;/moons",
    "/api/%2E%2E%3B/moons",
    "/api/x/..%3B/moons",
    "/api/.;/moons",
    "/api/..;jsessionid=1/moons",
    "/api/%252e%252e/moons",
    "/api/%25252e%25252e/moons",
    "/api/%5c..%5cmoons",
    "/api/%5C..%5Cmoons",
    "/api/\\..\\moons",
    "/api/x;/moons",
    "/api/%3B/moons",
    "/api/.../moons",
    "/api/..%20/moons",
    "/api/%20../moons",
    "/api/%E2%80%83../moons",
    "/api/%EF%BC%8E%EF%BC%8E/moons",
    "/api/x%EF%BC%8F..%EF%BC%8Fmoons",
    "/api/%ef%bc%85%32%65/moons",
    "/matrix/..;/moons",
    "/matrix/;x/moons",
]


@pytest.mark.parametrize("target", CONFUSING_PATHS)
def test_a_path_with_another_reading_is_refused_before_the_upstream(
    setup: Setup, silver: tuple[str, str], target: str
) -> None:
    answer = get(setup, target, silver)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"].startswith("The request path is not valid")
    assert setup[2].seen == []


def test_semicolons_reach_a_route_that_opts_in(setup: Setup, silver: tuple[str, str]) -> None:
    answer = get(setup, "/matrix/cars;color=red/engines", silver)
    assert answer.status == 200
    assert [seen.raw_path for seen in setup[2].seen] == ["/matrix/cars;color=red/engines"]


def test_an_encoded_semicolon_reaches_an_opted_in_route_as_the_path_that_was_matched(
    setup: Setup, silver: tuple[str, str]
) -> None:
    assert get(setup, "/matrix/cars%3Bcolor=red", silver).status == 200
    assert [seen.raw_path for seen in setup[2].seen] == ["/matrix/cars;color=red"]


@pytest.mark.parametrize(
    ("target", "forwarded"),
    [
        ("/api/planets", "/api/planets"),
        ("/api/%70lanets", "/api/planets"),
        ("/api/a%2Fb", "/api/a/b"),
        ("/api/caf%C3%A9", "/api/caf%C3%A9"),
        ("/api/a%20b", "/api/a%20b"),
        ("/api/.well-known", "/api/.well-known"),
    ],
)
def test_the_upstream_gets_exactly_the_path_that_was_matched(
    setup: Setup,
    silver: tuple[str, str],
    target: str,
    forwarded: str,
) -> None:
    assert get(setup, target, silver).status == 200
    assert [seen.raw_path for seen in setup[2].seen] == [forwarded]


def test_strip_prefix_forwards_the_matched_rest_under_the_upstream_base(
    setup: Setup,
) -> None:
    assert get(setup, "/base/%70ets", ("X-Any", "1")).status == 200
    assert [seen.raw_path for seen in setup[2].seen] == ["/v2/pets"]


def _route_config(**route: Any) -> dict[str, Any]:
    return {
        "issuers": [{"issuer": "https://idp.example/oauth2/default", "audiences": [AUDIENCE]}],
        "routes": [{"upstream": "http://127.0.0.1:9", **route}],
    }


def test_allow_semicolons_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match=r"routes\[0\]\.allow_semicolons: expected true or false"):
        parse_config(_route_config(path="/api/*", allow_semicolons="yes"))


@pytest.mark.parametrize("path", ["/api;v=1/*", "/a%2e/x", "/a\\b"])
def test_a_route_path_that_no_safe_request_can_match_is_a_config_error(path: str) -> None:
    with pytest.raises(ConfigError, match=r"routes\[0\]\.path"):
        parse_config(_route_config(path=path))


def test_a_route_that_allows_semicolons_may_have_them_in_its_path() -> None:
    config = parse_config(_route_config(path="/api;v=1/*", allow_semicolons=True))
    assert config.routes[0].allow_semicolons is True
