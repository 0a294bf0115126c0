"""Issue 7 acceptance against the running demo: the protected sample API, the gateway's answers
to missing and bad tokens, CORS for the demo app's origin only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.demo_server import running_demo

PASSWORD = "Demo-Passw0rd-e2e"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_demo(Path(tmp_path_factory.mktemp("demo")) / "data", PASSWORD) as found:
        yield found


def client_token(demo: dict[str, Any], server: str = "default_authorization_server") -> str:
    service = demo["service_client"]
    issuer = demo[server]["issuer"]
    response = requests.post(
        f"{issuer}/v1/token",
        data={"grant_type": "client_credentials", "scope": service["scope"]},
        auth=(service["client_id"], service["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_demo_json_has_everything_a_script_needs(demo: dict[str, Any]) -> None:
    for key in ("org_url", "gateway_url", "upstream_url", "protected_api_url", "app_url", "api_token"):
        assert demo[key]
    assert demo["authorization_server"]["audience"] == "api://solarsystem"
    assert demo["authorization_server"]["id"].startswith("aus")
    assert [u["login"] for u in demo["users"]] == ["clark.kent@example.com", "lois.lane@example.com"]
    assert all(u["password"] == PASSWORD for u in demo["users"])
    assert demo["web_client"]["client_secret"] and demo["service_client"]["client_secret"]


def test_hello_is_public_and_whoami_needs_a_default_server_token(demo: dict[str, Any]) -> None:
    api = demo["protected_api_url"]
    assert requests.get(f"{api}/api/hello", timeout=10).status_code == 200
    assert requests.get(f"{api}/api/whoami", timeout=10).status_code == 401
    token = client_token(demo)
    answer = requests.get(f"{api}/api/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["sub"] == demo["service_client"]["client_id"]
    assert answer.json()["scopes"] == [demo["service_client"]["scope"]]


def test_whoami_refuses_a_token_for_another_audience(demo: dict[str, Any]) -> None:
    admin = {"Authorization": f"SSWS {demo['api_token']}"}
    server = demo["authorization_server"]["id"]
    org = demo["org_url"]
    base = f"{org}/api/v1/authorizationServers/{server}"
    scope = requests.post(f"{base}/scopes", json={"name": "api:whoami"}, headers=admin, timeout=10)
    assert scope.status_code == 201, scope.text
    policy = requests.get(f"{base}/policies", headers=admin, timeout=10).json()[0]
    rule = {
        "type": "RESOURCE_ACCESS",
        "name": "service",
        "conditions": {
            "grantTypes": {"include": ["client_credentials"]},
            "scopes": {"include": ["api:whoami"]},
        },
    }
    created = requests.post(f"{base}/policies/{policy['id']}/rules", json=rule, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    token = client_token(demo, "authorization_server")
    answer = requests.get(
        f"{demo['protected_api_url']}/api/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 401


def test_gateway_refuses_missing_and_garbage_tokens(demo: dict[str, Any]) -> None:
    gateway = demo["gateway_url"]
    missing = requests.get(f"{gateway}/planets", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    garbage = requests.get(f"{gateway}/planets", headers={"Authorization": "Bearer garbage"}, timeout=10)
    assert garbage.status_code == 401
    assert 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]
    assert requests.get(f"{gateway}/visitors", timeout=10).json() == ["Oumuamua", "2I/Borisov"]


def test_gateway_cors_preflight_only_for_the_demo_app(demo: dict[str, Any]) -> None:
    headers = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = requests.options(
        f"{demo['gateway_url']}/planets", headers={**headers, "Origin": demo["app_url"]}, timeout=10
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == demo["app_url"]
    other = requests.options(
        f"{demo['gateway_url']}/planets", headers={**headers, "Origin": "http://evil.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in other.headers
