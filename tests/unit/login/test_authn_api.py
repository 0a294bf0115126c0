"""POST /api/v1/authn: Okta's primary authentication — the transaction shape, one-time session
tokens, one answer for every refusal, lockout and unlock, PASSWORD_EXPIRED."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ostiary.domain.directory import passwords
from tests.conftest import Server
from tests.support.authn import AUTHN, LOGIN, assert_authentication_failed, authn, user_status
from tests.support.users import PASSWORD, create

# --- success ---------------------------------------------------------------------------------


async def test_success_answers_the_okta_transaction_shape(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    response = await authn(any_server)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == ["expiresAt", "status", "sessionToken", "_embedded"]
    assert body["status"] == "SUCCESS"
    assert len(body["sessionToken"]) >= 40
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    assert body["_embedded"]["user"] == {
        "id": user["id"],
        "passwordChanged": user["passwordChanged"],
        "profile": {
            "login": LOGIN,
            "firstName": "Ann",
            "lastName": "Lee",
            "locale": "en_US",
            "timeZone": "America/Los_Angeles",
        },
    }


async def test_the_username_is_case_insensitive(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    assert (await authn(server, "ANN.Lee@Example.com")).json()["status"] == "SUCCESS"


async def test_no_api_token_is_needed_and_the_password_never_comes_back(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    response = await authn(server)
    assert response.status_code == 200
    assert PASSWORD not in response.text


async def test_the_session_token_is_single_use(any_server: Server, any_admin: httpx.AsyncClient) -> None:
    await create(any_admin)
    token = (await authn(any_server)).json()["sessionToken"]
    async with any_server.client() as anonymous:
        first = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
        second = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    assert first.status_code == 200
    assert_authentication_failed(second)


async def test_an_expired_session_token_is_refused(server: Server, admin: httpx.AsyncClient) -> None:
    from sqlalchemy import update

    from ostiary.store.models.sessions import SessionToken

    await create(admin)
    token = (await authn(server)).json()["sessionToken"]
    async with server.rt.db.session() as session:
        await session.execute(
            update(SessionToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    assert_authentication_failed(response)


async def test_success_is_logged_as_a_session_start(any_server: Server, any_admin: httpx.AsyncClient) -> None:
    user = (await create(any_admin)).json()
    await authn(any_server)
    events = (
        await any_admin.get("/api/v1/logs", params={"filter": 'eventType eq "user.session.start"'})
    ).json()
    assert [(e["outcome"]["result"], e["actor"]["id"], e["target"][0]["id"]) for e in events] == [
        ("SUCCESS", user["id"], user["id"])
    ]


async def test_success_records_the_last_login(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    assert user["lastLogin"] is None
    await authn(server)
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["lastLogin"] is not None


# --- one answer for every refusal ------------------------------------------------------------


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    wrong_password = await authn(any_server, LOGIN, "Wr0ng-Password!")
    unknown_user = await authn(any_server, "nobody@example.com", PASSWORD)
    assert_authentication_failed(wrong_password)
    assert_authentication_failed(unknown_user)
    assert set(wrong_password.headers) - {"x-okta-request-id", "date"} == set(unknown_user.headers) - {
        "x-okta-request-id",
        "date",
    }


@pytest.mark.parametrize("action", ["suspend", "deactivate"])
async def test_suspended_and_deactivated_users_are_refused_even_with_the_right_password(
    server: Server, admin: httpx.AsyncClient, action: str
) -> None:
    user = (await create(admin)).json()
    await admin.post(f"/api/v1/users/{user['id']}/lifecycle/{action}")
    assert_authentication_failed(await authn(server))


async def test_a_staged_user_is_refused(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin, activate="false")
    assert_authentication_failed(await authn(server))


async def test_every_refusal_costs_exactly_one_password_verification(
    server: Server, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    original = passwords.verify_password

    async def counting(password: str, password_hash: str | None) -> bool:
        calls.append(password_hash)
        return await original(password, password_hash)

    suspended = (await create(admin, "sue.spended@example.com")).json()
    await admin.post(f"/api/v1/users/{suspended['id']}/lifecycle/suspend")
    await create(admin)
    monkeypatch.setattr(passwords, "verify_password", counting)
    attempts = [
        ("nobody@example.com", PASSWORD),
        (LOGIN, "Wr0ng-Password!"),
        ("sue.spended@example.com", PASSWORD),
        (LOGIN, PASSWORD),
    ]
    for username, password in attempts:
        calls.clear()
        await authn(server, username, password)
        assert len(calls) == 1, username
    calls.clear()
    await authn(server, "nobody@example.com", PASSWORD)
    assert calls == [None]


async def test_refusals_are_logged_with_the_reason(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    await authn(server, LOGIN, "Wr0ng-Password!")
    await authn(server, "nobody@example.com", PASSWORD)
    params = {"filter": 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'}
    events = (await admin.get("/api/v1/logs", params=params)).json()
    assert [(e["outcome"]["reason"], e["actor"]["alternateId"]) for e in events] == [
        ("INVALID_CREDENTIALS", LOGIN),
        ("INVALID_CREDENTIALS", "nobody@example.com"),
    ]
    assert all("Wr0ng" not in str(e) and PASSWORD not in str(e) for e in events)


# --- lockout ---------------------------------------------------------------------------------


async def test_the_account_locks_after_max_attempts_and_unlock_restores_it(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    for _ in range(passwords.DEFAULT_POLICY.max_attempts - 1):
        assert_authentication_failed(await authn(any_server, LOGIN, "Wr0ng-Password!"))
    assert await user_status(any_admin, user["id"]) == "ACTIVE"
    assert_authentication_failed(await authn(any_server, LOGIN, "Wr0ng-Password!"))
    assert await user_status(any_admin, user["id"]) == "LOCKED_OUT"

    assert_authentication_failed(await authn(any_server))  # the right password: the same answer
    assert_authentication_failed(await authn(any_server, LOGIN, "Wr0ng-Password!"))

    assert (await any_admin.post(f"/api/v1/users/{user['id']}/lifecycle/unlock")).status_code == 200
    assert (await authn(any_server)).json()["status"] == "SUCCESS"


async def test_locking_is_logged(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    for _ in range(passwords.DEFAULT_POLICY.max_attempts):
        await authn(server, LOGIN, "Wr0ng-Password!")
    events = (await admin.get("/api/v1/logs", params={"filter": 'eventType eq "user.account.lock"'})).json()
    assert [e["target"][0]["id"] for e in events] == [user["id"]]


async def test_a_success_resets_the_failure_count(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    limit = passwords.DEFAULT_POLICY.max_attempts
    for _ in range(limit - 1):
        await authn(server, LOGIN, "Wr0ng-Password!")
    assert (await authn(server)).json()["status"] == "SUCCESS"
    for _ in range(limit - 1):
        await authn(server, LOGIN, "Wr0ng-Password!")
    assert await user_status(admin, user["id"]) == "ACTIVE"


# --- PASSWORD_EXPIRED ------------------------------------------------------------------------


async def test_an_expired_password_answers_a_state_token_and_no_session_token(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    await any_admin.post(f"/api/v1/users/{user['id']}/lifecycle/expire_password")
    response = await authn(any_server)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "PASSWORD_EXPIRED"
    assert "sessionToken" not in body
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", body["stateToken"])
    assert body["_embedded"]["user"]["id"] == user["id"]
    async with any_server.client() as anonymous:
        exchanged = await anonymous.post("/api/v1/sessions", json={"sessionToken": body["stateToken"]})
    assert_authentication_failed(exchanged)


async def test_an_expired_password_with_a_wrong_password_is_the_generic_refusal(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user = (await create(admin)).json()
    await admin.post(f"/api/v1/users/{user['id']}/lifecycle/expire_password")
    assert_authentication_failed(await authn(server, LOGIN, "Wr0ng-Password!"))


# --- bad input -------------------------------------------------------------------------------


async def test_malformed_json_is_e0000003(server: Server) -> None:
    async with server.client() as anonymous:
        response = await anonymous.post(
            AUTHN, content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000003"


@pytest.mark.parametrize(
    "body",
    [
        {"username": LOGIN},
        {"password": PASSWORD},
        {"username": 42, "password": PASSWORD},
        {"username": LOGIN, "password": ""},
    ],
)
async def test_missing_or_mistyped_credentials_are_e0000001(server: Server, body: dict[str, Any]) -> None:
    async with server.client() as anonymous:
        response = await anonymous.post(AUTHN, json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"


async def test_bad_input_counts_no_failure(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    async with server.client() as anonymous:
        for _ in range(passwords.DEFAULT_POLICY.max_attempts + 1):
            await anonymous.post(AUTHN, json={"username": LOGIN})
    assert await user_status(admin, user["id"]) == "ACTIVE"


async def test_other_methods_are_405(server: Server) -> None:
    async with server.client() as anonymous:
        response = await anonymous.get(AUTHN)
    assert response.status_code == 405
    assert response.json()["errorCode"] == "E0000022"
