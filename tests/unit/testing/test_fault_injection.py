"""The fault layer of ``serve --memory --testing``: which requests a rule takes, and what they get."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from ostiary.domain.orgs import Org
from ostiary.http.testing.fault_injection import FaultInjection, FaultRules

ORG_A = Org("orgA", "a", "a", True, datetime.now(UTC))
ORG_B = Org("orgB", "b", "b", False, datetime.now(UTC))


def test_a_rule_takes_matching_paths_of_its_org_only():
    rules = FaultRules()
    rules.add("orgA", path="/api/v1/users*", status=429)

    assert rules.take("orgA", "GET", "/api/v1/users/00u1/groups") is not None
    assert rules.take("orgA", "GET", "/api/v1/groups") is None
    assert rules.take("orgB", "GET", "/api/v1/users") is None


def test_a_star_crosses_slashes():
    rules = FaultRules()
    rules.add("orgA", path="*/v1/keys", status=503)

    assert rules.take("orgA", "GET", "/oauth2/ausX/v1/keys") is not None
    assert rules.take("orgA", "GET", "/oauth2/v1/keys") is not None


def test_a_rule_with_times_is_used_up_then_gone():
    rules = FaultRules()
    rules.add("orgA", path="/x", status=500, times=2)

    taken = [rules.take("orgA", "GET", "/x") for _ in range(3)]

    assert [rule is not None for rule in taken] == [True, True, False]
    assert rules.of("orgA") == []


def test_a_rule_without_times_stays_until_removed():
    rules = FaultRules()
    rule = rules.add("orgA", path="/x", status=503)
    for _ in range(5):
        rules.take("orgA", "GET", "/x")

    assert rules.remove("orgA", rule.id)
    assert rules.take("orgA", "GET", "/x") is None


def test_a_method_narrows_a_rule():
    rules = FaultRules()
    rules.add("orgA", path="/x", status=500, method="POST")

    assert rules.take("orgA", "GET", "/x") is None
    assert rules.take("orgA", "POST", "/x") is not None


def test_clearing_one_org_keeps_the_others_rules():
    rules = FaultRules()
    rules.add("orgA", path="/x", status=500)
    rules.add("orgB", path="/x", status=500)

    rules.clear("orgA")

    assert rules.of("orgA") == []
    assert len(rules.of("orgB")) == 1


def test_only_429_500_and_503_can_be_injected():
    with pytest.raises(ValueError):
        FaultRules().add("orgA", path="/x", status=404)


async def _upstream(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"upstream"})


def _client(rules: FaultRules, org: Org | None = ORG_A) -> httpx.AsyncClient:
    layer = FaultInjection(_upstream, rules=rules)

    async def with_org(scope: Scope, receive: Receive, send: Send) -> None:
        if org is not None:
            scope.setdefault("state", {})["org"] = org
        await layer(scope, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=with_org), base_url="http://t")


async def _get(rules: FaultRules, path: str, org: Org | None = ORG_A) -> httpx.Response:
    async with _client(rules, org) as client:
        return await client.get(path)


async def test_a_429_carries_okta_rate_limit_headers_and_e0000047():
    rules = FaultRules()
    rules.add("orgA", path="/api/v1/users", status=429, reset_seconds=30, limit=50)

    response = await _get(rules, "/api/v1/users")

    assert response.status_code == 429
    assert response.json()["errorCode"] == "E0000047"
    assert response.headers["x-rate-limit-limit"] == "50"
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert int(response.headers["x-rate-limit-reset"]) >= int(time.time()) + 29
    assert "no-store" in response.headers["cache-control"]


async def test_a_503_on_an_oauth_path_has_oauths_shape():
    rules = FaultRules()
    rules.add("orgA", path="/oauth2/*", status=503)

    response = await _get(rules, "/oauth2/default/v1/keys")

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "retry-after" in response.headers
    assert "no-store" in response.headers["cache-control"]


async def test_a_500_on_a_management_path_has_oktas_shape():
    rules = FaultRules()
    rules.add("orgA", path="/api/*", status=500)

    body: dict[str, Any] = (await _get(rules, "/api/v1/apps")).json()

    assert body["errorCode"] == "E0000009"


async def test_a_delay_without_a_status_reaches_the_app():
    rules = FaultRules()
    rules.add("orgA", path="/x", delay=0.01, times=1)

    response = await _get(rules, "/x")

    assert response.text == "upstream"
    assert rules.of("orgA") == []


async def test_requests_no_rule_matches_reach_the_app():
    rules = FaultRules()
    rules.add("orgB", path="/x", status=500)

    assert (await _get(rules, "/x")).text == "upstream"
    assert (await _get(rules, "/x", org=None)).text == "upstream"
