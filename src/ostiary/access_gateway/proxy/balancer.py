"""Which protected resource serves a request: smooth weighted round-robin (nginx's) over
the resources that are active, have a weight above 0 and are healthy; health checks run
in one background task per app with ``healthCheck.enabled``.

A host starts healthy; ``unhealthyThreshold`` failed checks in a row (a connection error,
a timeout or another status than ``statusCode``) take it out, ``healthyThreshold``
successes bring it back. If every host is unhealthy, none is used (502). An app's checks
stop when it is deactivated (:meth:`Balancer.forget`) or has had no request for
:data:`IDLE_STOP` seconds (the next request starts them again), so apps deleted from the
store leave no task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ostiary.access_gateway.proxy.config import HealthCheck, ProxyApp, Resource

log = logging.getLogger(__name__)

IDLE_STOP = 300.0

Probe = Callable[[str, HealthCheck], Awaitable[bool]]
"""``probe(url, check)`` is True when the host answered ``check.status_code`` in time."""


@dataclass
class _Health:
    healthy: bool = True
    successes: int = 0
    failures: int = 0

    def record(self, ok: bool, check: HealthCheck) -> bool:
        """Record one probe; True when the host's state changed."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if not self.healthy and self.successes >= check.healthy_threshold:
                self.healthy = True
                return True
        else:
            self.failures, self.successes = self.failures + 1, 0
            if self.healthy and self.failures >= check.unhealthy_threshold:
                self.healthy = False
                return True
        return False


@dataclass
class _AppBalance:
    resources: tuple[Resource, ...]
    current: dict[str, int] = field(default_factory=dict)
    health: dict[str, _Health] = field(default_factory=dict)
    checker: asyncio.Task[None] | None = None
    check: HealthCheck | None = None
    last_used: float = field(default_factory=time.monotonic)


class Balancer:
    def __init__(self, probe: Probe) -> None:
        self._probe = probe
        self._apps: dict[str, _AppBalance] = {}

    def _state(self, app: ProxyApp) -> _AppBalance:
        state = self._apps.get(app.id)
        if state is None or state.resources != app.resources:
            old = state
            state = _AppBalance(app.resources)
            if old is not None:
                kept = (r.hostname for r in app.resources if r.hostname in old.health)
                state.health = {hostname: old.health[hostname] for hostname in kept}
                if old.checker is not None:
                    old.checker.cancel()
            self._apps[app.id] = state
        state.last_used = time.monotonic()
        self._keep_checking(app, state)
        return state

    def forget(self, app_id: str) -> None:
        """Stop the app's health checks and forget its hosts' state."""
        state = self._apps.pop(app_id, None)
        if state is not None and state.checker is not None:
            state.checker.cancel()

    def is_healthy(self, app: ProxyApp, hostname: str) -> bool:
        health = self._state(app).health.get(hostname)
        return health is None or health.healthy

    def pick(self, app: ProxyApp) -> Resource | None:
        """The next resource by smooth weighted round-robin, or None if none can serve."""
        state = self._state(app)
        eligible = [
            r
            for r in app.resources
            if r.active and r.weight > 0 and state.health.get(r.hostname, _Health()).healthy
        ]
        if not eligible:
            return None
        total = 0
        best: Resource | None = None
        for resource in eligible:
            weight = state.current.get(resource.id, 0) + resource.weight
            state.current[resource.id] = weight
            total += resource.weight
            if best is None or weight > state.current[best.id]:
                best = resource
        assert best is not None
        state.current[best.id] -= total
        return best

    def _keep_checking(self, app: ProxyApp, state: _AppBalance) -> None:
        check = app.health_check if app.health_check.enabled else None
        if state.check == check and (check is None or (state.checker and not state.checker.done())):
            return
        if state.checker is not None:
            state.checker.cancel()
            state.checker = None
        state.check = check
        if check is not None:
            state.checker = asyncio.get_running_loop().create_task(
                self._check_forever(app, state, check), name=f"oag-health-{app.id}"
            )

    async def _check_forever(self, app: ProxyApp, state: _AppBalance, check: HealthCheck) -> None:
        while time.monotonic() - state.last_used < max(IDLE_STOP, 3 * check.interval):
            resources = [r for r in state.resources if r.active]
            results = await asyncio.gather(
                *(self._probe(r.hostname + check.path, check) for r in resources), return_exceptions=True
            )
            for resource, ok in zip(resources, results, strict=True):
                health = state.health.setdefault(resource.hostname, _Health())
                if health.record(ok is True, check):
                    log.warning(
                        "app %s: upstream %s is now %s",
                        app.name,
                        resource.hostname,
                        "healthy" if health.healthy else "unhealthy",
                    )
            await asyncio.sleep(check.interval)

    async def aclose(self) -> None:
        for state in self._apps.values():
            if state.checker is not None:
                state.checker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await state.checker
        self._apps.clear()
