"""The sample's own fixtures, built on the ostiary plugin's (``ostiary_org`` and friends come
from the plugin, which pytest loads through its ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sample_app.orders_api import create_app
from starlette.testclient import TestClient

ORDERS_SERVER = "ausOrders"


@pytest.fixture
def orders_api(ostiary_org) -> Iterator[TestClient]:
    """The orders API trusting the test org's Orders server, with a verifier of its own."""
    with TestClient(create_app(ostiary_org.issuer(ORDERS_SERVER))) as client:
        yield client


@pytest.fixture
def service_token(ostiary_org):
    """A new access token of the billing service (client_credentials) for the given scopes."""

    def token(*scopes: str) -> str:
        return ostiary_org.client_credentials_token("Billing service", scopes, server_id=ORDERS_SERVER)

    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
