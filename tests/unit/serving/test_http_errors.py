"""Bad input gets Okta's error shape with the right status, and changes nothing."""

from __future__ import annotations

import httpx

from tests.conftest import Server


async def test_malformed_json_is_e0000003(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000003"
    assert response.json()["errorSummary"] == "The request body was not well-formed."


async def test_json_that_is_not_an_object_is_e0000003(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/api/v1/groups", json=[1, 2])).json()["errorCode"] == "E0000003"


async def test_wrong_types_are_validation_errors(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/groups", json={"profile": {"name": 42}})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"


async def test_oversized_body_is_413(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/groups", content=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["errorCode"] == "E0000003"


async def test_oversized_body_without_a_declared_length_is_413(admin: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MiB in all, sent chunked

    response = await admin.post("/api/v1/groups", content=chunks())
    assert response.status_code == 413
    assert response.json()["errorCode"] == "E0000003"


async def test_missing_authorization_header_is_e0000005(server: Server) -> None:
    """Okta answers a management request with no Authorization header as a request without a
    session: 403 E0000005 "Invalid session" (a header with a bad token is 401 E0000011)."""
    async with server.client() as client:
        response = await client.get("/api/v1/users")
        assert response.status_code == 403
        assert response.json()["errorCode"] == "E0000005"
        assert response.json()["errorSummary"] == "Invalid session"
        assert response.json()["errorCauses"] == []
        for header in ("SSWS", "SSWS ", "Bearer", "Basic abc"):
            refused = await client.get("/api/v1/users", headers={"Authorization": header})
            assert (refused.status_code, refused.json()["errorCode"]) == (401, "E0000011"), header


async def test_wrong_token_is_e0000011(server: Server) -> None:
    async with server.client("00notatoken") as client:
        assert (await client.get("/api/v1/users")).status_code == 401


async def test_ssws_without_a_space_is_accepted_as_okta_3_4_6_sends_it(server: Server) -> None:
    token = await server.create_token()
    async with server.client(Authorization=f"SSWS {token}") as spaced:
        expected = await spaced.get("/api/v1/users")
    async with server.client(Authorization=f"SSWS{token}") as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 200, response.text
    assert response.json() == expected.json()


async def test_bearer_without_an_oauth_verifier_is_refused(server: Server) -> None:
    async with server.client(Authorization="Bearer abc.def.ghi") as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E0000011"


async def test_unknown_route_is_okta_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"


async def test_wrong_method_is_405_in_okta_shape(admin: httpx.AsyncClient) -> None:
    response = await admin.patch("/api/v1/users")
    assert response.status_code == 405
    assert response.json()["errorCode"] == "E0000022"


async def test_bad_limit_is_a_validation_error(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users?limit=abc")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"


async def test_every_response_has_request_id_and_date(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users")
    assert len(response.headers["x-okta-request-id"]) >= 20
    assert response.headers["date"].endswith("GMT")


async def test_errors_carry_an_okta_error_id(admin: httpx.AsyncClient) -> None:
    body = (await admin.get("/api/v1/groups/00gnope")).json()
    assert body["errorId"].startswith("oae") and len(body["errorId"]) == 25
    assert body["errorLink"] == body["errorCode"]
