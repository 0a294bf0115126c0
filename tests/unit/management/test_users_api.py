"""/api/v1/users behaves as Okta's: shapes, status codes, lifecycle, paging, errors that change nothing."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import event

from tests.conftest import Server
from tests.support.users import PASSWORD, create, profile


async def count_users(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/v1/users")).json())


async def test_create_with_password_and_activate_gives_active_user_without_secret(
    any_admin: httpx.AsyncClient,
) -> None:
    response = await create(any_admin)
    assert response.status_code == 200
    user = response.json()
    assert re.fullmatch(r"00u[0-9A-Za-z]{17}", user["id"])
    assert user["status"] == "ACTIVE"
    assert user["profile"]["login"] == "ann.lee@example.com"
    assert user["profile"]["mobilePhone"] is None
    assert user["credentials"]["password"] == {}
    assert PASSWORD not in response.text
    assert user["_links"]["self"]["href"] == f"http://localhost:8080/api/v1/users/{user['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", user["created"])


async def test_create_without_credentials_is_provisioned(admin: httpx.AsyncClient) -> None:
    assert (await create(admin, password=False)).json()["status"] == "PROVISIONED"


async def test_create_with_activate_false_is_staged(admin: httpx.AsyncClient) -> None:
    user = (await create(admin, activate="false")).json()
    assert user["status"] == "STAGED"
    assert user["activated"] is None


async def test_duplicate_login_is_refused_case_insensitively_and_creates_nothing(
    any_admin: httpx.AsyncClient,
) -> None:
    await create(any_admin)
    response = await create(any_admin, "Ann.Lee@Example.com")
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "E0000001"
    assert body["errorSummary"] == "Api validation failed: login"
    assert body["errorCauses"][0]["errorSummary"].startswith(
        "login: An object with this field already exists"
    )
    assert await count_users(any_admin) == 1


async def test_missing_required_attributes_are_listed_as_causes(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/users", json={"profile": {"login": "x@example.com"}})
    assert response.status_code == 400
    causes = [c["errorSummary"] for c in response.json()["errorCauses"]]
    assert "email: The field cannot be left blank" in causes
    assert "firstName: The field cannot be left blank" in causes


async def test_login_must_be_an_email(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/users", json={"profile": {**profile(), "login": "not-an-email"}})
    assert response.status_code == 400
    assert "login: Username must be in the form of an email address" in response.text


async def test_weak_password_is_refused_and_creates_nothing(admin: httpx.AsyncClient) -> None:
    body = {"profile": profile(), "credentials": {"password": {"value": "short"}}}
    response = await admin.post("/api/v1/users", json=body)
    assert response.status_code == 400
    assert response.json()["errorSummary"] == "Api validation failed: password"
    assert "Password requirements were not met" in response.json()["errorCauses"][0]["errorSummary"]
    assert await count_users(admin) == 0


async def test_password_containing_the_username_is_refused(admin: httpx.AsyncClient) -> None:
    body = {"profile": profile("zebra@example.com"), "credentials": {"password": {"value": "Zebra12345"}}}
    assert (await admin.post("/api/v1/users", json=body)).status_code == 400


async def test_get_by_id_and_by_login(any_admin: httpx.AsyncClient) -> None:
    user = (await create(any_admin)).json()
    by_id = await any_admin.get(f"/api/v1/users/{user['id']}")
    by_login = await any_admin.get("/api/v1/users/ANN.LEE@example.com")
    assert by_id.json()["id"] == by_login.json()["id"] == user["id"]


async def test_unknown_user_is_okta_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users/00u000000000000000000")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"
    assert response.headers["content-type"] == "application/json"


async def test_partial_update_merges_profile(any_admin: httpx.AsyncClient) -> None:
    user = (await create(any_admin)).json()
    response = await any_admin.post(f"/api/v1/users/{user['id']}", json={"profile": {"nickName": "annie"}})
    assert response.status_code == 200
    assert response.json()["profile"]["nickName"] == "annie"
    assert response.json()["profile"]["firstName"] == "Ann"


async def test_full_update_replaces_profile_and_validates_it(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    bad = await admin.put(f"/api/v1/users/{user['id']}", json={"profile": {"login": "ann.lee@example.com"}})
    assert bad.status_code == 400
    unchanged = (await admin.get(f"/api/v1/users/{user['id']}")).json()
    assert unchanged["profile"]["firstName"] == "Ann"
    good = await admin.put(f"/api/v1/users/{user['id']}", json={"profile": profile(title="Dr")})
    assert good.json()["profile"]["title"] == "Dr"


async def test_update_to_a_taken_login_is_refused(admin: httpx.AsyncClient) -> None:
    await create(admin, "a.one@example.com")
    second = (await create(admin, "b.two@example.com")).json()
    response = await admin.post(
        f"/api/v1/users/{second['id']}", json={"profile": {"login": "A.ONE@example.com"}}
    )
    assert response.status_code == 400
    assert (await admin.get(f"/api/v1/users/{second['id']}")).json()["profile"][
        "login"
    ] == "b.two@example.com"


async def test_list_pages_with_link_headers_until_the_end(any_admin: httpx.AsyncClient) -> None:
    created = [(await create(any_admin, f"u{i}.x@example.com")).json()["id"] for i in range(3)]
    seen: list[str] = []
    url: str | None = "/api/v1/users?limit=1"
    while url:
        response = await any_admin.get(url)
        assert response.status_code == 200
        seen += [u["id"] for u in response.json()]
        link = response.headers["link"]
        assert link.startswith("<http://localhost:8080/api/v1/users?limit=1")
        assert link.index('rel="self"') < link.index('rel="next"') if "next" in link else True
        match = re.search(r'<([^>]+)>; rel="next"', link)
        url = match.group(1) if match else None
        if url:
            assert "limit=1" in url and "after=" in url
    assert seen == created


async def test_q_matches_name_prefixes(admin: httpx.AsyncClient) -> None:
    await create(admin, "clark.kent@example.com")
    await create(admin, "lois.lane@example.com")
    found = (await admin.get("/api/v1/users", params={"q": "lo"})).json()
    assert [u["profile"]["login"] for u in found] == ["lois.lane@example.com"]


async def test_filter_and_search(any_admin: httpx.AsyncClient) -> None:
    await create(any_admin, "clark.kent@example.com")
    staged = (await create(any_admin, "lois.lane@example.com", activate="false")).json()
    by_status = (await any_admin.get("/api/v1/users", params={"filter": 'status eq "STAGED"'})).json()
    assert [u["id"] for u in by_status] == [staged["id"]]
    searched = (await any_admin.get("/api/v1/users", params={"search": 'profile.lastName sw "Ke"'})).json()
    assert [u["profile"]["login"] for u in searched] == ["clark.kent@example.com"]


async def test_bad_search_expression_is_e0000031(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users", params={"search": 'profile.lastName zz "x"'})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000031"


async def test_deactivate_answers_empty_object_and_delete_takes_two_calls(
    any_admin: httpx.AsyncClient,
) -> None:
    user = (await create(any_admin)).json()
    response = await any_admin.post(f"/api/v1/users/{user['id']}/lifecycle/deactivate")
    assert (response.status_code, response.json()) == (200, {})
    assert (await any_admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "DEPROVISIONED"
    first = await any_admin.delete(f"/api/v1/users/{user['id']}")
    assert first.status_code == 204 and first.content == b""
    assert "content-type" not in first.headers
    assert (await any_admin.get(f"/api/v1/users/{user['id']}")).status_code == 404


async def test_delete_of_an_active_user_only_deactivates(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    assert (await admin.delete(f"/api/v1/users/{user['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "DEPROVISIONED"


async def test_suspend_and_unsuspend(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    assert (await admin.post(f"/api/v1/users/{user['id']}/lifecycle/suspend")).json() == {}
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "SUSPENDED"
    await admin.post(f"/api/v1/users/{user['id']}/lifecycle/unsuspend")
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "ACTIVE"


async def test_transitions_okta_forbids_are_refused_and_change_nothing(admin: httpx.AsyncClient) -> None:
    staged = (await create(admin, activate="false")).json()
    for action in ("suspend", "unsuspend", "unlock", "reactivate", "expire_password"):
        response = await admin.post(f"/api/v1/users/{staged['id']}/lifecycle/{action}")
        assert response.status_code == 403, action
        assert response.json()["errorCode"] == "E0000038"
    after = (await admin.get(f"/api/v1/users/{staged['id']}")).json()
    assert after["status"] == "STAGED"
    assert after["lastUpdated"] == staged["lastUpdated"]


async def test_activating_an_active_user_is_e0000016(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    response = await admin.post(f"/api/v1/users/{user['id']}/lifecycle/activate")
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000016"


async def test_activate_without_email_returns_activation_token(admin: httpx.AsyncClient) -> None:
    staged = (await create(admin, activate="false")).json()
    response = await admin.post(f"/api/v1/users/{staged['id']}/lifecycle/activate?sendEmail=false")
    assert response.status_code == 200
    body = response.json()
    assert body["activationUrl"].endswith(body["activationToken"])
    assert (await admin.get(f"/api/v1/users/{staged['id']}")).json()["status"] == "ACTIVE"


async def test_expire_password_then_change_password_reactivates(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    expired = await admin.post(f"/api/v1/users/{user['id']}/lifecycle/expire_password")
    assert expired.json()["status"] == "PASSWORD_EXPIRED"
    wrong = await admin.post(
        f"/api/v1/users/{user['id']}/credentials/change_password",
        json={"oldPassword": {"value": "nope"}, "newPassword": {"value": "An0ther-Secret"}},
    )
    assert wrong.status_code == 403
    changed = await admin.post(
        f"/api/v1/users/{user['id']}/credentials/change_password",
        json={"oldPassword": {"value": PASSWORD}, "newPassword": {"value": "An0ther-Secret"}},
    )
    assert changed.status_code == 200
    assert changed.json()["provider"] == {"type": "OKTA", "name": "OKTA"}
    assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["status"] == "ACTIVE"


async def test_groups_of_a_user_include_everyone(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    groups = (await admin.get(f"/api/v1/users/{user['id']}/groups")).json()
    assert [g["profile"]["name"] for g in groups] == ["Everyone"]
    assert groups[0]["type"] == "BUILT_IN"


async def test_creating_a_user_in_an_org_without_group_rules_reads_no_rule_memberships(
    any_server: Server,
) -> None:
    """A new user holds no rule-given membership yet: creating one does not look them up."""
    token = await any_server.create_token()
    statements: list[str] = []
    engine = any_server.rt.db.engine.sync_engine

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async with any_server.client(token) as client:
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = await create(client, password=False)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert any("INSERT INTO users" in s for s in statements)
    assert not any("group_rule_members" in s for s in statements)


async def test_a_taken_login_is_refused_without_a_password_too(any_server: Server) -> None:
    """Without a password the unique index refuses it at the INSERT (no lookup first); the
    answer and the rollback are the same."""
    token = await any_server.create_token()
    async with any_server.client(token) as client:
        assert (await create(client, password=False)).status_code == 200
        response = await create(client, "ANN.lee@example.com", password=False)
        assert response.status_code == 400, response.text
        body = response.json()
        assert (body["errorCode"], body["errorSummary"]) == ("E0000001", "Api validation failed: login")
        assert body["errorCauses"][0]["errorSummary"].startswith(
            "login: An object with this field already exists"
        )
        assert await count_users(client) == 1
        logged = (
            await client.get("/api/v1/logs", params={"filter": 'eventType eq "user.lifecycle.create"'})
        ).json()
        assert len(logged) == 1


async def test_a_login_stored_before_normalisation_is_still_taken(server: Server) -> None:
    """A row written before logins were NFKC-normalised keeps plain ``lower()`` in
    ``login_lower``; the index cannot see that "ﬁ" and "fi" are one login, the lookup does."""
    from sqlalchemy import update

    from ostiary.store.models import User

    token = await server.create_token()
    async with server.client(token) as client:
        assert (await create(client, "ﬁsh@example.com", password=False)).status_code == 200
        async with server.rt.db.session() as session:
            await session.execute(update(User).values(login_lower="ﬁsh@example.com"))
        response = await create(client, "ﬁsh@example.com", password=False)
        assert response.status_code == 400, response.text
        assert await count_users(client) == 1


async def test_concurrent_creates_of_one_login_store_one_user(any_server: Server) -> None:
    token = await any_server.create_token()
    async with any_server.client(token) as client:
        answers = await asyncio.gather(*(create(client, "dup@example.com", password=False) for _ in range(8)))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200] + [400] * 7, [
            a.text[:200] for a in answers if a.status_code not in (200, 400)
        ]
        assert await count_users(client) == 1


async def test_a_taken_login_is_refused_before_its_recovery_answer_is_hashed(
    admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ostiary.domain.directory import passwords

    body = {
        "profile": profile("rq@example.com"),
        "credentials": {"recovery_question": {"question": "Who?", "answer": "somebody answers"}},
    }
    assert (await admin.post("/api/v1/users", json=body)).status_code == 200
    hashed: list[str] = []
    original = passwords.hash_password

    async def counting(value: str) -> str:
        hashed.append(value)
        return await original(value)

    monkeypatch.setattr(passwords, "hash_password", counting)
    assert (await admin.post("/api/v1/users", json=body)).status_code == 400
    assert hashed == []
