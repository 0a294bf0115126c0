"""The upstream request target skips ``quote`` exactly for the paths it would not change."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ostiary.gateway.config import parse_config
from ostiary.gateway.relay import PATH_SAFE, UNCHANGED_BY_QUOTE, upstream_target
from ostiary.gateway.upstream import Origin

EVERY_CHARACTER = [chr(code) for code in range(0x250)] + ["\u2028", "\uff0e", "\U0001f600"]


@pytest.mark.parametrize("character", EVERY_CHARACTER)
def test_a_path_is_skipped_only_if_quote_leaves_it_unchanged(character: str) -> None:
    path = f"/planets/{character}/moons"
    assert bool(UNCHANGED_BY_QUOTE.fullmatch(path)) == (quote(path, safe=PATH_SAFE) == path)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/planets/earth", b"/base/planets/earth"),
        ("/api/caf\u00e9 au lait", b"/base/caf%C3%A9%20au%20lait"),
        ("/api/a;b=c/@x", b"/base/a;b=c/@x"),
    ],
)
def test_the_target_is_the_quoted_path_under_the_base(path: str, target: bytes) -> None:
    config = parse_config(
        {
            "issuers": [{"issuer": "https://id.example.com/oauth2/default", "audiences": ["api://default"]}],
            "routes": [{"path": "/api/*", "upstream": "http://up.example/base", "strip_prefix": "/api"}],
        }
    )
    route = config.routes[0]
    origin = Origin.from_url(route.upstream)
    assert upstream_target(route, origin, {"path": path, "query_string": b"q=1"}) == target + b"?q=1"
