"""The hosted pages behind ``activationUrl`` and ``resetPasswordUrl``: a form for the new
password, CSRF-protected, that activates or recovers the account and signs the user in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from tests.conftest import Server

PASSWORD = "Tr1cky-Secret!"
NEW = "Brand-N3w-Secret"


async def new_user(admin: httpx.AsyncClient, login: str, *, password: bool) -> str:
    body: dict[str, object] = {
        "profile": {"login": login, "email": login, "firstName": "Jo", "lastName": "Ng"}
    }
    if password:
        body["credentials"] = {"password": {"value": PASSWORD}}
    created = await admin.post("/api/v1/users?activate=false", json=body)
    return str(created.json()["id"])


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrfToken" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def fill(browser: httpx.AsyncClient, path: str, new: str, again: str | None = None) -> httpx.Response:
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    form = {
        "csrfToken": csrf_of(page),
        "newPassword": new,
        "confirmPassword": new if again is None else again,
    }
    return await browser.post(path, data=form)


async def test_the_activation_url_sets_the_first_password_and_signs_in(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await new_user(admin, "jo.ng@example.com", password=False)
    activation = (await admin.post(f"/api/v1/users/{user_id}/lifecycle/activate?sendEmail=false")).json()
    path = urlsplit(activation["activationUrl"]).path
    async with server.client() as browser:
        page = await browser.get(path)
        assert "jo.ng@example.com" in page.text and "Activate your account" in page.text
        mismatch = await fill(browser, path, NEW, "Other-Passw0rd")
        assert mismatch.status_code == 400
        weak = await fill(browser, path, "weak")
        assert weak.status_code == 400 and "complexity" in weak.text
        assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "PROVISIONED"
        done = await fill(browser, path, NEW)
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert "sid=" in done.headers["set-cookie"]
        me = await browser.get("/api/v1/sessions/me")
        assert me.status_code == 200 and me.json()["userId"] == user_id
        assert (await browser.get(path)).status_code == 404  # used
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "ACTIVE"
    async with server.client() as anonymous:
        signed_in = await anonymous.post(
            "/api/v1/authn", json={"username": "jo.ng@example.com", "password": NEW}
        )
    assert signed_in.json()["status"] == "SUCCESS"


async def test_the_reset_password_url_ends_recovery(server: Server, admin: httpx.AsyncClient) -> None:
    user_id = await new_user(admin, "jo.ng@example.com", password=True)
    await admin.post(f"/api/v1/users/{user_id}/lifecycle/activate?sendEmail=false")
    reset = (await admin.post(f"/api/v1/users/{user_id}/lifecycle/reset_password?sendEmail=false")).json()
    path = urlsplit(reset["resetPasswordUrl"]).path
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "RECOVERY"
    async with server.client() as browser:
        assert "Reset your password" in (await browser.get(path)).text
        done = await fill(browser, path, NEW)
        assert done.status_code == 303
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "ACTIVE"


async def test_a_form_without_its_csrf_cookie_changes_nothing(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await new_user(admin, "jo.ng@example.com", password=False)
    activation = (await admin.post(f"/api/v1/users/{user_id}/lifecycle/activate?sendEmail=false")).json()
    path = urlsplit(activation["activationUrl"]).path
    async with server.client() as victim:
        token = csrf_of(await victim.get(path))
    async with server.client() as forger:  # no cookie: a cross-site form post
        refused = await forger.post(
            path, data={"csrfToken": token, "newPassword": NEW, "confirmPassword": NEW}
        )
    assert refused.status_code == 403
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "PROVISIONED"


async def test_unknown_or_wrong_kind_tokens_are_404(server: Server, admin: httpx.AsyncClient) -> None:
    user_id = await new_user(admin, "jo.ng@example.com", password=False)
    activation = (await admin.post(f"/api/v1/users/{user_id}/lifecycle/activate?sendEmail=false")).json()
    async with server.client() as browser:
        for path in (
            "/welcome/not-a-token",
            "/signin/reset-password/not-a-token",
            f"/signin/reset-password/{activation['activationToken']}",  # an activation token: wrong kind
        ):
            page = await browser.get(path)
            assert page.status_code == 404, path
            assert "expired" in page.text
            posted = await browser.post(path, data={"newPassword": NEW, "confirmPassword": NEW})
            assert posted.status_code == 404
