"""Review of F9's fix: a path that an upstream reads as an *earlier* route's path is refused.

The usual layout puts a specific route before a general one: ``/api/admin`` (gold) before
``/api/*`` (silver). The gateway matches case-sensitively and exactly, so ``/api/ADMIN`` or
``/api/admin/`` fell through to ``/api/*`` and reached the upstream with a silver token. Express
(case-insensitive, non-strict routing by default), ASP.NET Core (case-insensitive) and Spring
before 6 (trailing-slash match) serve the admin handler for those; IIS also drops trailing dots
and spaces, and some stacks fold full-width letters. Such a path is refused (400) before the
upstream; paths that only the general route can mean still go through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with issuer_and_upstream() as (idp, upstream, recorder):
        gold = {"all_of": [GOLD]}
        config = {
            "issuers": [{"issuer": idp.issuer, "audiences": [AUDIENCE]}],
            "routes": [
                {"path": "/api/admin", "upstream": upstream.url, "scopes": gold},
                {"path": "/api/users/{id}/delete", "upstream": upstream.url, "scopes": gold},
                {"path": "/open/admin", "upstream": upstream.url, "scopes": gold},
                {"path": "/open/*", "upstream": upstream.url, "public": True, "allow_semicolons": True},
                {"path": "/api/reports", "upstream": upstream.url, "methods": ["POST"], "scopes": gold},
                {
                    "path": "/api/*",
                    "upstream": upstream.url,
                    "methods": ["GET", "POST"],
                    "scopes": {"all_of": [SILVER]},
                },
            ],
        }
        with running_gateway(config) as gateway:
            yield idp, gateway, recorder


def get(setup: Setup, target: str, method: str = "GET") -> Any:
    idp, gateway, recorder = setup
    recorder.seen.clear()
    return send_raw(gateway.port, target, [bearer(token_for(idp.issuer, [SILVER]))], method=method)


SHADOWED = [
    "/api/ADMIN",
    "/api/Admin",
    "/api/admin/",
    "/api/admin.",
    "/api/admin%2E",
    "/api/admin%20",
    "/api/%EF%BD%81dmin",
    "/api/users/7/DELETE",
    "/api/users/7/delete/",
]


@pytest.mark.parametrize("target", SHADOWED)
def test_a_path_an_upstream_reads_as_an_earlier_route_is_refused(setup: Setup, target: str) -> None:
    answer = get(setup, target)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_request"
    assert setup[2].seen == []


def test_the_specific_route_still_wants_its_own_scope(setup: Setup) -> None:
    assert get(setup, "/api/admin").status == 403
    assert setup[2].seen == []


@pytest.mark.parametrize("target", ["/api/planets", "/api/Planets/", "/api/administrators", "/api/users/7"])
def test_a_path_only_the_general_route_can_mean_goes_through(setup: Setup, target: str) -> None:
    assert get(setup, target).status == 200
    assert [seen.raw_path for seen in setup[2].seen] == [target]


def test_a_route_for_other_methods_does_not_shadow(setup: Setup) -> None:
    assert get(setup, "/api/REPORTS").status == 200
    assert get(setup, "/api/REPORTS", method="POST").status == 400


@pytest.mark.parametrize(
    "target",
    ["/api/%C2%85../admin", "/api/%E1%9A%80../admin", "/api/%E2%80%A8../admin", "/api/%C2%9F../admin"],
)
def test_unfolded_whitespace_cannot_hide_a_dot_segment(setup: Setup, target: str) -> None:
    """NEL, the Ogham space mark and the line/paragraph separators are whitespace to
    ``str.strip()``, .NET's ``Trim()`` and others, but not control characters in C0 and do not
    fold to a space: ``\\x85..`` passed the dot-segment check and reached the upstream."""
    answer = get(setup, target)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_request"
    assert setup[2].seen == []


def test_path_parameters_cannot_hide_an_earlier_route(setup: Setup) -> None:
    """Tomcat, Spring and Jetty drop ``;parameters`` from each segment: with ``allow_semicolons``
    on the general route, ``/open/admin;jsessionid=1`` is the gold ``/open/admin`` to them."""
    assert get(setup, "/open/admin;jsessionid=1").status == 400
    assert get(setup, "/open/admin;jsessionid=1/").status == 400
    assert get(setup, "/open/cars;color=red").status == 200
    assert [seen.raw_path for seen in setup[2].seen] == ["/open/cars;color=red"]
