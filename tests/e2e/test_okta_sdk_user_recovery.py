"""The rest of the user lifecycle on ``ostiary serve`` over TLS: the unmodified ``okta`` SDK
(3.4.6) activates, resets and expires passwords; ``/api/v1/authn`` (plain httpx, as scripts and
okta-auth-js call it; the SDK has no authn methods) finishes each flow with a session token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from okta.client import Client as OktaClient
from okta.errors.okta_api_error import OktaAPIError
from okta.models import CreateUserRequest, UpdateUserRequest
from okta.models.user_next_login import UserNextLogin

from tests.e2e.servers import OrgServer

PASSWORD = "Sdk-Passw0rd!"
NEW_PASSWORD = "Brand-N3w-Secret"


@pytest.fixture(scope="module")
def token(org: OrgServer) -> str:
    return org.create_token()


def sdk(org: OrgServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}})


@pytest.fixture
async def http(org: OrgServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url) as client:
        yield client


@pytest.fixture
async def admin(org: OrgServer, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=org.url, headers={"Authorization": f"SSWS {token}"}) as client:
        yield client


def new_user(login: str, password: str | None = PASSWORD) -> CreateUserRequest:
    body: dict[str, Any] = {
        "profile": {"login": login, "email": login, "firstName": "Ada", "lastName": "Byron"},
    }
    if password is not None:
        body["credentials"] = {"password": {"value": password}}
    return CreateUserRequest.from_dict(body)


async def sign_in(http: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/authn", json={"username": login, "password": password})


async def assert_session_token_works(http: httpx.AsyncClient, transaction: dict[str, Any]) -> None:
    assert transaction["status"] == "SUCCESS", transaction
    session = await http.post("/api/v1/sessions", json={"sessionToken": transaction["sessionToken"]})
    assert session.status_code == 200, session.text
    assert session.json()["userId"] == transaction["_embedded"]["user"]["id"]


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == code, body
    assert {"errorSummary", "errorLink", "errorId", "errorCauses"} <= set(body)
    return body


async def status_of(admin: httpx.AsyncClient, user_id: str) -> str:
    return str((await admin.get(f"/api/v1/users/{user_id}")).json()["status"])


# --- nextLogin=changePassword, PASSWORD_EXPIRED, change_password ---------------------------------


async def test_next_login_change_password_makes_the_first_sign_in_change_it(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "first.change@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(
            new_user(login), activate=True, next_login=UserNextLogin.CHANGEPASSWORD
        )
    assert err is None, err
    assert user.status.value == "PASSWORD_EXPIRED"
    expired = await sign_in(http, login, PASSWORD)
    assert expired.status_code == 200, expired.text
    transaction = expired.json()
    assert transaction["status"] == "PASSWORD_EXPIRED"
    assert "sessionToken" not in transaction
    change = transaction["_links"]["next"]
    assert change["name"] == "changePassword"
    assert urlsplit(change["href"]).path == "/api/v1/authn/credentials/change_password"
    state = transaction["stateToken"]

    wrong_old = await http.post(
        change["href"], json={"stateToken": state, "oldPassword": "Not-The-0ld", "newPassword": NEW_PASSWORD}
    )
    assert_error(wrong_old, 403, "E0000014")
    weak = await http.post(
        change["href"], json={"stateToken": state, "oldPassword": PASSWORD, "newPassword": "short"}
    )
    assert_error(weak, 403, "E0000080")
    assert await status_of(admin, user.id) == "PASSWORD_EXPIRED"  # nothing changed: still in the flow

    done = await http.post(
        change["href"], json={"stateToken": state, "oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    await assert_session_token_works(http, done.json())
    assert await status_of(admin, user.id) == "ACTIVE"
    again = await http.post(
        change["href"], json={"stateToken": state, "oldPassword": PASSWORD, "newPassword": "Another-0ne-x"}
    )
    assert_error(again, 401, "E0000011")  # the transaction is over
    assert_error(await sign_in(http, login, PASSWORD), 401, "E0000004")
    assert (await sign_in(http, login, NEW_PASSWORD)).json()["status"] == "SUCCESS"


async def test_activation_with_next_login_expires_the_password(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "staged.expired@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=False)
    assert err is None and user.status.value == "STAGED"
    activated = await admin.post(
        f"/api/v1/users/{user.id}/lifecycle/activate",
        params={"sendEmail": "false", "nextLogin": "changePassword"},
    )
    assert activated.status_code == 200, activated.text
    assert await status_of(admin, user.id) == "PASSWORD_EXPIRED"
    assert (await sign_in(http, login, PASSWORD)).json()["status"] == "PASSWORD_EXPIRED"


async def test_next_login_must_be_change_password(admin: httpx.AsyncClient) -> None:
    login = "bad.next@example.com"
    body = {
        "profile": {"login": login, "email": login, "firstName": "A", "lastName": "B"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    response = await admin.post("/api/v1/users", params={"nextLogin": "later"}, json=body)
    assert_error(response, 400, "E0000001")
    assert (await admin.get(f"/api/v1/users/{login}")).status_code == 404


# --- activation without a password ---------------------------------------------------------------


async def test_an_activation_token_sets_the_first_password(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "no.password@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login, password=None), activate=False)
        assert err is None, err
        activation, _, err = await client.activate_user(user.id, send_email=False)
    assert err is None, err
    assert activation.activation_url == f"{org.url}/welcome/{activation.activation_token}"
    assert await status_of(admin, user.id) == "PROVISIONED"

    opened = await http.post("/api/v1/authn", json={"token": activation.activation_token})
    assert opened.status_code == 200, opened.text
    transaction = opened.json()
    assert transaction["status"] == "PASSWORD_RESET"
    assert transaction["_embedded"]["user"]["id"] == user.id
    assert transaction["_embedded"]["policy"]["complexity"]["minLength"] == 8
    reset = transaction["_links"]["next"]
    assert (reset["name"], urlsplit(reset["href"]).path) == (
        "resetPassword",
        "/api/v1/authn/credentials/reset_password",
    )
    state = transaction["stateToken"]
    current = await http.post("/api/v1/authn", json={"stateToken": state})
    assert current.json()["status"] == "PASSWORD_RESET"  # the transaction's state, again

    assert_error(
        await http.post(reset["href"], json={"stateToken": state, "newPassword": "ada"}), 403, "E0000080"
    )
    done = await http.post(reset["href"], json={"stateToken": state, "newPassword": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    await assert_session_token_works(http, done.json())
    assert await status_of(admin, user.id) == "ACTIVE"
    assert (await sign_in(http, login, NEW_PASSWORD)).json()["status"] == "SUCCESS"
    reused = await http.post("/api/v1/authn", json={"token": activation.activation_token})
    assert_error(reused, 401, "E0000011")


# --- reset_password, RECOVERY, an admin's new password -------------------------------------------


async def test_reset_password_puts_the_user_in_recovery_until_the_url_is_redeemed(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "reset.me@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
        assert err is None, err
        reset, resp, err = await client.reset_password(user.id, send_email=False)
    assert err is None, err
    assert resp.raw_data and b'"summary"' in resp.raw_data
    url = urlsplit(reset.reset_password_url)
    assert f"{url.scheme}://{url.netloc}" == org.url and url.path.startswith("/signin/reset-password/")
    assert await status_of(admin, user.id) == "RECOVERY"
    assert_error(await sign_in(http, login, PASSWORD), 401, "E0000004")  # no sign-in during recovery

    recovery_token = url.path.rsplit("/", 1)[1]
    opened = await http.post("/api/v1/authn/recovery/token", json={"recoveryToken": recovery_token})
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "PASSWORD_RESET"
    done = await http.post(
        "/api/v1/authn/credentials/reset_password",
        json={"stateToken": opened.json()["stateToken"], "newPassword": NEW_PASSWORD},
    )
    await assert_session_token_works(http, done.json())
    assert await status_of(admin, user.id) == "ACTIVE"
    assert_error(
        await http.post("/api/v1/authn/recovery/token", json={"recoveryToken": recovery_token}),
        401,
        "E0000011",
    )


async def test_a_reset_url_token_also_opens_a_transaction_on_authn(
    org: OrgServer, token: str, http: httpx.AsyncClient
) -> None:
    login = "reset.via.authn@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
        assert err is None, err
        reset, _, err = await client.reset_password(user.id, send_email=False)
    assert err is None, err
    opened = await http.post("/api/v1/authn", json={"token": reset.reset_password_url.rsplit("/", 1)[1]})
    assert opened.json()["status"] == "PASSWORD_RESET"


async def test_an_admin_setting_a_password_ends_recovery(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "admin.fixes@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
        assert err is None, err
        reset, _, err = await client.reset_password(user.id, send_email=False)
        assert err is None, err
        assert await status_of(admin, user.id) == "RECOVERY"
        body = UpdateUserRequest.from_dict({"credentials": {"password": {"value": NEW_PASSWORD}}})
        updated, _, err = await client.update_user(user.id, body)
    assert err is None, err
    assert updated.status.value == "ACTIVE"
    assert (await sign_in(http, login, NEW_PASSWORD)).json()["status"] == "SUCCESS"
    stale = await http.post(
        "/api/v1/authn/recovery/token", json={"recoveryToken": reset.reset_password_url.rsplit("/", 1)[1]}
    )
    assert_error(stale, 401, "E0000011")  # the new password voided the reset link


# --- expire_password -----------------------------------------------------------------------------


async def test_expire_password_with_the_sdk(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "expire.me@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
        assert err is None, err
        expired, _, err = await client.expire_password(user.id)
        assert err is None, err
        assert expired.status.value == "PASSWORD_EXPIRED"
        assert (await sign_in(http, login, PASSWORD)).json()["status"] == "PASSWORD_EXPIRED"

        with_temp, resp, err = await client.expire_password_with_temp_password(user.id)
    assert err is None, err
    assert with_temp.status.value == "PASSWORD_EXPIRED"
    import json

    temp = json.loads(resp.raw_data)["tempPassword"]
    assert_error(await sign_in(http, login, PASSWORD), 401, "E0000004")  # the temp one replaced it
    transaction = (await sign_in(http, login, temp)).json()
    assert transaction["status"] == "PASSWORD_EXPIRED"
    done = await http.post(
        "/api/v1/authn/credentials/change_password",
        json={"stateToken": transaction["stateToken"], "oldPassword": temp, "newPassword": NEW_PASSWORD},
    )
    await assert_session_token_works(http, done.json())


async def test_expire_password_temp_password_query(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "temp.query@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
    assert err is None, err
    response = await admin.post(
        f"/api/v1/users/{user.id}/lifecycle/expire_password", params={"tempPassword": "true"}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"tempPassword"}
    assert (await sign_in(http, login, response.json()["tempPassword"])).json()[
        "status"
    ] == "PASSWORD_EXPIRED"


async def test_expire_password_refused_for_a_staged_user(org: OrgServer, token: str) -> None:
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user("staged.x@example.com"), activate=False)
        assert err is None, err
        _, _, err = await client.expire_password(user.id)
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000038"
        _, _, err = await client.expire_password_with_temp_password(user.id)
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000038"
        _, _, err = await client.reset_password("00unotauser000000000", send_email=False)
        assert isinstance(err, OktaAPIError) and err.error_code == "E0000007"


# --- forgot password -----------------------------------------------------------------------------


async def test_forgot_password_self_service_with_a_recovery_token(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "forgot.me@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
    assert err is None, err
    anonymous = await http.post(
        "/api/v1/authn/recovery/password", json={"username": login, "factorType": "EMAIL"}
    )
    unknown = await http.post(
        "/api/v1/authn/recovery/password", json={"username": "nobody@example.com", "factorType": "EMAIL"}
    )
    assert anonymous.status_code == unknown.status_code == 200
    assert anonymous.json() == unknown.json()  # no way to tell who exists
    assert anonymous.json()["status"] == "RECOVERY_CHALLENGE"
    assert "recoveryToken" not in anonymous.text
    assert await status_of(admin, user.id) == "ACTIVE"  # a request alone changes nothing

    trusted = await admin.post(
        "/api/v1/authn/recovery/password", json={"username": login, "factorType": "EMAIL"}
    )
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["status"] == "RECOVERY"
    opened = await http.post(
        "/api/v1/authn/recovery/token", json={"recoveryToken": trusted.json()["recoveryToken"]}
    )
    assert opened.json()["status"] == "PASSWORD_RESET"
    done = await http.post(
        "/api/v1/authn/credentials/reset_password",
        json={"stateToken": opened.json()["stateToken"], "newPassword": NEW_PASSWORD},
    )
    await assert_session_token_works(http, done.json())


async def test_forgot_password_with_the_sdk_returns_a_reset_url(
    org: OrgServer, token: str, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = "forgot.thru-api@example.com"
    async with sdk(org, token) as client:
        user, _, err = await client.create_user(new_user(login), activate=True)
        assert err is None, err
        forgot, _, err = await client.forgot_password(user.id, send_email=False)
    assert err is None, err
    assert await status_of(admin, user.id) == "ACTIVE"
    assert (await sign_in(http, login, PASSWORD)).json()["status"] == "SUCCESS"  # not locked out
    opened = await http.post("/api/v1/authn", json={"token": forgot.reset_password_url.rsplit("/", 1)[1]})
    assert opened.json()["status"] == "PASSWORD_RESET"


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/authn", {"token": ""}, 400, "E0000001"),
        ("/api/v1/authn", {"token": "not-a-token"}, 401, "E0000011"),
        ("/api/v1/authn", {"token": 42}, 400, "E0000001"),
        ("/api/v1/authn", {"stateToken": "nope"}, 401, "E0000011"),
        ("/api/v1/authn/credentials/reset_password", {"newPassword": NEW_PASSWORD}, 400, "E0000001"),
        (
            "/api/v1/authn/credentials/reset_password",
            {"stateToken": "x", "newPassword": NEW_PASSWORD},
            401,
            "E0000011",
        ),
        ("/api/v1/authn/credentials/reset_password", {"stateToken": "x"}, 400, "E0000001"),
        (
            "/api/v1/authn/credentials/change_password",
            {"stateToken": "x", "newPassword": "A"},
            400,
            "E0000001",
        ),
        (
            "/api/v1/authn/credentials/change_password",
            {"stateToken": "x", "oldPassword": "a", "newPassword": "b"},
            401,
            "E0000011",
        ),
        ("/api/v1/authn/recovery/token", {}, 400, "E0000001"),
        ("/api/v1/authn/recovery/token", {"recoveryToken": "x" * 5000}, 400, "E0000001"),
        (
            "/api/v1/authn/recovery/password",
            {"username": "a@example.com", "factorType": "SMS"},
            400,
            "E0000001",
        ),
        ("/api/v1/authn/recovery/password", {}, 400, "E0000001"),
        ("/api/v1/authn/cancel", {"stateToken": "nope"}, 401, "E0000011"),
    ],
)
async def test_bad_authn_input(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    assert_error(await http.post(path, json=body), status, code)


async def test_malformed_authn_bodies_are_e0000003(http: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/authn/credentials/reset_password",
        "/api/v1/authn/credentials/change_password",
        "/api/v1/authn/recovery/token",
        "/api/v1/authn/recovery/password",
    ):
        response = await http.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
        assert_error(response, 400, "E0000003")


async def test_a_trusted_forgot_password_needs_a_valid_admin_token(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/authn/recovery/password",
        json={"username": "a@example.com"},
        headers={"Authorization": "SSWS not-a-token"},
    )
    assert_error(response, 401, "E0000011")
