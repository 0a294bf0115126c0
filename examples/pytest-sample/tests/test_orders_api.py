"""The orders API against the test org: service tokens, a user's tokens through sign-in and PKCE."""

from __future__ import annotations

import pytest

from conftest import ORDERS_SERVER, bearer


def test_a_service_token_with_orders_read_lists_orders(orders_api, service_token):
    response = orders_api.get("/orders", headers=bearer(service_token("orders:read")))

    assert response.status_code == 200
    assert response.json()["caller"] == "0oaBillingService"


def test_a_service_cannot_place_orders(orders_api, service_token):
    response = orders_api.post("/orders", headers=bearer(service_token("orders:read")))

    assert response.status_code == 403


def test_a_request_without_a_token_is_refused(orders_api):
    assert orders_api.get("/orders").status_code == 401


def test_a_buyer_signs_in_with_pkce_and_places_an_order(ostiary_org, orders_api):
    tokens = ostiary_org.user_tokens(
        "alice@example.com", app="Orders web", scopes=["openid", "orders:write"], server_id=ORDERS_SERVER
    )

    response = orders_api.post("/orders", headers=bearer(tokens["access_token"]))

    assert response.status_code == 201
    assert response.json() == {"placedBy": "alice@example.com"}
    assert tokens["id_token"]


def test_a_user_outside_the_buyers_group_gets_no_orders_token(ostiary_org):
    with pytest.raises(AssertionError, match="/authorize"):
        ostiary_org.user_tokens(
            "bob@example.com", app="Orders web", scopes=["orders:read"], server_id=ORDERS_SERVER
        )
