"""``fields=`` on ``GET /api/v1/users``: Okta's projection (``id`` always, named members,
``profile:(...)`` sub-fields), and malformed lists refused with E0000001."""

from __future__ import annotations

import httpx
import pytest

from ostiary.domain.directory.field_projection import Projection, parse_fields
from ostiary.domain.errors import Invalid


async def make(admin: httpx.AsyncClient, login: str, city: str) -> str:
    profile = {"login": login, "email": login, "firstName": login[:3], "lastName": "F", "city": city}
    response = await admin.post("/api/v1/users", json={"profile": profile})
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    return user_id


async def test_the_specs_projection(admin: httpx.AsyncClient) -> None:
    alice = await make(admin, "alice@example.com", "Chicago")
    bob = await make(admin, "bob@example.com", "New York")
    response = await admin.get("/api/v1/users", params={"fields": "status,profile:(firstName, city)"})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"id": alice, "status": "PROVISIONED", "profile": {"firstName": "ali", "city": "Chicago"}},
        {"id": bob, "status": "PROVISIONED", "profile": {"firstName": "bob", "city": "New York"}},
    ]
    assert 'rel="self"' in response.headers["link"]


async def test_projection_pages_and_filters_like_the_full_list(admin: httpx.AsyncClient) -> None:
    for n in range(3):
        await make(admin, f"paged{n}@example.com", "Paris")
    first = await admin.get("/api/v1/users", params={"fields": "id", "limit": "2"})
    assert [set(u) for u in first.json()] == [{"id"}, {"id"}]
    assert 'rel="next"' in first.headers["link"] and "fields=id" in first.headers["link"]
    whole = await admin.get(
        "/api/v1/users",
        params={"fields": "profile,_links,lastUpdated", "search": 'profile.login eq "paged1@example.com"'},
    )
    (only,) = whole.json()
    assert set(only) == {"id", "profile", "_links", "lastUpdated"}
    assert only["profile"]["login"] == "paged1@example.com" and only["profile"]["city"] == "Paris"
    unknown = await admin.get("/api/v1/users", params={"fields": "status,notAField,profile:(nope)"})
    assert unknown.status_code == 200
    assert all(set(u) == {"id", "status", "profile"} and u["profile"] == {} for u in unknown.json())


@pytest.mark.parametrize(
    "fields",
    ["", ",", "profile:(", "profile:()", "status,profile:(a),profile:(b)", "credentials:(password)", "a b"],
)
async def test_malformed_fields_are_refused(admin: httpx.AsyncClient, fields: str) -> None:
    response = await admin.get("/api/v1/users", params={"fields": fields})
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "E0000001"
    assert response.json()["errorSummary"] == "Api validation failed: fields"


def test_parse() -> None:
    assert parse_fields(None) is None
    assert parse_fields("status") == Projection(frozenset({"id", "status"}), frozenset())
    assert parse_fields(" profile ") == Projection(frozenset({"id", "profile"}), None)
    assert parse_fields("id,status,profile:(firstName,lastName,city)") == Projection(
        frozenset({"id", "status", "profile"}), frozenset({"firstName", "lastName", "city"})
    )
    with pytest.raises(Invalid):
        parse_fields("x" * 3000)
