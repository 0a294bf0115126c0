"""okta-jwt-verifier across a signing key rotation and a JWKS outage of the test org."""

from __future__ import annotations

from okta_jwt_verifier.jwt_utils import JWTUtils

from conftest import ORDERS_SERVER, bearer


def kid_of(token: str) -> str:
    return JWTUtils.parse_token(token)[0]["kid"]


def test_the_verifier_fetches_the_new_key_after_a_rotation(orders_api, service_token, ostiary_faults):
    before = service_token("orders:read")
    assert orders_api.get("/orders", headers=bearer(before)).status_code == 200  # JWKS now cached

    new_kid = ostiary_faults.rotate_keys(ORDERS_SERVER)
    after = service_token("orders:read")

    assert kid_of(after) == new_kid != kid_of(before)
    assert orders_api.get("/orders", headers=bearer(after)).status_code == 200
    assert orders_api.get("/orders", headers=bearer(before)).status_code == 200  # old key still published


def test_a_jwks_outage_fails_verification_of_a_new_key_until_it_ends(
    orders_api, service_token, ostiary_faults
):
    """okta-jwt-verifier caches JWKS process-wide, so the outage shows where a key is new to it."""
    assert orders_api.get("/orders", headers=bearer(service_token("orders:read"))).status_code == 200
    ostiary_faults.rotate_keys(ORDERS_SERVER)
    token = service_token("orders:read")
    rule = ostiary_faults.jwks_down()

    refused = orders_api.get("/orders", headers=bearer(token))
    ostiary_faults.remove(rule["id"])
    accepted = orders_api.get("/orders", headers=bearer(token))

    assert refused.status_code == 401
    assert accepted.status_code == 200
