"""A memo of signature checks: a token whose signature a key verified, remembered with its
parsed claims, so that the same token checked again against the same key skips the RSA verify
and the JSON parsing.

Why (issue 20, goal 3): a resource server introspects the same access token on each of its own
requests. Profiled under ``bench/verify_paths.py`` (py-spy), the signature check and the parse
were about a fifth of an introspection's CPU in the serving process. Measured in one run,
alternating rounds against the tree before (``bench/verify_paths.py --rounds 3 --compare-src``,
load average ~10): CPU per introspection 559-645 µs → 332-432 µs (this memo, and nothing else
changed on that path); ratio to a raw RS256 verify loop 0.06 → 0.09 (a second run at load
average 10-12: 389-485 → 278-407 µs, within the spread). In one process, CPU time:
``verify_jwt`` of an RS256 token 70 µs, a hit here 3.5 µs.

What is remembered is only the fact "this exact token string carries a valid signature of this
key object", which never stops being true; everything that can change is still checked on every
use:

- the key must be the very :class:`~ostiary.jose.jwk.VerificationKey` object the caller's current
  :class:`~ostiary.jose.jwk.KeySet` holds for the token's ``kid``: a rotated-out or removed key,
  or a key set reloaded at all, misses and verifies again;
- the registered claims (issuer, audience, ``exp``, ``nbf``, ``iat``) are checked per call by
  :func:`verify_jwt_remembered`, so expiry is never memoized;
- revocation and whether the token's client and user may still use it are the callers' checks
  after this one (``domain.tokens.verification``), unchanged.

The memo is keyed by the SHA-256 of the token (not the token: up to 8 KB each), holds only tokens
whose signature and claims passed (a forger cannot fill it), at most ``max_size`` of them (least
recently used go first) and each for ``ttl`` seconds at most.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.jose.jwk import KeySet, VerificationKey
from ostiary.jose.jws import check_signature, parse_token
from ostiary.jose.jwt_claims import check_claims

MAX_REMEMBERED = 10_000
REMEMBER_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class _Verified:
    kid: str
    key: VerificationKey
    claims: dict[str, Any]


class VerifiedTokens:
    """Token (by its SHA-256) → the key that verified its signature and its parsed claims."""

    def __init__(
        self,
        max_size: int = MAX_REMEMBERED,
        ttl: float = REMEMBER_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: BoundedTTLCache[bytes, _Verified] = BoundedTTLCache(max_size, ttl, clock=clock)

    def __len__(self) -> int:
        return len(self._entries)

    def claims(self, token: str, keys: KeySet) -> dict[str, Any] | None:
        """The remembered claims of ``token`` if ``keys`` still holds the key that verified it;
        ``None`` otherwise (the signature must be checked)."""
        found, entry = self._entries.lookup(_digest(token))
        if not found or entry is None:
            return None
        if keys.get(entry.kid) is not entry.key:
            return None
        return entry.claims

    def remember(self, token: str, key: VerificationKey, claims: dict[str, Any]) -> None:
        self._entries.set(_digest(token), _Verified(key.kid, key, claims))

    def clear(self) -> None:
        self._entries.clear()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def verify_jwt_remembered(
    token: str,
    keys: KeySet,
    memo: VerifiedTokens,
    *,
    issuer: str,
    audience: str | Sequence[str] | None,
    leeway: int = 30,
    now: float | None = None,
    required_claims: Sequence[str] = ("exp", "iat"),
) -> dict[str, Any]:
    """:func:`~ostiary.jose.verify.verify_jwt`, with the signature check and parse taken from
    ``memo`` when it remembers this token for this key; the claims are checked every time.
    Returns a copy of the claims (the remembered ones are never handed out)."""
    claims = memo.claims(token, keys)
    parsed = None
    if claims is None:
        parsed = parse_token(token)
        check_signature(parsed, keys)
        claims = parsed.claims
    check_claims(
        claims, issuer=issuer, audience=audience, leeway=leeway, now=now, required_claims=required_claims
    )
    if parsed is not None:  # verified just now, and its claims hold: remember it
        key = keys.get(parsed.kid)
        if key is not None:
            memo.remember(token, key, claims)
    return dict(claims)
