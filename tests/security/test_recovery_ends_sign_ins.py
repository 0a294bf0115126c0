"""Finishing a password reset or an expired-password change through ``/api/v1/authn`` ends the
user's other sessions: whoever knew (or used) the old password is signed out."""

from __future__ import annotations

import httpx

from tests.conftest import Server

PASSWORD = "Tr1cky-Secret!"
NEW = "Brand-N3w-Secret"
LOGIN = "kim.park@example.com"


async def sign_in(browser: httpx.AsyncClient) -> None:
    transaction = (await browser.post("/api/v1/authn", json={"username": LOGIN, "password": PASSWORD})).json()
    created = await browser.post("/api/v1/sessions", json={"sessionToken": transaction["sessionToken"]})
    assert created.status_code == 200, created.text
    assert (await browser.get("/api/v1/sessions/me")).status_code == 200


async def create_user(admin: httpx.AsyncClient) -> str:
    body = {
        "profile": {"login": LOGIN, "email": LOGIN, "firstName": "Kim", "lastName": "Park"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    return str((await admin.post("/api/v1/users", json=body)).json()["id"])


async def test_a_completed_reset_ends_the_old_sessions(server: Server, admin: httpx.AsyncClient) -> None:
    user_id = await create_user(admin)
    async with server.client() as attacker:
        await sign_in(attacker)
        reset = await admin.post(
            f"/api/v1/users/{user_id}/lifecycle/reset_password",
            params={"sendEmail": "false", "revokeSessions": "false"},
        )
        token = reset.json()["resetPasswordUrl"].rsplit("/", 1)[1]
        assert (await attacker.get("/api/v1/sessions/me")).status_code == 200  # kept, as asked
        async with server.client() as owner:
            opened = (await owner.post("/api/v1/authn/recovery/token", json={"recoveryToken": token})).json()
            done = await owner.post(
                "/api/v1/authn/credentials/reset_password",
                json={"stateToken": opened["stateToken"], "newPassword": NEW},
            )
            assert done.json()["status"] == "SUCCESS"
        assert (await attacker.get("/api/v1/sessions/me")).status_code == 404


async def test_a_completed_password_change_ends_the_old_sessions(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await create_user(admin)
    async with server.client() as other:
        await sign_in(other)
        await admin.post(f"/api/v1/users/{user_id}/lifecycle/expire_password")
        async with server.client() as owner:
            expired = (
                await owner.post("/api/v1/authn", json={"username": LOGIN, "password": PASSWORD})
            ).json()
            done = await owner.post(
                "/api/v1/authn/credentials/change_password",
                json={"stateToken": expired["stateToken"], "oldPassword": PASSWORD, "newPassword": NEW},
            )
            assert done.json()["status"] == "SUCCESS"
            assert (
                await owner.post("/api/v1/sessions", json={"sessionToken": done.json()["sessionToken"]})
            ).status_code == 200
        assert (await other.get("/api/v1/sessions/me")).status_code == 404
