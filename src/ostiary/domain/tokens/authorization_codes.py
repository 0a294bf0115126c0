"""Authorization codes (RFC 6749 §4.1.2, §10.5): issued by ``/authorize``, redeemed once at ``/token``.

A code is 32 random bytes; only its SHA-256 digest is stored. It lives :data:`CODE_LIFETIME`
and is bound to the client, the redirect URI, the PKCE challenge, the nonce, the granted
scopes and the session's ``auth_time``. Redemption is conditional (the store's ``redeem``: ``used_at``
still NULL, not expired), so two concurrent requests cannot both redeem a code. A code presented
again after that is a replay: the access token it became is revoked (RFC 6749 §4.1.2).

The tokens a code will become are named when it is issued: the access token's ``jti``, a bound
on its expiry (:func:`_latest_exp`) and, with ``offline_access`` granted, the refresh token
family's id. Why: the redemption then mints with those and writes nothing after its claim to
say what the code became; it was one more ``UPDATE`` per redemption (docs/performance.md,
sixth round).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from ostiary import ids
from ostiary.domain.tokens.access_tokens import MintedId, new_jti
from ostiary.domain.tokens.refresh_tokens import new_family_id, revoke_family
from ostiary.domain.tokens.storage import AuthorizationCodeStore, RefreshTokenStore
from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.repositories.authorization_codes import ClaimedCode
from ostiary.timeutil import token_time, utcnow

CODE_LIFETIME: Final = timedelta(seconds=60)
RETENTION: Final = timedelta(days=1)
"""How long a redeemed or expired code is kept, so that a late replay still revokes its tokens."""
MAX_CODE_LENGTH: Final = 200
OFFLINE_ACCESS: Final = "offline_access"
NAMED_EXPIRY_SLACK: Final = timedelta(minutes=5)


def _latest_exp(access_token_lifetime: int) -> datetime:
    """A bound on the ``exp`` of the access token a code issued now becomes, on the token clock
    (:func:`~ostiary.timeutil.token_time`, which tests can move): minted before the code expires,
    plus :data:`NAMED_EXPIRY_SLACK` for the moments between the claim and the minting (a claim
    in the code's last second) and the clock moving. A replay's revocation record lives until
    this bound: outliving the token is harmless, ending before it is not."""
    issued = datetime.fromtimestamp(token_time(), UTC)
    return issued + CODE_LIFETIME + timedelta(seconds=access_token_lifetime) + NAMED_EXPIRY_SLACK


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeGrant:
    """What a code stands for, fixed when it is issued."""

    org_id: str
    server_id: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: Sequence[str]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    amr: Sequence[str]
    access_token_lifetime: int
    refresh_token_lifetime_minutes: int | None
    refresh_token_window_minutes: int | None


async def issue_code(store: AuthorizationCodeStore, grant: CodeGrant) -> str:
    """A new code for ``grant``; the org's long-expired codes are purged on the way."""
    now = utcnow()
    code = ids.random_token(32)
    row = AuthorizationCode(
        code_hash=digest(code),
        org_id=grant.org_id,
        server_id=grant.server_id,
        client_id=grant.client_id,
        user_id=grant.user_id,
        redirect_uri=grant.redirect_uri,
        scopes=list(grant.scopes),
        nonce=grant.nonce,
        code_challenge=grant.code_challenge,
        code_challenge_method=grant.code_challenge_method,
        auth_time=grant.auth_time,
        amr=list(grant.amr),
        access_token_lifetime=grant.access_token_lifetime,
        refresh_token_lifetime_minutes=grant.refresh_token_lifetime_minutes,
        refresh_token_window_minutes=grant.refresh_token_window_minutes,
        created=now,
        expires_at=now + CODE_LIFETIME,
        access_token_jti=new_jti("AT"),
        access_token_expires_at=_latest_exp(grant.access_token_lifetime),
        refresh_token_family_id=new_family_id() if OFFLINE_ACCESS in grant.scopes else None,
    )
    await store.add(row, now - RETENTION)
    return code


async def find_code(
    store: AuthorizationCodeStore, org_id: str, server_id: str, code: str
) -> AuthorizationCode | None:
    """The code's row at this server (used, expired or not), or None."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    row = await store.find(digest(code))
    if row is None or row.org_id != org_id or row.server_id != server_id:
        return None
    return row


async def claim_code(
    store: AuthorizationCodeStore,
    org_id: str,
    server_id: str,
    client_id: str,
    code: str,
    redirect_uri: str,
    code_challenge: str | None,
) -> ClaimedCode | None:
    """The fast redemption: the code's row, marked used, when it is exactly what this request
    may redeem (this server and client, this ``redirect_uri``, ``code_challenge`` the stored
    challenge or ``None`` for a code without one), unused and unexpired; else None, and
    nothing written, so that the caller's slow path names the reason and handles a replay.

    Why: a redemption was a ``SELECT`` of the code and a conditional ``UPDATE``, each a round
    trip (a thread hop on SQLite); the happy path is now one ``UPDATE … RETURNING``.
    """
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    return await store.claim(
        digest(code),
        org_id=org_id,
        server_id=server_id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        now=utcnow(),
    )


def is_expired(row: AuthorizationCode, now: datetime | None = None) -> bool:
    return row.expires_at <= (now or utcnow())


async def mark_used(store: AuthorizationCodeStore, row: AuthorizationCode) -> bool:
    """Redeem the code: True for the one request that wins, False if it was used meanwhile."""
    return await store.redeem(row, utcnow())


async def remember_tokens(
    store: AuthorizationCodeStore,
    row: ClaimedCode,
    access_token: MintedId | None,
    refresh_family_id: str | None,
) -> None:
    """Note which tokens the code became, for :func:`revoke_replayed`: only for a code issued
    before its tokens were named at issue (an older version's, still unexpired at an upgrade)."""
    jti = access_token.jti if access_token is not None else None
    expires_at = access_token.expires_at if access_token is not None else None
    await store.remember_tokens(row, jti, expires_at, refresh_family_id)


async def revoke_replayed(
    codes: AuthorizationCodeStore, refresh_tokens: RefreshTokenStore, row: AuthorizationCode
) -> None:
    """A used code came back: revoke the access token (and refresh tokens) issued from it.

    Both revocations are durable: applied again just before the transaction commits, so the
    token endpoint rolling back the failed grant's savepoint does not undo them.
    """
    if row.access_token_jti is not None and row.access_token_expires_at is not None:
        whole_seconds = datetime.fromtimestamp(int(row.access_token_expires_at.timestamp()), UTC)
        await codes.revoke_access_token(row.org_id, row.access_token_jti, whole_seconds)
    if row.refresh_token_family_id is not None:
        await revoke_family(refresh_tokens, row.org_id, row.refresh_token_family_id, durable=True)
