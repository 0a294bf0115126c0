"""What the gateway derives from one configuration, swapped as a whole on reload."""

from __future__ import annotations

from dataclasses import dataclass, field

from ostiary.gateway.config import GatewayConfig, RouteConfig
from ostiary.gateway.ratelimit import RateLimiter, build_rate_limiter
from ostiary.gateway.relay import REQUEST_HEADERS_NOT_FORWARDED
from ostiary.gateway.routing import Router
from ostiary.gateway.upstream import Origin
from ostiary.gateway.verifier import GatewayVerifier
from ostiary.jose.verify import JwksCache


@dataclass
class GatewayState:
    """Everything derived from one configuration; replaced as a whole on reload."""

    config: GatewayConfig
    router: Router
    verifier: GatewayVerifier
    limiter: RateLimiter | None
    strip_headers: frozenset[bytes]
    origins: dict[str, Origin]
    fast_routes: dict[tuple[str, str], RouteConfig] = field(default_factory=dict)
    """``(method, path)`` → route for requests the fast path may relay (:mod:`.fast_path`);
    it lives and dies with this configuration, so a reload starts it afresh."""


def build_state(config: GatewayConfig, jwks: JwksCache, previous: GatewayState | None) -> GatewayState:
    """A new state for ``config``; the rate limiter (and its counts) stays if its settings did not change."""
    limiter = (
        previous.limiter
        if previous is not None and previous.config.rate_limit == config.rate_limit
        else build_rate_limiter(config.rate_limit)
    )
    return GatewayState(
        config=config,
        router=Router(config.routes),
        verifier=GatewayVerifier(config.issuers, jwks, config.token_cache),
        limiter=limiter,
        strip_headers=frozenset(
            name.encode("latin-1") for name in REQUEST_HEADERS_NOT_FORWARDED | config.identity_headers
        ),
        origins={route.upstream: Origin.from_url(route.upstream) for route in config.routes},
    )
