"""The caller of a protected route: bearer token, verification, scopes, rate limit.

1. exactly one ``Authorization`` header (400 ``invalid_request``, RFC 6750 §3.1), checked
   on every route;
2. unless the route is public: a bearer token (401 without one), valid for a configured
   issuer (401 ``invalid_token``; 503 while the issuer's keys cannot be fetched,
   :mod:`.verifier`), granting the route's scopes (403 ``insufficient_scope``,
   :mod:`.scopes`), within the client's rate limit (429, :mod:`.ratelimit`).
"""

from __future__ import annotations

from ostiary.bearer import (
    TWO_AUTHORIZATION_HEADERS,
    bearer_token,
    insufficient_scope,
    invalid_request,
    invalid_token,
    missing_token,
)
from ostiary.gateway.answers import send_bearer_error, send_error
from ostiary.gateway.ratelimit import RateDecision
from ostiary.gateway.request import GatewayRequest
from ostiary.gateway.scopes import ScopeRule
from ostiary.jose.verify import KeysUnavailable, TokenInvalid


async def refuse_two_authorization_headers(request: GatewayRequest) -> None:
    await send_bearer_error(request, invalid_request(TWO_AUTHORIZATION_HEADERS), request.extra)


async def authorize(request: GatewayRequest) -> bool:
    """Check the caller of a protected route; True if it may go on (``request.principal``
    set, rate-limit headers added to ``request.extra``), False if refused (answered).

    One function for token, verification, scopes and rate limit (the refusals are helpers):
    it runs on every proxied request, and a coroutine step per check costs a Python call
    each (``bench/gateway_calls.py``)."""
    authorization = request.headers.get(b"authorization")
    token = bearer_token(authorization.decode("latin-1") if authorization else None)
    if token is None:
        await send_bearer_error(request, missing_token(), request.extra)
        return False
    try:
        if not token:
            raise TokenInvalid("malformed", "the bearer token is empty")
        principal = await request.state.verifier.authenticate(token)
    except KeysUnavailable as exc:
        await _refuse_keys_unavailable(request, exc)
        return False
    except TokenInvalid as exc:
        request.metrics.count_token_failure(exc.reason)
        await send_bearer_error(request, invalid_token(exc.description), request.extra)
        return False
    rule = request.route.scopes  # type: ignore[union-attr]  # routed before this step
    if not rule.allows(principal.scopes):
        await _refuse_scopes(request, rule)
        return False
    request.principal = principal
    limiter = request.state.limiter
    if limiter is None:
        return True
    decision = await limiter.hit(principal.client_id or "anonymous")
    if not decision.allowed:
        await refuse_rate_limit(request, decision)
        return False
    request.extra = request.extra + decision.headers()
    return True


async def _refuse_keys_unavailable(request: GatewayRequest, exc: KeysUnavailable) -> None:
    request.metrics.count_token_failure(exc.reason)
    await send_error(
        request,
        503,
        "temporarily_unavailable",
        "The token issuer's signing keys cannot be fetched; try again shortly.",
        [(b"retry-after", b"5"), *request.extra],
    )


async def _refuse_scopes(request: GatewayRequest, rule: ScopeRule) -> None:
    request.metrics.count_token_failure("insufficient_scope")
    await send_bearer_error(request, insufficient_scope(rule.needed), request.extra)


async def refuse_rate_limit(request: GatewayRequest, decision: RateDecision) -> None:
    await send_error(
        request,
        429,
        "rate_limit_exceeded",
        "Too many requests from this client; retry after the rate limit window resets.",
        [(b"retry-after", str(decision.retry_after).encode()), *decision.headers(), *request.extra],
    )
