"""Rate limits as Okta sends them: 429 with X-Rate-Limit-* headers, then success."""

from __future__ import annotations

from sample_app.user_directory import RateLimitedClient, user_logins


def test_the_retry_loop_waits_for_x_rate_limit_reset_and_then_succeeds(
    ostiary_org, ostiary_api_token, ostiary_faults
):
    ostiary_faults.rate_limit("/api/v1/users*", times=2, reset_in=1)
    client = RateLimitedClient(ostiary_org.url, ostiary_api_token)

    response = client.get("/api/v1/users")

    assert response.status_code == 200
    assert len(client.waits) == 2  # two real 429s, each with a reset in the future
    assert all(wait >= 1 for wait in client.waits)
    assert ostiary_faults.rules() == []  # both injected 429s were served


def test_the_okta_sdk_retries_a_429_and_returns_the_users(ostiary_api_token, ostiary_org, ostiary_faults):
    ostiary_faults.rate_limit("/api/v1/users*", times=1, reset_in=1)

    logins = user_logins(ostiary_org.url, ostiary_api_token)

    assert sorted(logins) == ["alice@example.com", "bob@example.com"]
    assert ostiary_faults.rules() == []
