"""A service that reads Okta's directory: once through the okta SDK (whose client retries 429s
itself), once with ``requests`` and a retry loop of its own that waits for ``X-Rate-Limit-Reset``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from okta.client import Client as OktaClient


def okta_client(org_url: str, api_token: str, max_retries: int = 2) -> OktaClient:
    return OktaClient({"orgUrl": org_url, "token": api_token, "rateLimit": {"maxRetries": max_retries}})


def user_logins(org_url: str, api_token: str) -> list[str]:
    """Every user's login, through the okta SDK."""

    async def fetch() -> list[str]:
        users, _response, error = await okta_client(org_url, api_token).list_users()
        if error is not None:
            raise error
        return [user.profile.login for user in users]

    return asyncio.run(fetch())


@dataclass
class RateLimitedClient:
    """GETs the management API, waiting until ``X-Rate-Limit-Reset`` after a 429 (by the
    server's ``Date``, as Okta advises) for up to ``max_retries`` retries."""

    org_url: str
    api_token: str
    max_retries: int = 3
    waits: list[float] = field(default_factory=list)
    """Seconds waited before each retry (what the tests look at)."""

    def get(self, path: str) -> requests.Response:
        headers = {"Authorization": f"SSWS {self.api_token}", "Accept": "application/json"}
        for _attempt in range(self.max_retries + 1):
            response = requests.get(self.org_url + path, headers=headers, timeout=10)
            if response.status_code != 429:
                return response
            wait = self._seconds_until_reset(response)
            self.waits.append(wait)
            time.sleep(wait)
        return response

    @staticmethod
    def _seconds_until_reset(response: requests.Response) -> float:
        reset = int(response.headers["X-Rate-Limit-Reset"])
        server_now = parsedate_to_datetime(response.headers["Date"]).timestamp()
        return max(0.0, reset - server_now) + 0.1
