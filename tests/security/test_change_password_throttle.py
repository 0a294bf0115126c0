"""Changing a password checks the old one, so it is throttled like a sign-in (security review F6
applied to every password check): ``POST /api/v1/users/{id}/credentials/change_password``, the
authn ``credentials/change_password`` step and the hosted change-password form count against
the user's ``signin_user`` bucket (shared with sign-in) and the address's ``signin_ip``; over
the limit the answer is Okta's 429 E0000047 and no password is checked or changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, _server
from tests.support.authn import AUTHN, LOGIN
from tests.support.lockout import WRONG, authn
from tests.support.users import PASSWORD, create

NEW = "N3w-Passw0rd!x"


@pytest.fixture
async def throttled_server(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[Server]:
    async for s in _server(tmp_path, sqlite_database_url, rate_limits="signin_user=3,signin_ip=10"):
        yield s


@pytest.fixture
async def admin(throttled_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with throttled_server.client(await throttled_server.create_token()) as client:
        yield client


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["errorCode"] == "E0000047"
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert len(response.headers.get_list("x-rate-limit-reset")) == 1


async def test_management_change_password_is_throttled(
    throttled_server: Server, admin: httpx.AsyncClient
) -> None:
    user = (await create(admin)).json()
    path = f"/api/v1/users/{user['id']}/credentials/change_password"
    for _ in range(3):
        wrong = await admin.post(path, json={"oldPassword": {"value": WRONG}, "newPassword": {"value": NEW}})
        assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000014"
    right = {"oldPassword": {"value": PASSWORD}, "newPassword": {"value": NEW}}
    assert_throttled(await admin.post(path, json=right))  # the right password is not even checked
    after = (await admin.get(f"/api/v1/users/{user['id']}")).json()
    assert after["passwordChanged"] == user["passwordChanged"]
    assert_throttled(await authn(throttled_server, PASSWORD))  # one bucket with sign-in
    other = (await create(admin, "other.user@example.com")).json()  # other users are not throttled
    changed = await admin.post(f"/api/v1/users/{other['id']}/credentials/change_password", json=right)
    assert changed.status_code == 200, changed.text


async def test_authn_change_password_is_throttled(throttled_server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    assert (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/expire_password")).status_code == 200
    async with throttled_server.client() as anonymous:
        started = await anonymous.post(AUTHN, json={"username": LOGIN, "password": PASSWORD})  # 1st
        state = started.json()["stateToken"]
        step = f"{AUTHN}/credentials/change_password"
        for _ in range(2):  # 2nd, 3rd
            wrong = await anonymous.post(
                step, json={"stateToken": state, "oldPassword": WRONG, "newPassword": NEW}
            )
            assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000014"
        right = {"stateToken": state, "oldPassword": PASSWORD, "newPassword": NEW}
        assert_throttled(await anonymous.post(step, json=right))
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "PASSWORD_EXPIRED"


async def test_hosted_change_password_form_is_throttled(
    throttled_server: Server, admin: httpx.AsyncClient
) -> None:
    from tests.support.login_page import csrf_token, submit
    from tests.unit.login.test_change_password_page import state_of

    user = (await create(admin)).json()
    assert (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/expire_password")).status_code == 200
    async with throttled_server.client() as browser:
        form_page = await submit(browser)  # the sign-in: 1st
        for _ in range(2):  # 2nd, 3rd
            form_page = await browser.post(
                "/login/change-password",
                data={
                    "csrfToken": csrf_token(form_page),
                    "stateToken": state_of(form_page),
                    "oldPassword": WRONG,
                    "newPassword": NEW,
                    "confirmPassword": NEW,
                },
            )
            assert form_page.status_code == 400
        right = {"oldPassword": PASSWORD, "newPassword": NEW, "confirmPassword": NEW}
        throttled = await browser.post(
            "/login/change-password",
            data={"csrfToken": csrf_token(form_page), "stateToken": state_of(form_page), **right},
        )
        assert throttled.status_code == 429 and "Too many sign-in attempts" in throttled.text
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "PASSWORD_EXPIRED"
