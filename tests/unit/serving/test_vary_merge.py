"""``Vary`` from CORS joins an endpoint's own without naming a field twice."""

from __future__ import annotations

from starlette.responses import Response

from ostiary.http.cors import apply_cors, merge_vary


def test_a_field_already_named_is_not_repeated() -> None:
    assert merge_vary("Origin", "Origin") == "Origin"
    assert merge_vary("accept-encoding, origin", "Origin") == "accept-encoding, origin"
    assert merge_vary("Accept-Encoding", "Origin") == "Accept-Encoding, Origin"
    preflight = "Origin, Access-Control-Request-Method"
    assert merge_vary(None, preflight) == preflight
    assert merge_vary(" , ", "Origin") == "Origin"


def test_cors_headers_join_a_response() -> None:
    response = Response(b"{}", headers={"Vary": "Origin", "Cache-Control": "no-store"})
    apply_cors(response, {"Access-Control-Allow-Origin": "https://spa.example", "Vary": "Origin"})
    assert response.headers.getlist("vary") == ["Origin"]
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    plain = Response(b"{}")
    apply_cors(plain, {"Access-Control-Allow-Origin": "https://spa.example", "Vary": "Origin"})
    assert plain.headers.getlist("vary") == ["Origin"]
    untouched = Response(b"{}")
    apply_cors(untouched, {})
    assert "vary" not in untouched.headers


def test_every_vary_line_of_the_response_is_kept() -> None:
    response = Response(b"{}")
    response.headers.append("Vary", "Accept-Encoding")
    response.headers.append("Vary", "Cookie")
    apply_cors(response, {"Vary": "Origin"})
    assert response.headers.getlist("vary") == ["Accept-Encoding, Cookie, Origin"]
