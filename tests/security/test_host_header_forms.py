"""Review of F3's fix: ``hostname_of`` ignored whatever followed the first ``:`` (the port was
never read), and whatever followed ``]`` of an IPv6 literal. ``localhost:1@evil.example`` was the
default org, and ``request.url`` (Starlette reads the ``Host`` header) then put that text into
the management API's ``_links``, pagination ``Link`` headers and activation URLs:
``http://localhost:1@evil.example/api/v1/users/...`` is a link to ``evil.example``. A port is
digits (RFC 3986 §3.2.3), possibly none; anything else names no host."""

from __future__ import annotations

import pytest

from ostiary.http.org_by_host import DEFAULT_ORG, HostMatch, match_host
from tests.conftest import Server


@pytest.mark.parametrize(
    "host",
    [
        "localhost:1@evil.example",
        "localhost:@evil.example",
        "localhost:80/evil",
        "localhost:80 evil",
        "localhost:8o",
        "localhost:\u0661",
        "[::1]@evil.example",
        "[::1]:1@evil.example",
        "[::1]evil",
        "acme.localhost:x@evil.example",
    ],
)
def test_a_host_with_text_in_place_of_its_port_names_no_org(host: str) -> None:
    assert match_host(host, "localhost") is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [("localhost:", DEFAULT_ORG), ("[::1]:8080", DEFAULT_ORG), ("acme.localhost:443", HostMatch("acme"))],
)
def test_hosts_with_a_port_or_an_empty_one_still_match(host: str, expected: HostMatch) -> None:
    assert match_host(host, "localhost") == expected


async def test_links_never_carry_a_host_with_userinfo(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token, Host="localhost:1@evil.example") as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 404
    assert "evil.example" not in response.text
    assert "evil.example" not in response.headers.get("link", "")
