"""The per-client limit of the token endpoint (security review F3), counted only once the client
is *verified*.

Okta caps what one OAuth 2.0 app may take of an org-wide bucket ("Token and OAuth 2.0 app rate
limits": by default half of it), so that one runaway or abused client cannot use up the token
endpoint for every other app of the org. ``EdgeMiddleware`` counts every token request against
the per-org/address ``oauth2`` bucket and leaves a :class:`TokenLimit` in ``scope["state"]``
(:data:`TOKEN_LIMIT`); the token endpoint then counts the request against ``token_client``:

* under ``{org}:c:{client id}`` once the client has authenticated (:meth:`TokenLimit.verified`);
* under ``{org}:ip:{address}`` when authentication failed (:meth:`TokenLimit.failed`), and the
  ``invalid_client`` answer becomes a 429 once that address is over the limit.

Why not the client id the request *names* (as before): read unverified, it let anyone spend a
victim client's bucket by sending its id with a wrong secret, and dodge the limit with invented
ids. A failed attempt now costs only its own address's bucket, and only an authenticated client
spends its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ostiary.http.ratelimit import RateLimiter, Verdict

TOKEN_LIMIT = "ostiary.token_limit"
"""Key in ``scope["state"]`` of the request's :class:`TokenLimit` (absent: no limits)."""
BUCKET = "token_client"


@dataclass(slots=True)
class TokenLimit:
    """What the token endpoint needs to count one request: the limiter, the org's rate-limit
    key, the client's address and the verdict of the edge's per-address bucket. After a
    count, :attr:`headers` are the ``X-Rate-Limit-*`` to answer with (the tighter bucket's;
    none when the edge's, which it sends anyway, is the tighter)."""

    limiter: RateLimiter
    org_key: str
    ip: str
    edge: Verdict
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def verified(self, client_id: str) -> Verdict:
        """Count a request of an authenticated client."""
        return self._tighter(await self.limiter.check_bucket(f"{self.org_key}:c:{client_id}", BUCKET))

    async def failed(self) -> Verdict:
        """Count a request whose client failed to authenticate, by its address."""
        return self._tighter(await self.limiter.check_bucket(f"{self.org_key}:ip:{self.ip}", BUCKET))

    def _tighter(self, verdict: Verdict) -> Verdict:
        if verdict.remaining < self.edge.remaining:
            self.headers = [
                (b"x-rate-limit-limit", str(verdict.limit).encode()),
                (b"x-rate-limit-remaining", str(max(verdict.remaining, 0)).encode()),
                (b"x-rate-limit-reset", str(verdict.reset).encode()),
            ]
        return verdict


class ClientRateLimited(Exception):
    """The client (or, unauthenticated, the address) is over its ``token_client`` limit: the
    endpoint answers Okta's 429 ``E0000047``."""
