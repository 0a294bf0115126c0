"""What a grant handler receives (:class:`GrantContext`) and returns (:class:`TokenResponse`,
RFC 6749 §5.1), outside the ``grants`` package so that token minting
(``domain.tokens.user_tokens``, used by the grants and by the authorize endpoint) can use them
without importing the grant table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ostiary.domain.authz.key_rotation import KeyRing
from ostiary.domain.authz.server_lookup import ServerRecord
from ostiary.domain.clients.client_cache import Client
from ostiary.domain.tokens.storage import TokenStorage
from ostiary.jose.signer import Signer


@dataclass(frozen=True)
class GrantContext:
    storage: TokenStorage
    """Every storage port a grant may use (never a database session)."""
    org_id: str
    org_url: str
    server: ServerRecord
    issuer: str
    audiences: Sequence[str]
    client: Client
    params: Mapping[str, str]
    ring: KeyRing
    signer: Signer


@dataclass
class TokenResponse:
    access_token: str
    expires_in: int
    scope: Sequence[str]
    token_type: str = "Bearer"
    refresh_token: str | None = None
    id_token: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "access_token": self.access_token,
            "scope": " ".join(self.scope),
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        return body
