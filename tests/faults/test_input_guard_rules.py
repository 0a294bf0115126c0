"""The input gate's rules one by one: what it refuses, and the legitimate input next to it that
it must keep accepting."""

from __future__ import annotations

import json

import pytest

from ostiary.http.input_guard import MAX_JSON_DEPTH, BadInput, check_urlencoded, parse_json


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_as_deep_as_the_limit_is_accepted_and_one_level_more_is_refused() -> None:
    assert parse_json(_nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(BadInput, match="nested deeper"):
        parse_json(_nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(BadInput, match="nested deeper"):
        parse_json(_nested(200_000))


def test_a_surrogate_pair_is_text_but_a_lone_surrogate_is_refused() -> None:
    assert parse_json(b'{"emoji":"\\ud83d\\ude00"}') == {"emoji": "\U0001f600"}
    for lone in (b'"\\ud800"', b'"\\udc00x"', b'{"\\ud800":1}', b'"\\ude00\\ud83d"'):
        with pytest.raises(BadInput, match="surrogate"):
            parse_json(lone)


def test_nul_is_refused_in_values_and_keys() -> None:
    for body in (b'{"a":"x\\u0000"}', b'{"\\u0000":1}', b'["\\u0000"]'):
        with pytest.raises(BadInput, match="NUL"):
            parse_json(body)
    assert parse_json(b'{"a":"\\\\u0000"}') == {"a": "\\u0000"}  # an escaped backslash: plain text


@pytest.mark.parametrize("number", [str(2**63 - 1), str(-(2**63)), "1.5e300", "-0.0", "0"])
def test_numbers_in_range_are_accepted(number: str) -> None:
    assert parse_json(number.encode()) == json.loads(number)


@pytest.mark.parametrize("number", [str(2**63), str(-(2**63) - 1), "1" * 5000, "1e999", "NaN", "-Infinity"])
def test_numbers_out_of_range_are_refused(number: str) -> None:
    with pytest.raises(BadInput):
        parse_json(number.encode())


def test_only_utf8_json_is_accepted() -> None:
    assert parse_json('{"name":"é"}'.encode()) == {"name": "é"}
    for encoding in ("utf-16", "utf-32", "latin-1"):
        with pytest.raises(BadInput):
            parse_json('{"name":"é"}'.encode(encoding))


@pytest.mark.parametrize(
    "raw", [b"", b"a=b&c=d", b"q=caf%C3%A9+au+lait", b"redirect_uri=https%3A%2F%2Fx%2Fcb", b"a=%ZZ"]
)
def test_well_formed_urlencoded_text_is_accepted(raw: bytes) -> None:
    check_urlencoded(raw, "query")


@pytest.mark.parametrize("raw", [b"q=%FF%FE", b"q=%C3", b"a=%00", b"a=\x00", b"%F0%9F%98=1", b"q=\xff"])
def test_urlencoded_text_that_is_not_clean_utf8_is_refused(raw: bytes) -> None:
    with pytest.raises(BadInput):
        check_urlencoded(raw, "query")
