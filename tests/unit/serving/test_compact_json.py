"""compact_json.dumps: orjson's speed with the bytes ``json.dumps`` would write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ostiary.compact_json import dumps


def _stdlib(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"ver": 1, "scp": ["a", "b"], "aud": "api://x", "nested": {"t": True, "f": False, "n": None}},
        ["é", "\u2028", "\x00\x1f", '"quoted"', "back\\slash", "/", "日本語", "😀"],
        {7: "int key", True: "bool key", None: "none key"},
        [0, -1, 2**63 - 1, 1.5, 0.1, -0.0, 1e20],
        {"big": 2**64},  # past orjson's range: the stdlib writes it
        (("tuple",), ("as", "list")),
    ],
)
def test_the_bytes_are_the_standard_librarys(data: Any) -> None:
    assert dumps(data) == _stdlib(data)


def test_non_finite_numbers_are_null_in_responses_and_refused_in_claims() -> None:
    assert dumps({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'
    with pytest.raises(ValueError):
        dumps({"x": float("nan")}, finite=True)
    with pytest.raises(ValueError):
        dumps({"x": [float("-inf")]}, finite=True)
    assert dumps({"x": None, "s": "null"}, finite=True) == b'{"x":null,"s":"null"}'


def test_what_is_not_json_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"when": object()})
