"""Specification of the mock solar-system API (``../shared/spec/demo.md`` §2)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from ostiary.demo.solar_system import build_solar_system_app

JSON_TYPE = "application/json; charset=utf-8"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_solar_system_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://solar.test") as http:
        yield http


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/visitors", b'["Oumuamua","2I/Borisov"]'),
        ("/asteroids", b'["ceres","hygiea","pallas","vesta"]'),
        ("/planets", b'["mercury","venus","earth","mars","jupiter","saturn","uranus","neptune"]'),
        ("/moons", b'["adrastea","amalthea","callisto","europa","ganymede","io","metis","thebe"]'),
        ("/grades/12345", b'{"student_id":"12345","grade":"F"}'),
        ("/grades/00uptdgk3iNZYSAc10h7", b'{"student_id":"00uptdgk3iNZYSAc10h7","grade":"A"}'),
        ("/grades/999", b'{"student_id":"999"}'),
    ],
)
async def test_fixed_answers_are_byte_exact(client: httpx.AsyncClient, path: str, body: bytes) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == JSON_TYPE


async def test_the_root_is_an_html_banner(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.text == "<b>Okta solar system api</b>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_ssn_is_masked_random_digits(client: httpx.AsyncClient) -> None:
    response = await client.get("/ssn")
    assert re.fullmatch(r'\{"ssn":"\d{3}-XX-\d{4}"\}', response.text)


async def test_risk_score_is_an_integer_below_1000(client: httpx.AsyncClient) -> None:
    score = (await client.get("/risk_score")).json()["risk_score"]
    assert isinstance(score, int) and 0 <= score <= 999


async def test_v_is_a_profile_update_command(client: httpx.AsyncClient) -> None:
    response = await client.get("/v")
    assert re.fullmatch(
        r'\{"commands":\[\{"type":"com\.okta\.user\.profile\.update","value":\{"ssn":"\d{3}-XX-\d{4}"\}\}\]\}',
        response.text,
    )


async def test_the_token_inline_hook_patches_two_claims(client: httpx.AsyncClient) -> None:
    response = await client.post("/test_inline_hook", json={"data": {}})
    assert response.content == (
        b'{"commands":[{"type":"com.okta.identity.patch","value":[{"op":"add","path":"/claims/extPatientId",'
        b'"value":"1234"}]},{"type":"com.okta.access.patch","value":[{"op":"add","path":"/claims/external_guid",'
        b'"value":"F0384685-F87D-474B-848D-2058AC5655A7"}]}]}'
    )
    assert response.headers["content-type"] == JSON_TYPE


async def test_the_saml_inline_hook_replaces_the_session_index(client: httpx.AsyncClient) -> None:
    response = await client.post("/ssn-saml")
    assert response.content == (
        b'{"commands":[{"type":"com.okta.assertion.patch","value":[{"op":"replace",'
        b'"path":"/authentication/sessionIndex","value":"definitelyARealSession"}]}]}'
    )


@pytest.mark.parametrize(
    ("body", "result"),
    [
        ({"email": "lois.lane@mailinator.com", "account_no": "12345"}, "success"),
        ({"email": "lois.lane@mailinator.com", "account_no": 12345}, "success"),
        ({"email": "lois.lane@mailinator.com", "account_no": "54321"}, "failure"),
        ({"email": "clark.kent@mailinator.com", "account_no": "12345"}, "failure"),
        ({}, "failure"),
    ],
)
async def test_valid_accounts_knows_one_account(
    client: httpx.AsyncClient, body: dict[str, object], result: str
) -> None:
    response = await client.post("/valid_accounts", json=body)
    assert response.content == f'{{"result":"{result}"}}'.encode()


async def test_valid_accounts_accepts_a_form_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/valid_accounts", data={"email": "lois.lane@mailinator.com", "account_no": "12345"}
    )
    assert response.json() == {"result": "success"}


async def test_valid_accounts_treats_malformed_json_as_a_failure(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/valid_accounts", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.json() == {"result": "failure"}


async def test_unknown_paths_get_express_s_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/galaxies")
    assert response.status_code == 404
    assert "<pre>Cannot GET /galaxies</pre>" in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_a_wrong_method_is_a_404_as_in_express(client: httpx.AsyncClient) -> None:
    response = await client.post("/planets")
    assert response.status_code == 404
    assert "Cannot POST /planets" in response.text


async def test_a_trailing_slash_is_ignored_as_in_express(client: httpx.AsyncClient) -> None:
    assert (await client.get("/planets/")).json()[0] == "mercury"


async def test_head_is_answered_for_get_routes(client: httpx.AsyncClient) -> None:
    response = await client.head("/planets")
    assert response.status_code == 200 and response.content == b""
