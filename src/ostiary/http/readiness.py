"""``GET /readyz``: whether this process can serve requests now, for a load balancer to route
by. It checks the database (one round trip) and Redis when one is configured, each bounded by a
short timeout; ``/healthz`` stays a liveness check that touches neither."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ostiary.db_faults import Fault, classify
from ostiary.domain.unit_of_work import UnitOfWork
from ostiary.http.responses import json_response
from ostiary.http.store_faults import FaultLog

OK = "ok"


class Readiness:
    def __init__(
        self, db: UnitOfWork, redis_url: str | None, faults: FaultLog, connect_timeout: float
    ) -> None:
        self.db = db
        self.redis_url = redis_url
        self.faults = faults
        self.timeout = max(connect_timeout, 1.0)
        self._redis: Any = None

    async def check(self) -> dict[str, str]:
        """``{"database": "ok" | <fault>, "redis": …}``."""
        checks = {"database": await self._database()}
        if self.redis_url:
            checks["redis"] = await self._redis_state()
        return checks

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(self.db.ping(), self.timeout)
        except Exception as error:
            fault = classify(error) or Fault.UNREACHABLE
            self.faults.report(fault, error, "GET /readyz")
            return fault.value
        return OK

    async def _redis_state(self) -> str:
        try:
            if self._redis is None:
                import redis.asyncio as redis

                self._redis = redis.from_url(
                    self.redis_url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
                )
            await asyncio.wait_for(self._redis.ping(), self.timeout)
        except Exception as error:
            return "timeout" if isinstance(error, TimeoutError) else "unreachable"
        return OK

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def ready(request: Request) -> Response:
    readiness: Readiness = request.app.state.runtime.extras["readiness"]
    checks = await readiness.check()
    if all(state == OK for state in checks.values()):
        return json_response({"status": "ready", **checks})
    return json_response({"status": "unavailable", **checks}, 503, {"Retry-After": "5"})
