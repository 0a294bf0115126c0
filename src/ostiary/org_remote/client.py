"""A small client of Okta's management API: SSWS auth, ``Link: rel="next"`` paging, rate limits.

Okta answers every request with ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and
``X-Rate-Limit-Reset`` (epoch seconds); past the limit it answers 429. The client waits for the
reset when ``Remaining`` reaches 0, and on a 429 waits ``Retry-After`` (or until the reset)
and retries, up to ``max_retries`` times. Waits are capped at ``max_wait`` seconds each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

USER_AGENT = "ostiary-org-file"


class RemoteError(Exception):
    """The org refused a request (its Okta error summary), or could not be reached."""


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errorSummary"):
        causes = "; ".join(
            str(c.get("errorSummary")) for c in body.get("errorCauses") or [] if isinstance(c, dict)
        )
        return str(body["errorSummary"]) + (f" ({causes})" if causes else "")
    return f"HTTP {response.status_code}"


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (Okta sends one header per relation)."""
    for header in response.headers.get_list("link"):
        for part in header.split(","):
            url, _, params = part.partition(";")
            if 'rel="next"' in params.replace(" ", ""):
                return url.strip().strip("<>")
    return None


class ManagementClient:
    def __init__(
        self,
        org_url: str,
        token: str,
        *,
        max_retries: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.max_retries, self.max_wait, self.sleep, self.clock = max_retries, max_wait, sleep, clock
        self.retried = 0
        """How many 429s were waited out (for reports and tests)."""
        self._http = httpx.AsyncClient(
            base_url=self.org_url,
            headers={
                "Authorization": f"SSWS {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=30.0,
            transport=transport,
        )
        self._reset_at: float | None = None  # when Remaining reached 0: wait for this reset

    async def __aenter__(self) -> ManagementClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def _wait_until(self, epoch: float) -> None:
        delay = min(max(epoch - self.clock(), 0.0), self.max_wait)
        if delay > 0:
            await self.sleep(delay)

    def _retry_delay(self, response: httpx.Response) -> float:
        retry_after = response.headers.get("retry-after")
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_wait)
            except ValueError:
                pass
        reset = response.headers.get("x-rate-limit-reset")
        if reset is not None:
            try:
                return min(max(float(reset) - self.clock(), 0.0) + 1.0, self.max_wait)
            except ValueError:
                pass
        return 1.0

    def _note_limits(self, response: httpx.Response) -> None:
        remaining, reset = (
            response.headers.get("x-rate-limit-remaining"),
            response.headers.get("x-rate-limit-reset"),
        )
        try:
            exhausted = remaining is not None and int(remaining) <= 0
            self._reset_at = float(reset) if exhausted and reset is not None else None
        except ValueError:
            self._reset_at = None

    async def send(self, method: str, url: str, *, json: Any = None, params: Any = None) -> httpx.Response:
        """One request, rate limits honoured; a non-2xx answer (after retries) raises :class:`RemoteError`."""
        for attempt in range(self.max_retries + 1):
            if self._reset_at is not None:
                await self._wait_until(self._reset_at)
                self._reset_at = None
            try:
                response = await self._http.request(method, url, json=json, params=params)
            except httpx.HTTPError as exc:
                raise RemoteError(f"{method} {url}: {exc}") from None
            self._note_limits(response)
            if response.status_code == 429 and attempt < self.max_retries:
                self.retried += 1
                await self.sleep(self._retry_delay(response))
                continue
            if response.status_code >= 400:
                path = url.removeprefix(self.org_url)
                raise RemoteError(f"{method} {path}: {_error_text(response)}")
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def json(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.send(method, path, json=body, params=params or None)
        return response.json() if response.content else None

    async def get_all(self, path: str, **params: Any) -> list[Any]:
        """Every item of a collection, following ``Link: rel="next"``."""
        items: list[Any] = []
        url: str | None = path
        query: Any = {"limit": 200, **params}
        while url is not None:
            response = await self.send("GET", url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise RemoteError(f"GET {path}: not a list")
            items.extend(page)
            url, query = next_link(response), None  # the next link carries its own query
        return items
