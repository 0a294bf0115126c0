"""docs/testing.md's Node section, run: an Express API protected with ``@okta/jwt-verifier`` 4
(``tests/e2e/node/orders_api.js``) and a user's sign-in with ``@okta/okta-auth-js`` 8 in Node
(``tests/e2e/node/user_tokens.js``), both unchanged libraries pinned in ``tests/e2e/node``, against
the org the ostiary pytest plugin starts from the pytest sample's ``org.yaml`` over TLS, its
generated CA handed to Node with ``NODE_EXTRA_CA_CERTS``."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from ostiary.testing import OstiaryOrg
from ostiary.testing.faults import Faults
from tests.e2e.okta_libs import NODE_DIR, install_node_modules
from tests.e2e.servers import free_port, running

pytestmark = pytest.mark.ostiary_org("node/org.yaml", tls=True)

ORDERS = "ausOrders"
SERVICE = "Billing service"
WEB_APP = "Orders node"
ALICE = "alice@example.com"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return node


def _node_env(org: OstiaryOrg) -> dict[str, str]:
    assert org.ca_file is not None, "the org must serve TLS: @okta/jwt-verifier wants an https issuer"
    return {"NODE_EXTRA_CA_CERTS": str(org.ca_file)}


@pytest.fixture(scope="module")
def orders_api(ostiary_org: OstiaryOrg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``node orders_api.js`` on ``http://127.0.0.1:{port}``, its issuer the org's ``ausOrders``."""
    install_node_modules()
    node = _node()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **_node_env(ostiary_org),
        "ISSUER": ostiary_org.issuer(ORDERS),
        "AUDIENCE": "api://orders",
        "PORT": str(port),
    }
    log = Path(tmp_path_factory.mktemp("orders-api")) / "node.log"
    with running([node, str(NODE_DIR / "orders_api.js")], f"{base}/healthz", env, log):
        yield base


def _call(base: str, method: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{base}/orders", headers=headers, timeout=30)


def _service_token(org: OstiaryOrg) -> str:
    return org.client_credentials_token(SERVICE, ["orders:read"], server_id=ORDERS)


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_a_service_token_with_the_scope_is_accepted(orders_api: str, ostiary_clean_org: OstiaryOrg) -> None:
    answer = _call(orders_api, "GET", _service_token(ostiary_clean_org))

    assert answer.status_code == 200, answer.text
    assert answer.json()["caller"]["cid"] == "0oaBillingService"
    assert answer.json()["caller"]["scp"] == ["orders:read"]


def test_a_token_without_the_routes_scope_is_403(orders_api: str, ostiary_clean_org: OstiaryOrg) -> None:
    answer = _call(orders_api, "POST", _service_token(ostiary_clean_org))  # POST wants orders:write

    assert answer.status_code == 403, answer.text
    assert answer.json()["error"] == "insufficient_scope"
    assert "orders:write" in answer.headers["WWW-Authenticate"]


def test_no_token_or_a_forged_one_is_401(orders_api: str, ostiary_clean_org: OstiaryOrg) -> None:
    header, payload, signature = _service_token(ostiary_clean_org).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scp"] = ["orders:read", "orders:write"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    missing = _call(orders_api, "GET", None)
    forged = _call(orders_api, "POST", f"{header}.{forged_payload}.{signature}")

    assert (missing.status_code, forged.status_code) == (401, 401), forged.text
    assert forged.json()["error"] == "invalid_token"
    assert "signature" in forged.json()["error_description"].lower()


def test_an_expired_token_is_401(
    orders_api: str, ostiary_clean_org: OstiaryOrg, ostiary_faults: Faults
) -> None:
    ostiary_faults.skew_clock(-7200)
    stale = _service_token(ostiary_clean_org)
    answer = _call(orders_api, "GET", stale)

    assert answer.status_code == 401, answer.text
    assert "expired" in answer.json()["error_description"].lower()
    ostiary_faults.clear()
    assert _call(orders_api, "GET", _service_token(ostiary_clean_org)).status_code == 200


def test_after_a_key_rotation_the_verifier_fetches_the_new_key(
    orders_api: str, ostiary_clean_org: OstiaryOrg, ostiary_faults: Faults
) -> None:
    before = _service_token(ostiary_clean_org)
    assert _call(orders_api, "GET", before).status_code == 200  # the JWKS is cached now
    new_kid = ostiary_faults.rotate_keys(ORDERS)
    after = _service_token(ostiary_clean_org)

    fresh = _call(orders_api, "GET", after)

    assert _kid(after) == new_kid != _kid(before)
    assert fresh.status_code == 200, fresh.text  # a kid it had not seen: jwks-rsa refetched /v1/keys
    assert fresh.json()["caller"]["kid"] == new_kid
    assert _call(orders_api, "GET", before).status_code == 200  # the old key is still published


def _okta_auth_js_sign_in(org: OstiaryOrg, login: str, scopes: str) -> subprocess.CompletedProcess[str]:
    install_node_modules()
    app = org.app(WEB_APP)
    env = {
        **os.environ,
        **_node_env(org),
        "ISSUER": org.issuer(ORDERS),
        "CLIENT_ID": app.client_id,
        "CLIENT_SECRET": app.client_secret or "",
        "REDIRECT_URI": app.redirect_uris[0],
        "SCOPES": scopes,
        "USERNAME": login,
        "PASSWORD": org.password_of(login),
    }
    return subprocess.run(
        [_node(), str(NODE_DIR / "user_tokens.js")], env=env, capture_output=True, text=True, timeout=60
    )


def test_okta_auth_js_signs_in_and_its_access_token_passes_the_verifier(
    orders_api: str, ostiary_clean_org: OstiaryOrg
) -> None:
    result = _okta_auth_js_sign_in(ostiary_clean_org, ALICE, "openid email orders:read orders:write")
    assert result.returncode == 0, result.stderr
    tokens: dict[str, Any] = json.loads(result.stdout)

    assert tokens["idTokenClaims"]["email"] == ALICE
    assert tokens["idTokenClaims"]["iss"] == ostiary_clean_org.issuer(ORDERS)
    assert sorted(tokens["accessTokenScopes"]) == ["email", "openid", "orders:read", "orders:write"]
    assert tokens["decodedAccessToken"]["sub"] == ALICE
    placed = _call(orders_api, "POST", tokens["accessToken"])
    assert placed.status_code == 201, placed.text
    assert placed.json()["caller"]["sub"] == ALICE


def test_okta_auth_js_sign_in_of_a_locked_out_user_fails(
    ostiary_clean_org: OstiaryOrg, ostiary_faults: Faults
) -> None:
    ostiary_faults.lock_out(ALICE)

    result = _okta_auth_js_sign_in(ostiary_clean_org, ALICE, "openid orders:read")

    assert result.returncode == 1 and result.stdout == ""
    assert "AuthApiError" in result.stderr, result.stderr
    ostiary_clean_org.reset()  # unlocked for whoever shares this org next
