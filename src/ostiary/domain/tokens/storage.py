"""The storage the token path needs, one narrow interface per concern (as fosite's
``handler/oauth2/storage.go``): the grants and client authentication depend on these
protocols, not on a database session, so they run over in-memory fakes in unit tests.

The SQL implementations live in ``store/repositories`` (row locks, conditional writes,
``ON CONFLICT`` and the dialect switch are theirs); the cached lookups (clients, policy
sets, scope grants) put the runtime's caches in front of them. The runtime composes one
:class:`TokenStorage` per transaction (``Runtime.token_storage``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.models.device_codes import DeviceCode
from ostiary.store.models.refresh_tokens import FamilyAccessToken, RefreshToken
from ostiary.store.repositories.authorization_codes import ClaimedCode

if TYPE_CHECKING:
    from ostiary.domain.authz.expressions import GroupRef
    from ostiary.domain.authz.policy_sets import ServerPolicySet
    from ostiary.domain.clients.client_cache import Client
    from ostiary.domain.tokens.token_user import TokenUser


class ClientDirectory(Protocol):
    """Clients as the token, introspect and revoke endpoints see them."""

    async def active_client(self, org_id: str, client_id: str) -> Client | None:
        """The ACTIVE app ``client_id`` of ``org_id``, or None."""
        ...


class AssertionReplay(Protocol):
    """Used client assertion ``jti``\\ s (RFC 7523 §3, item 7)."""

    async def first_use(self, org_id: str, client_id: str, jti_digest: str, expires_at: datetime) -> bool:
        """Record the ``jti`` until ``expires_at``; False when it was recorded before (also by a
        concurrent request or another process)."""
        ...


class PolicySets(Protocol):
    """A server's compiled access policies, scopes and claims."""

    async def policy_set(self, org_id: str, server_id: str) -> ServerPolicySet: ...


class DecisionMemo(Protocol):
    """Client credentials decisions remembered with the policy set snapshot they came from."""

    def get(self, key: Hashable) -> tuple[ServerPolicySet, Any] | None: ...

    def set(self, key: Hashable, value: tuple[ServerPolicySet, Any]) -> None: ...


class ScopeGrants(Protocol):
    """The okta.* scopes an admin granted to a client (``/api/v1/apps/{id}/grants``)."""

    async def granted_scopes(self, org_id: str, client_id: str, issuer: str) -> frozenset[str]: ...


class TokenUsers(Protocol):
    """What tokens need to know of a user: status, groups, app profile, assignment."""

    async def user(self, org_id: str, user_id: str) -> TokenUser | None: ...

    async def groups(self, org_id: str, user_id: str) -> list[GroupRef]:
        """The user's groups, Everyone included, in id order."""
        ...

    async def app_profile(self, org_id: str, app_id: str, user_id: str) -> dict[str, Any]:
        """The user's profile in the app when assigned directly, else ``{}``."""
        ...

    async def org_attributes(self, org_id: str) -> dict[str, Any]:
        """``org.*`` for expressions."""
        ...

    async def is_assigned(self, org_id: str, app_id: str, user_id: str) -> bool:
        """Assigned to the app directly or through a group."""
        ...


class AuthorizationCodeStore(Protocol):
    """Authorization codes, by the SHA-256 digest of the code."""

    async def add(self, row: AuthorizationCode, purge_expired_before: datetime) -> None: ...

    async def find(self, code_hash: str) -> AuthorizationCode | None: ...

    async def reload(self, row: AuthorizationCode) -> None:
        """Read ``row`` afresh (another request redeemed it meanwhile)."""
        ...

    async def redeem(self, row: AuthorizationCode, now: datetime) -> bool:
        """Mark the code used: True for the one request that wins (it was unused and unexpired)."""
        ...

    async def claim(
        self,
        code_hash: str,
        *,
        org_id: str,
        server_id: str,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        now: datetime,
    ) -> ClaimedCode | None:
        """Mark the code used in one statement when it is this server's, issued to this client
        for this ``redirect_uri``, with this PKCE challenge (``None``: none), unused and
        unexpired: its row for the one request that wins, else None (the caller then finds
        out why, the slow way)."""
        ...

    async def remember_tokens(
        self,
        row: ClaimedCode,
        access_token_jti: str | None,
        access_token_expires_at: datetime | None,
        refresh_family_id: str | None,
    ) -> None: ...

    async def revoke_access_token(self, org_id: str, jti: str, expires_at: datetime) -> None:
        """Revoke the access token now and again when the transaction commits (durably: the
        endpoint rolling back the refused grant must not undo it)."""
        ...


class DeviceCodeStore(Protocol):
    """Device authorization requests (RFC 8628), by the SHA-256 digest of the device code."""

    async def find(self, device_code_hash: str) -> DeviceCode | None: ...

    async def redeem(self, row: DeviceCode) -> bool:
        """Mark an approved request used: True for the one poll that wins."""
        ...


class RefreshTokenStore(Protocol):
    """Refresh token rows (``domain.tokens.refresh_tokens`` has the rules)."""

    async def find(self, org_id: str, token_hash: str) -> RefreshToken | None: ...

    async def add_family(
        self, first: RefreshToken, purge_dead_before: datetime, access_token: FamilyAccessToken | None = None
    ) -> None:
        """Store a new family's first token (and the access token minted with it); the user's
        families dead before ``purge_dead_before`` go."""
        ...

    async def locked(self, row: RefreshToken) -> RefreshToken | None:
        """Lock ``row``'s family against concurrent writers, then read ``row`` afresh."""
        ...

    async def reload(self, token_id: str) -> RefreshToken | None: ...

    async def rotate(self, row: RefreshToken, successor: RefreshToken, seal: str, now: datetime) -> bool:
        """Replace ``row`` by ``successor`` unless it was rotated or revoked meanwhile."""
        ...

    async def keep(
        self, row: RefreshToken, now: datetime, window_minutes: int | None, idle_expires_at: datetime | None
    ) -> bool:
        """Note a use of a static token unless it was rotated or revoked meanwhile."""
        ...

    async def spend_grace(self, row: RefreshToken, now: datetime) -> bool:
        """Use ``row``'s one grace retry unless it was used already."""
        ...

    async def remember_access_token(
        self, org_id: str, family_id: str, jti: str, expires_at: datetime
    ) -> None: ...

    async def revoke_family(
        self, org_id: str, family_id: str, *, durable: bool = False, now: datetime | None = None
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class TokenStorage:
    """Every port of the token path, for one transaction."""

    clients: ClientDirectory
    assertions: AssertionReplay
    policy_sets: PolicySets
    decisions: DecisionMemo
    scope_grants: ScopeGrants
    users: TokenUsers
    codes: AuthorizationCodeStore
    refresh_tokens: RefreshTokenStore
    devices: DeviceCodeStore | None = None
    """None where the device grant is not served (in-memory fakes)."""


__all__ = [
    "AssertionReplay",
    "AuthorizationCodeStore",
    "ClientDirectory",
    "DecisionMemo",
    "DeviceCodeStore",
    "PolicySets",
    "RefreshTokenStore",
    "ScopeGrants",
    "TokenStorage",
    "TokenUsers",
]
