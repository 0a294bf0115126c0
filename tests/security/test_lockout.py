"""Security review F6: a locked account is no password oracle, unlocks itself after the policy's
window, and sign-in attempts are throttled per username and per address whatever the Host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from ostiary.domain.directory import passwords
from ostiary.store.models import User
from ostiary.timeutil import utcnow
from tests.conftest import Server, _server
from tests.support.authn import LOGIN, assert_authentication_failed, user_status
from tests.support.lockout import POLICY, WRONG, authn, failed_logins
from tests.support.login_page import set_cookies, submit
from tests.support.users import PASSWORD, create


async def lock(server: Server) -> None:
    for _ in range(POLICY.max_attempts):
        assert_authentication_failed(await authn(server, WRONG))


def comparable(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    body = dict(response.json())
    body.pop("errorId")
    return response.status_code, body


async def lockout_began(server: Server, ago: timedelta) -> None:
    async with server.rt.db.session() as session:
        await session.execute(
            update(User).where(User.login_lower == LOGIN).values(status_changed=utcnow() - ago)
        )


# --- no oracle -----------------------------------------------------------------------------------


async def test_a_locked_account_answers_the_right_password_as_a_wrong_one(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    await lock(any_server)
    assert await user_status(any_admin, user["id"]) == "LOCKED_OUT"
    right, wrong = await authn(any_server, PASSWORD), await authn(any_server, WRONG)
    assert_authentication_failed(right)
    assert comparable(right) == comparable(wrong)
    assert right.headers.get("cache-control") == wrong.headers.get("cache-control")


async def test_a_locked_account_still_costs_one_password_verification(
    server: Server, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(admin)
    await lock(server)
    calls: list[str | None] = []
    original = passwords.verify_password

    async def counting(password: str, password_hash: str | None) -> bool:
        calls.append(password_hash)
        return await original(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", counting)
    for password in (PASSWORD, WRONG):
        calls.clear()
        await authn(server, password)
        assert len(calls) == 1 and calls[0] is not None


async def test_the_sign_in_page_shows_a_locked_account_the_generic_refusal(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    await lock(server)
    async with server.client() as browser:
        right, wrong = await submit(browser), await submit(browser, password=WRONG)
    assert right.status_code == wrong.status_code == 200
    assert "Unable to sign in" in right.text and "locked" not in right.text.lower()
    assert "sid" not in set_cookies(right)


async def test_attempts_on_a_locked_account_are_logged_as_locked_out(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    await lock(server)
    await authn(server, PASSWORD)
    params = {"filter": 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'}
    events = (await admin.get("/api/v1/logs", params=params)).json()
    assert events[-1]["outcome"]["reason"] == "LOCKED_OUT"


# --- auto-unlock ---------------------------------------------------------------------------------


async def test_the_lockout_ends_after_the_policys_window(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    await lock(any_server)
    await lockout_began(any_server, timedelta(minutes=POLICY.auto_unlock_minutes - 1))
    assert_authentication_failed(await authn(any_server, PASSWORD))
    await lockout_began(any_server, timedelta(minutes=POLICY.auto_unlock_minutes + 1))
    assert (await authn(any_server, PASSWORD)).json()["status"] == "SUCCESS"
    assert await user_status(any_admin, user["id"]) == "ACTIVE"
    assert await failed_logins(any_server) == 0
    params = {"filter": 'eventType eq "user.account.unlock"'}
    events = (await any_admin.get("/api/v1/logs", params=params)).json()
    assert [e["target"][0]["id"] for e in events] == [user["id"]]


async def test_after_auto_unlock_a_wrong_password_counts_from_zero(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user = (await create(admin)).json()
    await lock(server)
    await lockout_began(server, timedelta(minutes=POLICY.auto_unlock_minutes + 1))
    assert_authentication_failed(await authn(server, WRONG))
    assert await user_status(admin, user["id"]) == "ACTIVE"
    assert await failed_logins(server) == 1


# --- throttling ----------------------------------------------------------------------------------


@pytest.fixture
async def throttled_server(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="signin_user=3,signin_ip=5"):
        yield s


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.json()["errorCode"] == "E0000047"
    assert len(response.headers.get_list("x-rate-limit-reset")) == 1
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert response.headers["date"]


async def test_one_username_is_throttled_across_addresses(throttled_server: Server) -> None:
    for i in range(3):
        assert_authentication_failed(await authn(throttled_server, WRONG, ip=f"198.51.100.{i}"))
    assert_throttled(await authn(throttled_server, WRONG, ip="192.0.2.200"))
    assert_authentication_failed(await authn(throttled_server, WRONG, username="other@example.com"))


async def test_one_address_is_throttled_across_usernames_and_hosts(throttled_server: Server) -> None:
    for i in range(5):
        assert_authentication_failed(await authn(throttled_server, WRONG, username=f"u{i}@example.com"))
    assert_throttled(await authn(throttled_server, WRONG, username="u9@example.com", Host="127.0.0.1:8080"))
    assert_authentication_failed(
        await authn(throttled_server, WRONG, username="u9@example.com", ip="192.0.2.9")
    )


async def test_a_throttled_attempt_checks_no_password_and_counts_no_failure(
    throttled_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await throttled_server.create_token()
    async with throttled_server.client(token) as admin:
        await create(admin)
    for _ in range(3):
        await authn(throttled_server, WRONG)
    calls: list[str | None] = []

    async def counting(password: str, password_hash: str | None) -> bool:
        calls.append(password_hash)
        return False

    monkeypatch.setattr(passwords, "verify_password", counting)
    assert_throttled(await authn(throttled_server, PASSWORD))
    assert calls == []
    assert await failed_logins(throttled_server) == 3


async def test_the_sign_in_page_is_throttled_by_username_too(throttled_server: Server) -> None:
    for _ in range(3):
        await authn(throttled_server, WRONG)
    async with throttled_server.client() as browser:
        page = await submit(browser, password=WRONG)
    assert page.status_code == 429
    assert "Too many sign-in attempts" in page.text
