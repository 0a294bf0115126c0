"""Injected faults: the next N requests to a path pattern of one org get 429 (with Okta's
rate-limit headers), 500 or 503, or wait first.

:class:`FaultInjection` is an ASGI middleware installed only by ``serve --memory --testing``,
just inside ``EdgeMiddleware`` (which has resolved the request's org and adds ``Date`` and the
request id to every answer, injected ones included). A normal ``serve`` never installs it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.http.errors import OAUTH_NO_STORE, oauth_error, okta_error

TOO_MANY = ("E0000047", "API call exceeded rate limit due to too many requests.")
_OAUTH_PREFIXES = ("/oauth2/", "/.well-known/")
_STATUSES = frozenset({429, 500, 503})


@dataclass
class FaultRule:
    """``path`` is a glob (``fnmatch``: ``*`` also crosses ``/``); ``times`` None means until
    cleared; ``status`` None with a ``delay`` only slows the request down."""

    id: str
    org_id: str
    path: str
    method: str | None = None
    status: int | None = None
    delay: float = 0.0
    times: int | None = None
    reset_seconds: int = 1
    limit: int = 600
    hits: int = 0

    def matches(self, org_id: str, method: str, path: str) -> bool:
        return (
            self.org_id == org_id
            and (self.method is None or self.method == method)
            and fnmatch.fnmatchcase(path, self.path)
        )

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "delay": self.delay,
            "remaining": None if self.times is None else self.times - self.hits,
            "hits": self.hits,
            "resetSeconds": self.reset_seconds,
        }


@dataclass
class FaultRules:
    """The rules of every org of one server, in the order they were added."""

    rules: list[FaultRule] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, org_id: str, **options: Any) -> FaultRule:
        status = options.get("status")
        if status is not None and status not in _STATUSES:
            raise ValueError(f"status must be one of {sorted(_STATUSES)}")
        rule = FaultRule(id=f"flt{next(self._ids)}", org_id=org_id, **options)
        self.rules.append(rule)
        return rule

    def of(self, org_id: str) -> list[FaultRule]:
        return [rule for rule in self.rules if rule.org_id == org_id]

    def remove(self, org_id: str, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if not (r.org_id == org_id and r.id == rule_id)]
        return len(self.rules) != before

    def clear(self, org_id: str | None = None) -> None:
        self.rules = [] if org_id is None else [r for r in self.rules if r.org_id != org_id]

    def take(self, org_id: str, method: str, path: str) -> FaultRule | None:
        """The first rule for this request, counted as hit; a rule used up is dropped."""
        for rule in self.rules:
            if rule.matches(org_id, method, path):
                rule.hits += 1
                if rule.times is not None and rule.hits >= rule.times:
                    self.rules.remove(rule)
                return rule
        return None


class FaultInjection:
    def __init__(self, app: ASGIApp, *, rules: FaultRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        org = scope.get("state", {}).get("org") if scope["type"] == "http" else None
        rule = self.rules.take(org.id, scope["method"], scope["path"]) if org is not None else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.status is None:
            await self.app(scope, receive, send)
            return
        await injected_response(rule, scope["path"])(scope, receive, send)


def injected_response(rule: FaultRule, path: str) -> Response:
    """429: Okta's ``E0000047`` (on every path, as Okta's OAuth spec has it too) with
    ``X-Rate-Limit-*``; 500/503: OAuth's shape under ``/oauth2/``, Okta's elsewhere. Never
    cacheable (a JWKS client that caches every answer must not keep an outage)."""
    if rule.status == 429:
        headers = {
            **OAUTH_NO_STORE,
            "X-Rate-Limit-Limit": str(rule.limit),
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(time.time()) + rule.reset_seconds),
        }
        return okta_error(429, *TOO_MANY, headers=headers)
    oauth = path.startswith(_OAUTH_PREFIXES)
    if rule.status == 503:
        headers = {**OAUTH_NO_STORE, "Retry-After": str(rule.reset_seconds)}
        if oauth:
            return oauth_error(503, "temporarily_unavailable", "The service is unavailable.", headers)
        return okta_error(503, "E0000010", "Service is temporarily unavailable.", headers=headers)
    if oauth:
        return oauth_error(500, "server_error", "An unexpected error occurred.", OAUTH_NO_STORE)
    return okta_error(500, "E0000009", "Internal Server Error", headers=OAUTH_NO_STORE)
