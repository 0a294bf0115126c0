"""Verify JSON Web Tokens (RFC 7515, RFC 7519) against a pinned JSON Web Key Set (RFC 7517).

This is the one verifier the gateway and the resource library use. It is strict on
purpose (RFC 8725, "JWT Best Current Practices"):

- the key is chosen only by an exact ``kid`` match in a key set the caller trusts;
- each key carries a pinned algorithm, and the token's ``alg`` must equal it, so
  ``none``, HMAC-with-the-public-key and RSA/EC confusion cannot succeed;
- ``jku``, ``jwk`` and ``x5u`` headers are rejected outright: a token that asks to be
  checked with a key of its own choosing is a forgery attempt, and nothing here ever
  fetches a URL named by a token. ``x5c`` is ignored (never used to find a key);
- ``crit`` is rejected (no extension is understood);
- ``iss`` must match exactly, ``aud`` must contain an accepted audience, and ``exp``,
  ``nbf`` and ``iat`` are checked with a small leeway.

``JwksCache`` fetches and caches the key set of each issuer (discovery, then
``{issuer}/v1/keys`` as Okta's own verifiers do), and ``IssuerVerifier`` puts the two
together: ``claims = await (await cache.get_verifier(config)).verify(token)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ostiary.jose.b64 import b64url_decode

if TYPE_CHECKING:
    import aiohttp  # imported when keys are first fetched: the org server never needs it

log = logging.getLogger(__name__)

MAX_TOKEN_BYTES = 8 * 1024
MIN_RSA_BITS = 2048
RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGS = frozenset({"ES256"})
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


class TokenInvalid(Exception):
    """The token must not be trusted. ``reason`` is a short stable code (for metrics and logs);
    ``description`` is safe to show the caller in ``error_description``."""

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(description or reason)
        self.reason = reason
        self.description = description or reason.replace("_", " ")


class KeysUnavailable(TokenInvalid):
    """The issuer's keys could not be fetched and none are cached: the token cannot be checked."""

    def __init__(self, description: str = "the issuer's signing keys are unavailable") -> None:
        super().__init__("jwks_unavailable", description)


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    alg: str
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class KeySet:
    """The usable signature keys of one JWKS, by ``kid``. Build it with ``KeySet.from_jwks``.

    Each key is judged on its own: a key that is not a public RSA (>= 2048 bits) or
    EC P-256 signature key, has no ``kid``, or carries private members is left out
    and listed in ``rejected`` as ``(kid, reason)``, so one bad entry never takes the
    good keys down with it.
    """

    keys: Mapping[str, VerificationKey]
    rejected: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("a JWKS is a JSON object with a 'keys' array")
        keys: dict[str, VerificationKey] = {}
        rejected: list[tuple[str, str]] = []
        for entry in entries:
            kid = entry.get("kid") if isinstance(entry, Mapping) else None
            if not isinstance(kid, str) or not kid:
                rejected.append(("", "no kid"))
                continue
            try:
                key = _parse_jwk(kid, entry)
            except ValueError as exc:
                rejected.append((kid, str(exc)))
                continue
            if kid in keys:
                rejected.append((kid, "duplicate kid"))
                continue
            keys[kid] = key
        return cls(keys=keys, rejected=tuple(rejected))

    def get(self, kid: str) -> VerificationKey | None:
        return self.keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return isinstance(kid, str) and kid in self.keys

    def __len__(self) -> int:
        return len(self.keys)


def _parse_jwk(kid: str, jwk: Mapping[str, Any]) -> VerificationKey:
    if PRIVATE_MEMBERS & set(jwk):
        raise ValueError("private key members present")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise ValueError(f"use is {use!r}, not 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("key_ops does not allow 'verify'")
    kty = jwk.get("kty")
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise ValueError("alg is not a string")
    if kty == "RSA":
        alg = alg or "RS256"
        if alg not in RSA_ALGS:
            raise ValueError(f"alg {alg!r} is not an RSA signature algorithm")
        public_numbers = rsa.RSAPublicNumbers(_b64_int(jwk, "e"), _b64_int(jwk, "n"))
        rsa_key = public_numbers.public_key()
        if rsa_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA key of {rsa_key.key_size} bits is too short")
        return VerificationKey(kid=kid, alg=alg, public_key=rsa_key)
    if kty == "EC":
        alg = alg or "ES256"
        if alg not in EC_ALGS or jwk.get("crv") != "P-256":
            raise ValueError("only EC keys on P-256 with ES256 are accepted")
        x, y = _b64_int(jwk, "x"), _b64_int(jwk, "y")
        ec_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        return VerificationKey(kid=kid, alg=alg, public_key=ec_key)
    raise ValueError(f"key type {kty!r} is not accepted")


def _b64_int(jwk: Mapping[str, Any], member: str) -> int:
    value = jwk.get(member)
    if not isinstance(value, str) or not value:
        raise ValueError(f"member {member!r} is missing")
    try:
        return int.from_bytes(b64url_decode(value), "big")
    except ValueError as exc:
        raise ValueError(f"member {member!r} is not base64url") from exc


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class ParsedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment), object_pairs_hook=_no_duplicate_members)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenInvalid("malformed", f"the token {what} is not valid base64url JSON") from exc
    if not isinstance(value, dict):
        raise TokenInvalid("malformed", f"the token {what} is not a JSON object")
    return value


def parse_token(token: str) -> ParsedToken:
    """Split and decode a compact JWS and check its header; the signature is *not* checked here."""
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenInvalid("too_large", "the token is too large")
    if not _TOKEN_SHAPE.fullmatch(token):
        raise TokenInvalid("malformed", "the token is not a compact JWS")
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = _json_object(header_b64, "header")
    check_header(header)
    claims = _json_object(claims_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as exc:
        raise TokenInvalid("malformed", "the token signature is not base64url") from exc
    return ParsedToken(
        header=header,
        claims=claims,
        signing_input=f"{header_b64}.{claims_b64}".encode("ascii"),
        signature=signature,
    )


def check_header(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise TokenInvalid("malformed", "the token header has no alg")
    if alg.lower() == "none":
        raise TokenInvalid("alg_not_allowed", "unsigned tokens are not accepted")
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenInvalid("forbidden_header", f"the token header must not carry {name!r}")
    if "crit" in header:
        raise TokenInvalid("forbidden_header", "the token header must not carry 'crit'")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("missing_kid", "the token header has no kid")


def check_signature(parsed: ParsedToken, keys: KeySet) -> None:
    key = keys.get(parsed.kid)
    if key is None:
        raise TokenInvalid("unknown_kid", "no signing key matches the token's kid")
    if parsed.header["alg"] != key.alg:
        raise TokenInvalid("alg_mismatch", "the token's alg does not match its signing key")
    if not _signature_ok(key, parsed.signing_input, parsed.signature):
        raise TokenInvalid("bad_signature", "the token signature is invalid")


def _signature_ok(key: VerificationKey, message: bytes, signature: bytes) -> bool:
    digest = _HASHES[key.alg[2:]]()
    try:
        if isinstance(key.public_key, rsa.RSAPublicKey):
            if key.alg.startswith("PS"):
                pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                key.public_key.verify(signature, message, pss, digest)
            else:
                key.public_key.verify(signature, message, padding.PKCS1v15(), digest)
            return True
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(digest))
        return True
    except InvalidSignature:
        return False


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid("malformed", f"the {name} claim is not a number")
    return float(value)


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str | Sequence[str] | None,
    leeway: int = 30,
    now: float | None = None,
    required_claims: Sequence[str] = ("exp", "iat"),
) -> None:
    """Registered claims (RFC 7519 §4.1). ``audience=None`` skips the audience check."""
    for name in required_claims:
        if name not in claims:
            raise TokenInvalid("missing_claim", f"the token has no {name} claim")
    if claims.get("iss") != issuer:
        raise TokenInvalid("wrong_issuer", "the token was not issued by an accepted issuer")
    if audience is not None:
        accepted = {audience} if isinstance(audience, str) else set(audience)
        aud = claims.get("aud")
        token_audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a in accepted for a in token_audiences):
            raise TokenInvalid("wrong_audience", "the token is not meant for this audience")
    current = time.time() if now is None else now
    exp, nbf, iat = _numeric(claims, "exp"), _numeric(claims, "nbf"), _numeric(claims, "iat")
    if exp is not None and current >= exp + leeway:
        raise TokenInvalid("expired", "the token has expired")
    if nbf is not None and current + leeway < nbf:
        raise TokenInvalid("not_yet_valid", "the token is not valid yet")
    if iat is not None and current + leeway < iat:
        raise TokenInvalid("issued_in_future", "the token was issued in the future")


def verify_jwt(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    audience: str | Sequence[str] | None,
    leeway: int = 30,
    now: float | None = None,
    required_claims: Sequence[str] = ("exp", "iat"),
) -> dict[str, Any]:
    """Return the claims of ``token`` if it is signed by a key of ``keys`` and its claims hold.

    Raises ``TokenInvalid`` otherwise. The signature is checked before any claim, so a
    forged token never learns which claim would have failed.
    """
    parsed = parse_token(token)
    check_signature(parsed, keys)
    check_claims(
        parsed.claims,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        now=now,
        required_claims=required_claims,
    )
    return parsed.claims


# --------------------------------------------------------------------------- JWKS cache


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
