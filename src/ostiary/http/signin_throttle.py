"""Password sign-in throttling, per username and per client address (security review F6).

``/api/v1/authn`` and the hosted ``/login`` (and every change of password that checks the old one:
:func:`count_attempt`) count every attempt twice, on top of the endpoint's
own bucket: against ``signin_user`` for the username in its org (however many addresses guess
at it) and against ``signin_ip`` for the client address (however many orgs, Hosts or usernames
it tries). Neither depends on the Host header. A throttled attempt checks no password and
counts no failure. Off when rate limits are off (``OSTIARY_RATE_LIMITS=off``).

The device grant's ``user_code`` is a short secret too (8 letters of 20, about 2^34.6): every
code typed on the hosted ``/activate`` page counts against ``activate_user`` for the signed-in
user and ``activate_ip`` for the address (:func:`user_code_throttled`, RFC 8628 §5.1), and a
throttled entry looks up no code.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from ostiary.domain.orgs import Org
from ostiary.http.errors import OktaHTTPError
from ostiary.http.ratelimit import RateLimiter, Verdict
from ostiary.http.runtime import runtime

TOO_MANY_SUMMARY = "API call exceeded rate limit due to too many requests."


async def throttled(request: Request, org: Org, username: str) -> Verdict | None:
    """The exhausted verdict when this attempt is over a limit, else None (count it)."""
    limiter: RateLimiter | None = runtime(request).limiter
    if limiter is None:
        return None
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    address = request.client.host if request.client else "-"
    by_user = await limiter.check_bucket(f"{org.id}:{name}", "signin_user")
    by_address = await limiter.check_bucket(address, "signin_ip")
    for verdict in (by_user, by_address):
        if not verdict.allowed:
            return verdict
    return None


async def user_code_throttled(request: Request, org: Org, user_id: str) -> Verdict | None:
    """The exhausted verdict when this ``user_code`` entry is over a limit, else None (count it)."""
    limiter: RateLimiter | None = runtime(request).limiter
    if limiter is None:
        return None
    address = request.client.host if request.client else "-"
    by_user = await limiter.check_bucket(f"{org.id}:{user_id}", "activate_user")
    by_address = await limiter.check_bucket(address, "activate_ip")
    for verdict in (by_user, by_address):
        if not verdict.allowed:
            return verdict
    return None


async def count_attempt(request: Request, org: Org, username: str) -> None:
    """Count one password check for ``username``; 429 E0000047 when a throttle is used up. For
    the other places that check a password (change password: management API, authn, hosted form),
    so that none is an unthrottled password oracle beside sign-in."""
    exhausted = await throttled(request, org, username)
    if exhausted is not None:
        raise too_many_attempts(exhausted)


def rate_limit_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": str(verdict.limit),
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(verdict.reset),
    }


def too_many_attempts(verdict: Verdict) -> OktaHTTPError:
    """Okta's 429 with the headers of the exhausted bucket (the SDKs wait until its reset)."""
    return OktaHTTPError(429, "E0000047", TOO_MANY_SUMMARY, headers=rate_limit_headers(verdict))
