"""The device grant's ``user_code`` is short (8 letters of 20), so the hosted ``/activate`` page
counts every code entered, per signed-in user (``activate_user``) and per address
(``activate_ip``); over the limit it answers 429 with ``Retry-After`` and looks no code up, so
even the right code is refused until the window ends (RFC 8628 §5.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ostiary.domain.tokens.device_codes import USER_CODE_ALPHABET, USER_CODE_LENGTH
from tests.conftest import Server, _server
from tests.support.authorize import user
from tests.support.login_page import csrf_token
from tests.unit.oauth.test_device_authorization import (
    CARL,
    decide,
    device_app,
    poll,
    signed_in_browser,
    start,
)

LAST = USER_CODE_ALPHABET[-1] * 4


@pytest.fixture
async def throttled_server(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="activate_user=3,activate_ip=10"):
        yield s


@pytest.fixture
async def admin(throttled_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with throttled_server.client(await throttled_server.create_token()) as client:
        yield client


def test_the_user_code_is_as_strong_as_rfc_8628_suggests() -> None:
    assert (len(set(USER_CODE_ALPHABET)), USER_CODE_LENGTH) == (20, 8)  # §6.1: 20^8 ≈ 2^34.5
    assert not set(USER_CODE_ALPHABET) & set("AEIOUY")  # no vowels: no words, fewer typos


async def test_guessing_codes_is_throttled_per_user(
    throttled_server: Server, admin: httpx.AsyncClient
) -> None:
    client_id = await device_app(admin)
    await user(admin, CARL)
    async with throttled_server.client() as device:
        started = (await start(device, client_id)).json()
    async with signed_in_browser(throttled_server) as browser:
        for guess in ("BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"):
            wrong = await browser.get("/activate", params={"user_code": guess})
            assert wrong.status_code == 400, wrong.text
        throttled = await browser.get("/activate", params={"user_code": started["user_code"]})
        assert throttled.status_code == 429, throttled.text
        assert "Too many codes" in throttled.text and started["user_code"] not in throttled.text
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert throttled.headers["x-rate-limit-remaining"] == "0"
        blank = await browser.get("/activate")  # the empty form is not an entry
        assert blank.status_code == 200
        fields = {
            "csrfToken": csrf_token(blank),
            "user_code": started["user_code"],
            "shown": started["user_code"],
        }
        posted = await browser.post("/activate", data={**fields, "decision": "allow"})
        assert posted.status_code == 429  # nor can the form approve it
    async with throttled_server.client() as device:
        pending = await poll(device, client_id, started["device_code"])
    assert pending.json()["error"] == "authorization_pending"  # nothing was decided

    # The next minute, the right code works again.
    limiter = throttled_server.rt.limiter
    assert limiter is not None
    later = limiter.clock() + 60
    limiter.clock = lambda: later
    async with signed_in_browser(throttled_server) as browser:
        done = await decide(browser, started["user_code"], "allow")
    assert done.status_code == 200 and 'id="done"' in done.text, done.text


async def test_guessing_codes_is_throttled_per_address(
    throttled_server: Server, admin: httpx.AsyncClient
) -> None:
    await device_app(admin)
    logins = [f"user.number{n}@example.com" for n in range(4)]
    for login in logins:
        await user(admin, login)
    answers = []
    for login in logins:  # 3 users x 3 guesses + 1 = the address's 10; the 11th is refused
        async with signed_in_browser(throttled_server, login) as browser:
            for _ in range(3):
                answers.append(
                    (await browser.get("/activate", params={"user_code": LAST + LAST})).status_code
                )
    assert answers[:10] == [400] * 10 and answers[10:] == [429, 429]
