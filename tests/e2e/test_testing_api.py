"""``serve --memory --testing``: the ``/__ostiary/testing`` API driven through ``ostiary.testing``
(the pytest plugin's own org handle), on the docs' API Center org file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from ostiary.testing import OstiaryOrg, start_org
from ostiary.testing.http_client import request

ORG_FILE = Path(__file__).resolve().parents[2] / "docs" / "org.example.yaml"
SOLAR = "ausSolarSystem"
SILVER = "http://myapp.com/scp/silver"
GOLD = "http://myapp.com/scp/gold"


@pytest.fixture(scope="module")
def org() -> Iterator[OstiaryOrg]:
    org = start_org(ORG_FILE)
    yield org
    org.stop()


@pytest.fixture
def clean(org: OstiaryOrg) -> OstiaryOrg:
    org.reset()
    return org


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_testing_api_wants_the_orgs_api_token(clean: OstiaryOrg) -> None:
    anonymous = request("POST", f"{clean.url}/__ostiary/testing/faults", json={"path": "/x", "status": 500})
    wrong = request(
        "POST",
        f"{clean.url}/__ostiary/testing/faults",
        json={"path": "/x", "status": 500},
        headers={"Authorization": "SSWS not-a-token"},
    )

    assert (anonymous.status, anonymous.json()["errorCode"]) == (403, "E0000005")
    assert (wrong.status, wrong.json()["errorCode"]) == (401, "E0000011")
    assert clean.faults.rules() == []


@pytest.mark.parametrize(
    "body",
    [
        {"status": 500},
        {"path": "no-slash", "status": 500},
        {"path": "/x", "status": 404},
        {"path": "/x", "status": "500"},
        {"path": "/x"},
        {"path": "/x", "status": 500, "times": 0},
        {"path": "/x", "delaySeconds": True},
    ],
)
def test_a_bad_fault_rule_is_refused_and_nothing_added(clean: OstiaryOrg, body: dict) -> None:
    reply = clean.api("POST", "/__ostiary/testing/faults", body)

    assert reply.status == 400
    assert reply.json()["errorCode"] == "E0000001"
    assert clean.faults.rules() == []


def test_removing_an_unknown_rule_is_404(clean: OstiaryOrg) -> None:
    reply = clean.api("DELETE", "/__ostiary/testing/faults/flt999")

    assert (reply.status, reply.json()["errorCode"]) == (404, "E0000007")


def test_a_rate_limited_token_endpoint_answers_e0000047_then_a_token(clean: OstiaryOrg) -> None:
    clean.faults.rate_limit(f"/oauth2/{SOLAR}/v1/token", times=1, reset_in=5)

    with pytest.raises(AssertionError, match="429") as refused:
        clean.client_credentials("Solar system service", [SILVER], server_id=SOLAR)

    reply = refused.value.reply
    assert reply.json()["errorCode"] == "E0000047"
    assert int(reply.header("X-Rate-Limit-Reset")) >= int(time.time()) + 4
    assert reply.header("Date")
    assert clean.client_credentials_token("Solar system service", [SILVER], server_id=SOLAR)


def test_a_user_gets_tokens_through_code_and_pkce(clean: OstiaryOrg) -> None:
    tokens = clean.user_tokens(
        "lois.lane@example.com", app="API Center demo app", scopes=["openid", GOLD], server_id=SOLAR
    )

    access = _claims(tokens["access_token"])
    assert GOLD in access["scp"]
    assert access["sub"] == "lois.lane@example.com"
    assert _claims(tokens["id_token"])["aud"] == "0oaApiCenterDemo"


def test_a_clock_ahead_mints_tokens_from_the_future_until_cleared(clean: OstiaryOrg) -> None:
    clean.faults.skew_clock(600)
    ahead = _claims(clean.client_credentials_token("Solar system service", [SILVER], server_id=SOLAR))
    clean.faults.clear()
    now = _claims(clean.client_credentials_token("Solar system service", [SILVER], server_id=SOLAR))

    assert ahead["iat"] > time.time() + 500
    assert now["iat"] <= time.time()


def test_rotating_the_org_servers_keys_publishes_a_new_active_key(clean: OstiaryOrg) -> None:
    before = {key["kid"] for key in request("GET", f"{clean.url}/oauth2/v1/keys").json()["keys"]}

    kid = clean.faults.rotate_keys(None)

    after = {key["kid"] for key in request("GET", f"{clean.url}/oauth2/v1/keys").json()["keys"]}
    assert kid in after
    assert before <= after


def test_a_locked_out_user_is_locked_and_cannot_sign_in(clean: OstiaryOrg) -> None:
    clean.faults.lock_out("clark.kent@example.com")

    status = clean.api("GET", "/api/v1/users/clark.kent@example.com").json()["status"]
    with pytest.raises(AssertionError, match="sign-in"):
        clean.user_tokens("clark.kent@example.com", app="API Center demo app", server_id=SOLAR)
    assert status == "LOCKED_OUT"


def test_reset_brings_back_the_file_and_drops_faults(clean: OstiaryOrg) -> None:
    user = clean.api("GET", "/api/v1/users/clark.kent@example.com").json()
    clean.api("POST", f"/api/v1/users/{user['id']}/lifecycle/deactivate")
    clean.api("DELETE", f"/api/v1/users/{user['id']}")
    clean.faults.error("/api/v1/groups*", 500, times=None)
    clean.faults.skew_clock(-60)

    clean.reset()

    assert clean.api("GET", "/api/v1/users/clark.kent@example.com").json()["id"] == user["id"]
    assert clean.faults.rules() == []
    assert clean.api("GET", "/__ostiary/testing/clock").json() == {"skewSeconds": 0}
    assert clean.api("GET", "/api/v1/groups").status == 200


def test_the_jwks_stays_the_same_across_resets(clean: OstiaryOrg) -> None:
    first = request("GET", f"{clean.url}/oauth2/{SOLAR}/v1/keys").json()
    clean.reset()

    assert request("GET", f"{clean.url}/oauth2/{SOLAR}/v1/keys").json() == first
