"""Review of F6's fix: the lockout holds for guesses that were already in flight.

``verify_credentials`` reads the user, verifies the password (argon2, tens of milliseconds,
off the event loop), and only then looks at the result. A burst of guesses all read the
account before the tenth failure locked it, so a right password among them signed in,
although the account was LOCKED_OUT by the time it answered: a burst of 30 guesses (the
``signin_user`` limit) got 30 tries per lockout window instead of ``max_attempts``. The
success now counts only if the account is still in the state that was read.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ostiary.domain.directory import passwords
from tests.conftest import Server
from tests.support.authn import assert_authentication_failed, user_status
from tests.support.lockout import POLICY, WRONG, authn, failed_logins
from tests.support.users import PASSWORD, create


async def test_a_right_password_in_flight_when_the_account_locks_does_not_sign_in(
    any_server: Server, any_admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = (await create(any_admin)).json()
    original = passwords.verify_password
    read_the_account, locked = asyncio.Event(), asyncio.Event()

    async def slow_for_the_right_one(password: str, password_hash: str | None) -> bool:
        if password == PASSWORD:
            read_the_account.set()
            await locked.wait()
        return await original(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", slow_for_the_right_one)
    in_flight = asyncio.create_task(authn(any_server, PASSWORD))
    await read_the_account.wait()
    for _ in range(POLICY.max_attempts):
        assert_authentication_failed(await authn(any_server, WRONG))
    assert await user_status(any_admin, user["id"]) == "LOCKED_OUT"
    locked.set()
    assert_authentication_failed(await in_flight)
    assert await user_status(any_admin, user["id"]) == "LOCKED_OUT"
    assert await failed_logins(any_server) == POLICY.max_attempts
