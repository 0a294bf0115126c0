"""Ostiary sends no email: an activation or recovery token that an email would carry is written
to the server log at DEBUG level (and only there, and only at DEBUG), and it works."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.conftest import Server

LOGGER = "ostiary.user_tokens"
PASSWORD = "Tr1cky-Secret!"


def logged_token(caplog: pytest.LogCaptureFixture, kind: str) -> str:
    found = [re.search(rf"{kind} token for user \S+ \(\S+\): (\S+)", r.getMessage()) for r in caplog.records]
    tokens = [m.group(1) for m in found if m]
    assert tokens, caplog.text
    return tokens[-1]


async def test_a_forgotten_password_is_recovered_with_the_logged_token(
    server: Server, admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    login = "ann.lee@example.com"
    body = {
        "profile": {"login": login, "email": login, "firstName": "Ann", "lastName": "Lee"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    assert (await admin.post("/api/v1/users", json=body)).status_code == 200
    async with server.client() as anonymous:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            challenge = await anonymous.post("/api/v1/authn/recovery/password", json={"username": login})
        assert challenge.json()["status"] == "RECOVERY_CHALLENGE"
        assert "recovery token" not in caplog.text  # above DEBUG: nothing
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            await anonymous.post("/api/v1/authn/recovery/password", json={"username": login})
        token = logged_token(caplog, "recovery")
        opened = await anonymous.post("/api/v1/authn/recovery/token", json={"recoveryToken": token})
        assert opened.json()["status"] == "PASSWORD_RESET"
        done = await anonymous.post(
            "/api/v1/authn/credentials/reset_password",
            json={"stateToken": opened.json()["stateToken"], "newPassword": "An0ther-Secret"},
        )
        assert done.json()["status"] == "SUCCESS"


async def test_an_activation_email_is_a_debug_log_line(
    server: Server, admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    login = "new.hire@example.com"
    profile = {"login": login, "email": login, "firstName": "New", "lastName": "Hire"}
    user = (await admin.post("/api/v1/users?activate=false", json={"profile": profile})).json()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        sent = await admin.post(f"/api/v1/users/{user['id']}/lifecycle/activate?sendEmail=true")
    assert sent.json() == {}
    async with server.client() as anonymous:
        opened = await anonymous.post("/api/v1/authn", json={"token": logged_token(caplog, "activation")})
    assert opened.json()["status"] == "PASSWORD_RESET"


async def test_a_locked_out_user_recovers_with_a_forgot_password_token(
    server: Server, admin: httpx.AsyncClient
) -> None:
    login = "locked.out@example.com"
    body = {
        "profile": {"login": login, "email": login, "firstName": "Lo", "lastName": "Ck"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    user_id = (await admin.post("/api/v1/users", json=body)).json()["id"]
    async with server.client() as anonymous:
        for _ in range(10):
            await anonymous.post("/api/v1/authn", json={"username": login, "password": "Wrong-Passw0rd"})
        assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "LOCKED_OUT"
        trusted = await admin.post("/api/v1/authn/recovery/password", json={"username": login})
        assert trusted.json()["status"] == "RECOVERY"
        opened = await anonymous.post(
            "/api/v1/authn/recovery/token", json={"recoveryToken": trusted.json()["recoveryToken"]}
        )
        done = await anonymous.post(
            "/api/v1/authn/credentials/reset_password",
            json={"stateToken": opened.json()["stateToken"], "newPassword": "An0ther-Secret"},
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "SUCCESS"
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "ACTIVE"


async def test_reactivate_returns_a_working_activation_token_by_default(
    server: Server, admin: httpx.AsyncClient
) -> None:
    """The spec's ``sendEmail`` default is false for reactivate (true for activate)."""
    login = "re.active@example.com"
    profile = {"login": login, "email": login, "firstName": "Re", "lastName": "Active"}
    user = (await admin.post("/api/v1/users", json={"profile": profile})).json()
    assert user["status"] == "PROVISIONED"
    first = (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/activate?sendEmail=false")).status_code
    assert first == 403  # already activated: reactivate instead
    again = (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/reactivate")).json()
    async with server.client() as anonymous:
        opened = await anonymous.post("/api/v1/authn", json={"token": again["activationToken"]})
    assert opened.json()["status"] == "PASSWORD_RESET"
