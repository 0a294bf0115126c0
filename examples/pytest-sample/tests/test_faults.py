"""Other ways the test org misbehaves on purpose, and the reset that undoes everything."""

from __future__ import annotations

import pytest

from conftest import ORDERS_SERVER, bearer


def test_tokens_from_a_server_clock_two_hours_behind_are_expired(orders_api, service_token, ostiary_faults):
    ostiary_faults.skew_clock(-7200)
    stale = service_token("orders:read")
    ostiary_faults.clear()

    response = orders_api.get("/orders", headers=bearer(stale))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def test_a_503_from_the_token_endpoint_then_a_token(ostiary_org, service_token, ostiary_faults):
    ostiary_faults.error(f"/oauth2/{ORDERS_SERVER}/v1/token", 503, times=1)

    with pytest.raises(AssertionError, match="503") as refused:
        service_token("orders:read")

    assert refused.value.reply.json()["error"] == "temporarily_unavailable"
    assert service_token("orders:read")


def test_a_locked_out_user_cannot_sign_in_until_the_org_is_reset(ostiary_clean_org, ostiary_faults):
    ostiary_faults.lock_out("alice@example.com")

    with pytest.raises(AssertionError, match="sign-in"):
        ostiary_clean_org.user_tokens("alice@example.com", app="Orders web", server_id=ORDERS_SERVER)

    ostiary_clean_org.reset()
    assert ostiary_clean_org.user_tokens("alice@example.com", app="Orders web", server_id=ORDERS_SERVER)


def test_reset_removes_what_a_test_created(ostiary_clean_org):
    created = ostiary_clean_org.api("POST", "/api/v1/groups", {"profile": {"name": "temporary"}})
    assert created.status == 200

    ostiary_clean_org.reset()

    assert ostiary_clean_org.api("GET", "/api/v1/groups?q=temporary").json() == []
