"""The hosted sign-in page leads a user whose password has expired into a change-password form
(current and new password), then signs them in and continues to ``fromURI``."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Server
from tests.support.login_page import csrf_token, set_cookies, submit
from tests.support.users import PASSWORD, create

NEW = "Fresh-Passw0rd!"
NEXT = "/oauth2/default/v1/authorize?client_id=abc&state=s1"


def state_of(page: httpx.Response) -> str:
    found = re.search(r'name="stateToken" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def expired_user(admin: httpx.AsyncClient) -> str:
    user_id = str((await create(admin)).json()["id"])
    assert (await admin.post(f"/api/v1/users/{user_id}/lifecycle/expire_password")).status_code == 200
    return user_id


async def change(browser: httpx.AsyncClient, form_page: httpx.Response, **fields: str) -> httpx.Response:
    data = {
        "csrfToken": csrf_token(form_page),
        "stateToken": state_of(form_page),
        "fromURI": NEXT,
        "oldPassword": PASSWORD,
        "newPassword": NEW,
        "confirmPassword": NEW,
        **fields,
    }
    return await browser.post("/login/change-password", data=data)


async def test_an_expired_password_is_changed_on_the_hosted_pages(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await expired_user(admin)
    async with server.client() as browser:
        form_page = await submit(browser, fromURI=NEXT)
        assert form_page.status_code == 200
        assert "Change your password" in form_page.text and "Current password" in form_page.text
        assert "sid" not in set_cookies(form_page)  # no session before the change
        assert state_of(form_page) not in str(form_page.url)

        wrong = await change(browser, form_page, oldPassword="Not-The-0ne!")
        assert wrong.status_code == 400 and "Update of credentials failed" in wrong.text
        mismatch = await change(browser, wrong, confirmPassword="Other-Passw0rd!")
        assert mismatch.status_code == 400 and "not the same" in mismatch.text
        weak = await change(browser, mismatch, newPassword="weak", confirmPassword="weak")
        assert weak.status_code == 400 and "complexity" in weak.text
        forged = await change(browser, weak, csrfToken="x" * 43)
        assert forged.status_code == 403
        assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "PASSWORD_EXPIRED"

        done = await change(browser, weak)
        assert done.status_code == 303 and done.headers["location"] == NEXT  # the flow goes on
        assert "sid" in set_cookies(done)
        session = await browser.get("/api/v1/sessions/me")
        assert session.status_code == 200 and session.json()["userId"] == user_id
        used = await change(browser, weak)  # the transaction is over
        assert used.status_code == 400 and "Please sign in again" in used.text
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "ACTIVE"
    async with server.client() as other_browser:
        signed_in = await submit(other_browser, password=NEW)
        assert signed_in.status_code == 303 and "sid" in set_cookies(signed_in)


async def test_a_wrong_password_of_an_expired_user_gets_no_form(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await expired_user(admin)
    async with server.client() as browser:
        refused = await submit(browser, password="Not-The-0ne!")
    assert refused.status_code == 200 and "Unable to sign in" in refused.text
    assert "stateToken" not in refused.text
