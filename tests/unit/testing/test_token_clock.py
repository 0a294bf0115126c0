"""The one clock seam of token minting (``timeutil.token_time``) that tests can move."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ostiary import timeutil
from ostiary.domain.tokens.access_tokens import access_token_claims


@pytest.fixture(autouse=True)
def _clock_back() -> Iterator[None]:
    yield
    timeutil.set_token_clock_skew(0)


def _claims() -> dict:
    return access_token_claims(issuer="i", audience="a", client_id="c", scopes=[], lifetime_seconds=60)


def test_access_tokens_are_minted_on_the_system_clock_by_default():
    before = int(time.time())
    claims = _claims()

    assert before <= claims["iat"] <= int(time.time())


def test_a_clock_two_hours_behind_mints_expired_tokens():
    timeutil.set_token_clock_skew(-7200)

    claims = _claims()

    assert claims["exp"] < time.time()


def test_a_clock_ahead_mints_tokens_issued_in_the_future():
    timeutil.set_token_clock_skew(600)

    assert _claims()["iat"] > time.time() + 500


def test_putting_the_skew_back_restores_the_system_clock():
    timeutil.set_token_clock_skew(600)
    timeutil.set_token_clock_skew(0)

    assert timeutil.token_clock_skew() == 0
    assert _claims()["iat"] <= time.time()
