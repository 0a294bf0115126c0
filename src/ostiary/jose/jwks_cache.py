"""The key sets of trusted issuers, fetched over HTTP (aiohttp) and cached.

``JwksCache`` fetches and caches the key set of each issuer (discovery, then
``{issuer}/v1/keys`` as Okta's own verifiers do), and ``IssuerVerifier`` puts it together
with the JWS and claim checks: ``claims = await (await cache.get_verifier(config)).verify(token)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ostiary.jose.jwk import KeySet
from ostiary.jose.jws import check_signature, parse_token
from ostiary.jose.jwt_claims import check_claims
from ostiary.jose.token_errors import KeysUnavailable

if TYPE_CHECKING:
    import aiohttp  # imported when keys are first fetched: the org server never needs it

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuerConfig:
    """One trusted issuer: its exact ``iss``, the audiences accepted (``None``: do not check
    ``aud``), and optionally the JWKS URI (otherwise found by discovery)."""

    issuer: str
    audiences: tuple[str, ...] | None = None
    jwks_uri: str | None = None
    leeway: int = 30
    required_claims: tuple[str, ...] = ("exp", "iat")


def okta_jwks_uri(issuer: str) -> str:
    """The keys URL Okta's verifiers build without discovery (wire notes §7):
    ``{issuer}/v1/keys`` for a custom authorization server, ``{org}/oauth2/v1/keys`` for the org."""
    base = issuer.rstrip("/") + "/"
    if "/oauth2/" not in base:
        base += "oauth2/"
    return base + "v1/keys"


def max_age(cache_control: str | None) -> int | None:
    """``max-age`` from a Cache-Control header; ``no-store``/``no-cache`` give 0."""
    if not cache_control:
        return None
    result: int | None = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age":
            with contextlib.suppress(ValueError):
                result = max(0, int(value.strip().strip('"')))
    return result


@dataclass
class _IssuerState:
    keys: KeySet | None = None
    expires_at: float = 0.0
    last_fetch_started: float = float("-inf")
    jwks_uri: str | None = None
    inflight: asyncio.Task[KeySet | None] | None = None
    failures: int = 0


@dataclass
class JwksCache:
    """Key sets of trusted issuers, fetched over HTTP and cached.

    - The TTL is the response's ``Cache-Control: max-age`` bounded to ``[min_ttl, max_ttl]``
      (``default_ttl`` when absent).
    - An expired set keeps being used while one background fetch refreshes it, so a
      slow or dead issuer never stalls requests whose key is known.
    - A token whose ``kid`` is unknown triggers a fetch, at most once per
      ``unknown_kid_interval`` seconds per issuer (a stream of forged kids cannot turn
      the gateway into a load generator against the issuer).
    - Fetches are single-flight: concurrent callers share one request.
    - If the issuer is down, the last good key set is kept, however old.
    """

    session: aiohttp.ClientSession | None = None
    min_ttl: float = 30.0
    max_ttl: float = 24 * 3600.0
    default_ttl: float = 300.0
    unknown_kid_interval: float = 10.0
    failure_backoff: float = 2.0
    timeout: float = 5.0
    max_jwks_bytes: int = 256 * 1024
    clock: Callable[[], float] = time.monotonic
    _states: dict[str, _IssuerState] = field(default_factory=dict, init=False, repr=False)
    _owns_session: bool = field(default=False, init=False, repr=False)

    async def get_verifier(self, config: IssuerConfig) -> IssuerVerifier:
        return IssuerVerifier(config, self)

    async def verify(self, token: str, config: IssuerConfig) -> dict[str, Any]:
        return await IssuerVerifier(config, self).verify(token)

    async def keys_for(self, config: IssuerConfig, kid: str | None = None) -> KeySet:
        """The key set of ``config.issuer``, refreshed if expired or if ``kid`` is not in it."""
        state = self._states.setdefault(config.issuer, _IssuerState())
        now = self.clock()
        if state.keys is None:
            if now - state.last_fetch_started >= self.failure_backoff or state.inflight:
                await self._fetch(config, state)
            if state.keys is None:
                raise KeysUnavailable()
            return state.keys
        if kid is not None and kid not in state.keys:
            if state.inflight is not None or now - state.last_fetch_started >= self.unknown_kid_interval:
                await self._fetch(config, state)
            return state.keys
        if now >= state.expires_at and state.inflight is None:
            self._start_fetch(config, state)
        return state.keys

    async def refresh(self, config: IssuerConfig) -> KeySet | None:
        """Fetch now (joining a fetch in flight); returns the current key set."""
        state = self._states.setdefault(config.issuer, _IssuerState())
        await self._fetch(config, state)
        return state.keys

    async def settle(self) -> None:
        """Wait for background fetches in flight (tests and shutdown)."""
        tasks = [s.inflight for s in self._states.values() if s.inflight is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def invalidate(self, issuer: str | None = None) -> None:
        """Forget cached key sets (all issuers, or one)."""
        if issuer is None:
            self._states.clear()
        else:
            self._states.pop(issuer, None)

    async def close(self) -> None:
        await self.settle()
        if self._owns_session and self.session is not None:
            await self.session.close()
            self.session = None

    def _start_fetch(self, config: IssuerConfig, state: _IssuerState) -> asyncio.Task[KeySet | None]:
        if state.inflight is None:
            state.last_fetch_started = self.clock()
            task = asyncio.get_running_loop().create_task(self._fetch_and_store(config, state))
            state.inflight = task
        return state.inflight

    async def _fetch(self, config: IssuerConfig, state: _IssuerState) -> None:
        await asyncio.shield(self._start_fetch(config, state))

    async def _fetch_and_store(self, config: IssuerConfig, state: _IssuerState) -> KeySet | None:
        try:
            keys, ttl = await self._download(config, state)
        except Exception as exc:
            state.failures += 1
            state.jwks_uri = None
            log.warning("could not fetch the JWKS of %s: %s", config.issuer, exc)
            if state.keys is not None:
                state.expires_at = self.clock() + self.failure_backoff
        else:
            if keys.rejected:
                log.warning("JWKS of %s: keys left out: %s", config.issuer, list(keys.rejected))
            state.keys, state.expires_at, state.failures = keys, self.clock() + ttl, 0
        finally:
            state.inflight = None
        return state.keys

    async def _download(self, config: IssuerConfig, state: _IssuerState) -> tuple[KeySet, float]:
        session = self._session()
        uri = config.jwks_uri or state.jwks_uri or await self._discover(session, config.issuer)
        state.jwks_uri = uri
        body, cache_control = await self._get_json(session, uri)
        age = max_age(cache_control)
        ttl = self.default_ttl if age is None else float(age)
        return KeySet.from_jwks(body), min(max(ttl, self.min_ttl), self.max_ttl)

    async def _discover(self, session: aiohttp.ClientSession, issuer: str) -> str:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document, _ = await self._get_json(session, url)
            uri = document.get("jwks_uri")
            if document.get("issuer") not in (None, issuer) or not isinstance(uri, str) or not uri:
                raise ValueError("the discovery document does not describe this issuer")
            return uri
        except Exception as exc:
            log.info("discovery failed for %s (%s); using the Okta keys URL", issuer, exc)
            return okta_jwks_uri(issuer)

    async def _get_json(self, session: aiohttp.ClientSession, url: str) -> tuple[Any, str | None]:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 3.0))
        headers = {"Accept": "application/json"}
        async with session.get(url, timeout=timeout, headers=headers) as response:
            if response.status != 200:
                raise ValueError(f"GET {url} answered {response.status}")
            body = await response.content.read(self.max_jwks_bytes + 1)
            if len(body) > self.max_jwks_bytes:
                raise ValueError(f"GET {url}: the document is too large")
            return json.loads(body), response.headers.get("Cache-Control")

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            import aiohttp

            self.session = aiohttp.ClientSession()
            self._owns_session = True
        return self.session


class IssuerVerifier:
    """Verifies tokens of one issuer, fetching its keys through a ``JwksCache``."""

    def __init__(self, config: IssuerConfig, cache: JwksCache) -> None:
        self.config = config
        self.cache = cache

    async def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        parsed = parse_token(token)
        keys = await self.cache.keys_for(self.config, parsed.kid)
        check_signature(parsed, keys)
        check_claims(
            parsed.claims,
            issuer=self.config.issuer,
            audience=self.config.audiences,
            leeway=self.config.leeway,
            now=now,
            required_claims=self.config.required_claims,
        )
        return parsed.claims
