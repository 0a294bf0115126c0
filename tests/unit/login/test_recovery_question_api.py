"""The recovery question before PASSWORD_RESET (Okta's Classic ``/api/v1/authn/recovery`` flow):
set with the user or changed with the password, asked when a recovery token is redeemed
(RECOVERY → ``recovery/answer`` → PASSWORD_RESET → SUCCESS), never shown with its answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import Server

AUTHN = "/api/v1/authn"
PASSWORD = "Tr1cky-Secret!"
NEW = "Brand-N3w-Secret"
QUESTION = "What is the name of your first pet?"


async def new_user(admin: httpx.AsyncClient, login: str, *, answer: str | None = "Fluffy the cat") -> str:
    credentials: dict[str, Any] = {"password": {"value": PASSWORD}}
    if answer is not None:
        credentials["recovery_question"] = {"question": QUESTION, "answer": answer}
    profile = {"login": login, "email": login, "firstName": "Rae", "lastName": "Covery"}
    created = await admin.post("/api/v1/users", json={"profile": profile, "credentials": credentials})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def recovery_token(admin: httpx.AsyncClient, user_id: str) -> str:
    reset = await admin.post(f"/api/v1/users/{user_id}/lifecycle/reset_password?sendEmail=false")
    assert reset.status_code == 200, reset.text
    return urlsplit(reset.json()["resetPasswordUrl"]).path.rsplit("/", 1)[1]


async def test_the_question_is_asked_before_the_new_password(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await new_user(admin, "rae.covery@example.com")
    shown = (await admin.get(f"/api/v1/users/{user_id}")).json()
    assert shown["credentials"]["recovery_question"] == {"question": QUESTION}
    assert "Fluffy" not in str(shown) and "answer" not in str(shown["credentials"])

    token = await recovery_token(admin, user_id)
    async with server.client() as anonymous:
        recovery = await anonymous.post(f"{AUTHN}/recovery/token", json={"recoveryToken": token})
        assert recovery.status_code == 200, recovery.text
        body = recovery.json()
        assert body["status"] == "RECOVERY" and body["recoveryType"] == "PASSWORD"
        assert body["_embedded"]["user"]["recovery_question"] == {"question": QUESTION}
        assert body["_links"]["next"]["name"] == "answer"
        assert body["_links"]["next"]["href"].endswith("/api/v1/authn/recovery/answer")
        state = body["stateToken"]
        no_password_yet = await anonymous.post(
            f"{AUTHN}/credentials/reset_password", json={"stateToken": state, "newPassword": NEW}
        )
        assert no_password_yet.status_code == 401  # the question comes first

        wrong = await anonymous.post(f"{AUTHN}/recovery/answer", json={"stateToken": state, "answer": "Rex"})
        assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000087"
        again = await anonymous.post(AUTHN, json={"stateToken": state})
        assert again.json()["status"] == "RECOVERY"  # still open after a wrong answer

        right = await anonymous.post(
            f"{AUTHN}/recovery/answer", json={"stateToken": state, "answer": "  fluffy THE cat "}
        )
        assert right.status_code == 200, right.text
        assert right.json()["status"] == "PASSWORD_RESET"
        reused = await anonymous.post(f"{AUTHN}/recovery/answer", json={"stateToken": state, "answer": "x"})
        assert reused.status_code == 401
        done = await anonymous.post(
            f"{AUTHN}/credentials/reset_password",
            json={"stateToken": right.json()["stateToken"], "newPassword": NEW},
        )
        assert done.json()["status"] == "SUCCESS"
        signed_in = await anonymous.post(AUTHN, json={"username": "rae.covery@example.com", "password": NEW})
        assert signed_in.json()["status"] == "SUCCESS"


async def test_without_a_question_recovery_goes_straight_to_the_reset(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user_id = await new_user(admin, "no.question@example.com", answer=None)
    token = await recovery_token(admin, user_id)
    async with server.client() as anonymous:
        opened = await anonymous.post(AUTHN, json={"token": token})
    assert opened.json()["status"] == "PASSWORD_RESET"


async def test_forgot_password_then_the_question(server: Server, admin: httpx.AsyncClient) -> None:
    await new_user(admin, "forgetful@example.com")
    started = await admin.post(f"{AUTHN}/recovery/password", json={"username": "forgetful@example.com"})
    assert started.json()["status"] == "RECOVERY"
    async with server.client() as anonymous:
        opened = await anonymous.post(AUTHN, json={"token": started.json()["recoveryToken"]})
    assert opened.json()["status"] == "RECOVERY"
    assert opened.json()["_embedded"]["user"]["recovery_question"]["question"] == QUESTION


async def test_setting_and_changing_the_question(admin: httpx.AsyncClient) -> None:
    profile = {"login": "q@example.com", "email": "q@example.com", "firstName": "Q", "lastName": "Q"}
    for bad in (
        {"question": QUESTION, "answer": "abc"},  # too short
        {"question": "Favourite colour", "answer": "my favourite colour is blue"},  # contains it
        {"question": "", "answer": "something"},
        "not an object",
    ):
        credentials = {"password": {"value": PASSWORD}, "recovery_question": bad}
        refused = await admin.post("/api/v1/users", json={"profile": profile, "credentials": credentials})
        assert refused.status_code == 400 and refused.json()["errorCode"] == "E0000001", bad
    user_id = await new_user(admin, "changer@example.com")
    path = f"/api/v1/users/{user_id}/credentials/change_recovery_question"
    other = {"question": "Where were you born?", "answer": "Lisbon"}
    wrong = await admin.post(path, json={"password": {"value": "nope-Nope1"}, "recovery_question": other})
    assert wrong.status_code == 403 and wrong.json()["errorCode"] == "E0000014"
    changed = await admin.post(path, json={"password": {"value": PASSWORD}, "recovery_question": other})
    assert changed.status_code == 200, changed.text
    assert changed.json()["recovery_question"] == {"question": "Where were you born?"}
    by_update = await admin.post(
        f"/api/v1/users/{user_id}",
        json={"credentials": {"recovery_question": {"question": "First school?", "answer": "St Mary"}}},
    )
    assert by_update.json()["credentials"]["recovery_question"] == {"question": "First school?"}


async def test_the_hosted_reset_page_asks_the_question(server: Server, admin: httpx.AsyncClient) -> None:
    from tests.unit.login.test_set_password_pages import csrf_of

    user_id = await new_user(admin, "hosted.question@example.com")
    reset = await admin.post(f"/api/v1/users/{user_id}/lifecycle/reset_password?sendEmail=false")
    path = urlsplit(reset.json()["resetPasswordUrl"]).path
    async with server.client() as browser:
        page = await browser.get(path)
        assert QUESTION in page.text and 'name="answer"' in page.text

        async def post(answer: str) -> httpx.Response:
            form = {"csrfToken": csrf_of(page), "answer": answer, "newPassword": NEW, "confirmPassword": NEW}
            return await browser.post(path, data=form)

        wrong = await post("Rex the dog")
        assert wrong.status_code == 403 and "did not match our records" in wrong.text
        assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "RECOVERY"
        done = await post("fluffy the cat")
        assert done.status_code == 303 and "sid=" in done.headers["set-cookie"]
    assert (await admin.get(f"/api/v1/users/{user_id}")).json()["status"] == "ACTIVE"
    no_question = await new_user(admin, "hosted.plain@example.com", answer=None)
    reset = await admin.post(f"/api/v1/users/{no_question}/lifecycle/reset_password?sendEmail=false")
    async with server.client() as browser:
        page = await browser.get(urlsplit(reset.json()["resetPasswordUrl"]).path)
    assert 'name="answer"' not in page.text
