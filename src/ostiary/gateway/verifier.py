"""Who is calling: the gateway's view of a verified access token.

``GatewayVerifier`` picks the configured issuer named by the token's ``iss`` (any other
issuer is refused before a key is looked up), refuses tokens marked as another kind than
an access token (ID tokens: ``jose.token_kind``), verifies the token with ``jose.verify``
and keeps the result in a small cache of recently verified tokens.

Why the cache: clients send the same access token with every call for up to an hour,
and re-verifying it each time (base64, JSON, an RSA verification) nearly doubles the
gateway's CPU per proxied call (``bench/gateway.py --token-cache-ttl 0``: about 0.22 ms
instead of 0.12 ms on the 2-core CI machine). An entry is keyed by the
exact token string, so only a byte-identical token can hit it; it lives at most
``ttl`` seconds and never past the token's ``exp`` (plus leeway), so time checks hold
as they would on re-verification. The one behaviour it changes: a key removed from
the issuer's JWKS still covers its cached tokens for up to ``ttl`` seconds. Set
``token_cache.ttl: 0`` to turn the cache off.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ostiary.bearer import granted_scopes
from ostiary.gateway.config import IssuerSettings, TokenCacheConfig
from ostiary.jose.token_kind import check_access_token
from ostiary.jose.verify import (
    IssuerConfig,
    JwksCache,
    TokenInvalid,
    check_claims,
    check_signature,
    parse_token,
)


@dataclass(frozen=True)
class Principal:
    claims: Mapping[str, Any]
    scopes: frozenset[str]
    forwarded: dict[int, list[tuple[bytes, bytes]]] = field(default_factory=dict, compare=False, repr=False)
    """Claim headers already rendered, by ``id`` of a route's ``forward_claims`` (tokens are cached,
    so each is rendered once per token and route mapping)."""

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    @property
    def client_id(self) -> str | None:
        """``cid`` (the OAuth client), else ``sub``: the key for per-client rate limits."""
        for name in ("cid", "client_id", "sub"):
            value = self.claims.get(name)
            if isinstance(value, str) and value:
                return value
        return None


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Granted scopes: Okta's ``scp`` array, or a space-separated ``scp``/``scope`` string."""
    return frozenset(granted_scopes(claims))


class GatewayVerifier:
    def __init__(
        self,
        issuers: Sequence[IssuerSettings],
        jwks: JwksCache,
        cache: TokenCacheConfig = TokenCacheConfig(),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jwks = jwks
        self.issuers = {
            i.issuer: IssuerConfig(
                issuer=i.issuer, audiences=i.audiences, jwks_uri=i.jwks_uri, leeway=i.leeway
            )
            for i in issuers
        }
        self.cache_size = cache.size
        self.cache_ttl = cache.ttl
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def cached(self, token: str) -> Principal | None:
        """The principal of ``token`` if it was verified and its cache entry is still valid
        (never past the token's ``exp`` plus leeway, nor the cache's ``ttl``), else None.
        The gateway's fast path (:mod:`.fast_path`) asks only this, never verifying."""
        cached = self._cache.get(token)
        if cached is not None:
            if self.clock() < cached[0]:
                self._cache.move_to_end(token)
                return cached[1]
            del self._cache[token]
        return None

    async def authenticate(self, token: str) -> Principal:
        now = self.clock()
        cached = self._cache.get(token)
        if cached is not None:
            if now < cached[0]:
                self._cache.move_to_end(token)
                return cached[1]
            del self._cache[token]
        parsed = parse_token(token)
        iss = parsed.claims.get("iss")
        config = self.issuers.get(iss) if isinstance(iss, str) else None
        if config is None:
            raise TokenInvalid("wrong_issuer", "the token was not issued by an accepted issuer")
        check_access_token(parsed.header, parsed.claims)
        keys = await self.jwks.keys_for(config, parsed.kid)
        check_signature(parsed, keys)
        check_claims(
            parsed.claims,
            issuer=config.issuer,
            audience=config.audiences,
            leeway=config.leeway,
            now=now,
            required_claims=config.required_claims,
        )
        principal = Principal(claims=parsed.claims, scopes=scopes_of(parsed.claims))
        self._remember(token, principal, now, config.leeway)
        return principal

    def _remember(self, token: str, principal: Principal, now: float, leeway: int) -> None:
        if self.cache_ttl <= 0 or self.cache_size <= 0:
            return
        valid_until = now + self.cache_ttl
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            valid_until = min(valid_until, float(exp) + leeway)
        self._cache[token] = (valid_until, principal)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
