"""CORS on routes with a ``cors`` policy: preflights answered here, headers on every answer.

The policy model and the header writing are :mod:`ostiary.cors_policy`; a preflight needs
no token, and one the policy refuses gets 403 ``cors_denied``.
"""

from __future__ import annotations

from ostiary.cors_policy import PREFLIGHT_VARY, preflight_headers
from ostiary.cors_policy import response_headers as cors_response_headers
from ostiary.gateway.answers import send_error
from ostiary.gateway.config import HTTP_METHODS
from ostiary.gateway.request import GatewayRequest, Headers
from ostiary.gateway.routing import NoMatch
from ostiary.timeutil import http_date


def is_preflight(request: GatewayRequest) -> bool:
    """``OPTIONS`` with an ``Origin`` and an ``Access-Control-Request-Method``."""
    return (
        request.method == "OPTIONS"
        and bool(request.origin)
        and bool(request.headers.get(b"access-control-request-method"))
    )


async def answer_preflight(request: GatewayRequest) -> bool:
    """Answer a CORS preflight if the route for the requested method has a CORS policy.
    Returns False to let the OPTIONS request go on as an ordinary request."""
    assert request.origin is not None  # is_preflight
    requested = request.headers[b"access-control-request-method"]
    requested_method = requested.decode("latin-1").strip().upper()
    found = request.state.router.match(requested_method, request.path)
    if isinstance(found, NoMatch) or found.route.cors is None:
        return False
    route, policy = found.route, found.route.cors
    methods = policy.methods or tuple(sorted(HTTP_METHODS if route.any_method else route.methods))
    raw_headers = request.headers.get(b"access-control-request-headers", b"").decode("latin-1")
    answer = preflight_headers(policy, request.origin, requested_method, raw_headers, methods)
    if answer is None:
        await send_error(
            request,
            403,
            "cors_denied",
            "This cross-origin request is not allowed.",
            [PREFLIGHT_VARY],
            label=route.path,
        )
        return True
    request.metrics.count_request(route.path, "OPTIONS", 204)
    await request.send(
        {"type": "http.response.start", "status": 204, "headers": [*answer, (b"date", http_date())]}
    )
    await request.send({"type": "http.response.body", "body": b""})
    return True


def cors_headers(request: GatewayRequest) -> Headers:
    """The CORS headers of every answer on the matched route (none without a policy)."""
    assert request.route is not None
    return cors_response_headers(request.route.cors, request.origin)
