"""Adds the test-only layer to an org server app (``serve --memory --testing``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ostiary.http.middleware import EdgeMiddleware
from ostiary.http.testing import admin
from ostiary.http.testing.fault_injection import FaultInjection, FaultRules


def install_testing(
    app: Starlette, *, save: Callable[[], Awaitable[None]], restore: Callable[[], Awaitable[None]]
) -> admin.TestingHooks:
    """Fault injection just inside ``EdgeMiddleware`` (so the org is resolved and ``Date`` is
    added) and the ``/__ostiary/testing`` routes first; call before the app serves."""
    hooks = admin.TestingHooks(rules=FaultRules(), save=save, restore=restore)
    app.state.runtime.extras["testing"] = hooks
    edge = next(i for i, m in enumerate(app.user_middleware) if getattr(m, "cls", None) is EdgeMiddleware)
    app.user_middleware.insert(edge + 1, Middleware(FaultInjection, rules=hooks.rules))
    app.router.routes[:0] = admin.routes
    return hooks
