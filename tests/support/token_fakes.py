"""In-memory fakes of the token path's storage ports (``ostiary.domain.tokens.storage``), and a
:class:`World` that builds a ``GrantContext`` over them: grants and client authentication run
with no database. Rows are the store's model classes, used as plain (transient) objects.

The fakes keep the ports' contracts, the conditional ones included: ``redeem``, ``rotate``,
``keep`` and ``spend_grace`` win only when the row is still in the state the SQL checks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from ostiary.domain.authz.expressions import GroupRef
from ostiary.domain.authz.key_rotation import KeyRing
from ostiary.domain.authz.policy_engine import (
    ALL_CLIENTS,
    ANY_SCOPE,
    CompiledPolicySet,
    PolicyView,
    RuleView,
    ScopeInfo,
)
from ostiary.domain.authz.policy_sets import ServerPolicySet
from ostiary.domain.authz.server_lookup import ServerRecord
from ostiary.domain.clients.client_cache import Client
from ostiary.domain.tokens.grant_context import GrantContext
from ostiary.domain.tokens.storage import TokenStorage
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.jose.jwk import KeySet
from ostiary.jose.signer import encode_jwt
from ostiary.jose.signing_keys import SigningKey, generate_signing_key
from ostiary.store.models.codes import AuthorizationCode
from ostiary.store.models.refresh_tokens import FamilyAccessToken, RefreshToken
from ostiary.timeutil import utcnow

ORG = "00o_org"
ORG_URL = "https://acme.example"
SERVER = "default"
CLIENT = "0oa_client"
USER = "00u_user"
EVERYONE_GROUP = GroupRef(id="00g_everyone", name="Everyone")


class FakeClients:
    def __init__(self, *clients: Client) -> None:
        self.clients = {(c.org_id, c.id): c for c in clients}

    async def active_client(self, org_id: str, client_id: str) -> Client | None:
        client = self.clients.get((org_id, client_id))
        return client if client is not None and client.is_active else None


class FakeAssertionReplay:
    def __init__(self) -> None:
        self.used: dict[tuple[str, str], datetime] = {}

    async def first_use(self, org_id: str, client_id: str, jti_digest: str, expires_at: datetime) -> bool:
        if (client_id, jti_digest) in self.used:
            return False
        self.used[(client_id, jti_digest)] = expires_at
        return True


class FakePolicySets:
    def __init__(self, sets: Mapping[str, ServerPolicySet]) -> None:
        self.sets = dict(sets)
        self.loads = 0

    async def policy_set(self, org_id: str, server_id: str) -> ServerPolicySet:
        self.loads += 1
        return self.sets[server_id]


class FakeScopeGrants:
    def __init__(self, granted: Mapping[str, frozenset[str]] | None = None) -> None:
        self.granted = dict(granted or {})

    async def granted_scopes(self, org_id: str, client_id: str, issuer: str) -> frozenset[str]:
        return self.granted.get(client_id, frozenset())


class FakeUsers:
    def __init__(self, *users: TokenUser) -> None:
        self.users = {u.id: u for u in users}
        self.groups_of: dict[str, list[GroupRef]] = {}
        self.assigned: set[tuple[str, str]] = {(CLIENT, u.id) for u in users}

    async def user(self, org_id: str, user_id: str) -> TokenUser | None:
        user = self.users.get(user_id)
        return user if user is not None and user.org_id == org_id else None

    async def groups(self, org_id: str, user_id: str) -> list[GroupRef]:
        return [EVERYONE_GROUP, *self.groups_of.get(user_id, [])]

    async def app_profile(self, org_id: str, app_id: str, user_id: str) -> dict[str, Any]:
        return {}

    async def org_attributes(self, org_id: str) -> dict[str, Any]:
        return {"id": org_id}

    async def is_assigned(self, org_id: str, app_id: str, user_id: str) -> bool:
        return (app_id, user_id) in self.assigned


class FakeCodes:
    def __init__(self) -> None:
        self.rows: dict[str, AuthorizationCode] = {}
        self.revoked_jtis: dict[str, datetime] = {}

    async def add(self, row: AuthorizationCode, purge_expired_before: datetime) -> None:
        self.rows[row.code_hash] = row

    async def find(self, code_hash: str) -> AuthorizationCode | None:
        return self.rows.get(code_hash)

    async def reload(self, row: AuthorizationCode) -> None:
        return None

    async def redeem(self, row: AuthorizationCode, now: datetime) -> bool:
        if row.used_at is not None or row.expires_at <= now:
            return False
        row.used_at = now
        return True

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
    ) -> AuthorizationCode | None:
        row = self.rows.get(code_hash)
        if (
            row is None
            or (row.org_id, row.server_id, row.client_id, row.redirect_uri)
            != (org_id, server_id, client_id, redirect_uri)
            or row.code_challenge != code_challenge
            or (code_challenge is not None and row.code_challenge_method != "S256")
            or row.used_at is not None
            or row.expires_at <= now
        ):
            return None
        row.used_at = now
        return row

    async def remember_tokens(
        self,
        row: AuthorizationCode,
        access_token_jti: str | None,
        access_token_expires_at: datetime | None,
        refresh_family_id: str | None,
    ) -> None:
        if access_token_jti is not None:
            row.access_token_jti = access_token_jti
            row.access_token_expires_at = access_token_expires_at
        row.refresh_token_family_id = refresh_family_id

    async def revoke_access_token(self, org_id: str, jti: str, expires_at: datetime) -> None:
        self.revoked_jtis[jti] = expires_at


class FakeRefreshTokens:
    def __init__(self) -> None:
        self.rows: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, tuple[str, datetime]] = {}  # jti → (family, exp)
        self.revoked_jtis: set[str] = set()
        self.durable_revocations: list[str] = []

    async def find(self, org_id: str, token_hash: str) -> RefreshToken | None:
        return next(
            (r for r in self.rows.values() if r.token_hash == token_hash and r.org_id == org_id), None
        )

    async def add_family(
        self, first: RefreshToken, purge_dead_before: datetime, access_token: FamilyAccessToken | None = None
    ) -> None:
        self.rows[first.id] = first
        if access_token is not None:
            self.access_tokens[access_token.jti] = (access_token.family_id, access_token.expires_at)

    async def locked(self, row: RefreshToken) -> RefreshToken | None:
        return self.rows.get(row.id)

    async def reload(self, token_id: str) -> RefreshToken | None:
        return self.rows.get(token_id)

    async def rotate(self, row: RefreshToken, successor: RefreshToken, seal: str, now: datetime) -> bool:
        if row.rotated_at is not None or row.revoked_at is not None:
            return False
        row.rotated_at, row.last_used, row.replaced_by, row.successor_seal = now, now, successor.id, seal
        for other in self.rows.values():
            if other.family_id == row.family_id and other.replaced_by == row.id:
                other.successor_seal = None
        self.rows[successor.id] = successor
        return True

    async def keep(
        self, row: RefreshToken, now: datetime, window_minutes: int | None, idle_expires_at: datetime | None
    ) -> bool:
        if row.rotated_at is not None or row.revoked_at is not None:
            return False
        row.last_used, row.window_minutes, row.idle_expires_at = now, window_minutes or None, idle_expires_at
        return True

    async def spend_grace(self, row: RefreshToken, now: datetime) -> bool:
        if row.grace_used_at is not None:
            return False
        row.grace_used_at, row.successor_seal = now, None
        return True

    async def remember_access_token(
        self, org_id: str, family_id: str, jti: str, expires_at: datetime
    ) -> None:
        self.access_tokens[jti] = (family_id, expires_at)

    async def revoke_family(
        self, org_id: str, family_id: str, *, durable: bool = False, now: datetime | None = None
    ) -> int:
        when = now or utcnow()
        members = [r for r in self.rows.values() if r.family_id == family_id and r.revoked_at is None]
        for row in members:
            row.revoked_at = when
        self.revoked_jtis |= {jti for jti, (family, _) in self.access_tokens.items() if family == family_id}
        if durable:
            self.durable_revocations.append(family_id)
        return len(members)

    def family(self, family_id: str) -> list[RefreshToken]:
        return [r for r in self.rows.values() if r.family_id == family_id]


class FakeDecisions:
    def __init__(self) -> None:
        self.remembered: dict[Hashable, tuple[ServerPolicySet, Any]] = {}

    def get(self, key: Hashable) -> tuple[ServerPolicySet, Any] | None:
        return self.remembered.get(key)

    def set(self, key: Hashable, value: tuple[ServerPolicySet, Any]) -> None:
        self.remembered[key] = value


class FakeSigner:
    """Signs on the caller's thread (the real signer's threads are not what these tests test)."""

    async def sign(self, claims: Mapping[str, object], key: SigningKey, *, typ: str | None = None) -> str:
        return encode_jwt(claims, key, typ=typ)


def client(
    client_id: str = CLIENT,
    *,
    grant_types: Sequence[str] = ("authorization_code", "refresh_token", "client_credentials"),
    method: str = "client_secret_basic",
    application_type: str = "web",
    settings: Mapping[str, Any] | None = None,
    status: str = "ACTIVE",
) -> Client:
    return Client(
        id=client_id,
        org_id=ORG,
        name="oidc_client",
        label="Fake app",
        status=status,
        application_type=application_type,
        token_endpoint_auth_method=method,
        pkce_required=False,
        redirect_uris=("https://app.example/cb",),
        post_logout_redirect_uris=(),
        response_types=("code",),
        grant_types=tuple(grant_types),
        settings=MappingProxyType(dict(settings or {})),
        secrets=(),
        keys=(),
    )


def user(user_id: str = USER, *, status: str = "ACTIVE", status_changed: datetime | None = None) -> TokenUser:
    return TokenUser(
        id=user_id,
        org_id=ORG,
        login="ada@example.com",
        status=status,
        profile={"login": "ada@example.com", "email": "ada@example.com", "firstName": "Ada"},
        email_verified=False,
        last_updated=utcnow() - timedelta(days=1),
        status_changed=status_changed,
    )


def server(kind: str = "DEFAULT", server_id: str = SERVER) -> ServerRecord:
    return ServerRecord(
        org_id=ORG,
        id=server_id,
        kind=kind,
        name=server_id,
        status="ACTIVE",
        audiences=("api://default",),
        signing_alg="ES256",
        settings={},
    )


def rule(
    *grant_types: str,
    scopes: Sequence[str] = (ANY_SCOPE,),
    lifetime_minutes: int = 60,
    window_minutes: int | None = None,
    groups: Sequence[str] = (),
) -> RuleView:
    return RuleView(
        id="0pr_rule",
        name="rule",
        priority=1,
        active=True,
        groups_include=frozenset(groups),
        grant_types=frozenset(grant_types),
        scopes=frozenset(scopes),
        access_token_lifetime_minutes=lifetime_minutes,
        refresh_token_window_minutes=window_minutes,
    )


def policy_set(
    *rules: RuleView, scopes: Sequence[str] = ("openid", "offline_access", "read")
) -> ServerPolicySet:
    policy = PolicyView(
        id="00p_policy",
        name="policy",
        priority=1,
        active=True,
        clients_include=frozenset({ALL_CLIENTS}),
        rules=rules,
    )
    return ServerPolicySet(
        org_id=ORG,
        server_id=SERVER,
        policies=CompiledPolicySet([policy]),
        scopes={name: ScopeInfo(name) for name in scopes},
        default_scopes=(),
        claims=(),
        loaded_at=0.0,
    )


_KEY: SigningKey | None = None


def _signing_key() -> SigningKey:
    global _KEY
    if _KEY is None:
        _KEY = generate_signing_key("ES256")
    return _KEY


@dataclass
class World:
    """Everything a grant can see, in memory."""

    clients: FakeClients = field(default_factory=lambda: FakeClients(client()))
    assertions: FakeAssertionReplay = field(default_factory=FakeAssertionReplay)
    policy_sets: FakePolicySets = field(
        default_factory=lambda: FakePolicySets(
            {SERVER: policy_set(rule("client_credentials", "authorization_code", "refresh_token"))}
        )
    )
    decisions: FakeDecisions = field(default_factory=FakeDecisions)
    scope_grants: FakeScopeGrants = field(default_factory=FakeScopeGrants)
    users: FakeUsers = field(default_factory=lambda: FakeUsers(user()))
    codes: FakeCodes = field(default_factory=FakeCodes)
    refresh_tokens: FakeRefreshTokens = field(default_factory=FakeRefreshTokens)

    def storage(self) -> TokenStorage:
        return TokenStorage(
            clients=self.clients,
            assertions=self.assertions,
            policy_sets=self.policy_sets,
            decisions=self.decisions,
            scope_grants=self.scope_grants,
            users=self.users,
            codes=self.codes,
            refresh_tokens=self.refresh_tokens,
        )

    def context(
        self, params: Mapping[str, str], *, the_client: Client | None = None, kind: str = "DEFAULT"
    ) -> GrantContext:
        key = _signing_key()
        issuer = ORG_URL if kind == "ORG" else f"{ORG_URL}/oauth2/{SERVER}"
        return GrantContext(
            storage=self.storage(),
            org_id=ORG,
            org_url=ORG_URL,
            server=server(kind, "org" if kind == "ORG" else SERVER),
            issuer=issuer,
            audiences=[ORG_URL] if kind == "ORG" else ["api://default"],
            client=the_client or next(iter(self.clients.clients.values())),
            params=dict(params),
            ring=KeyRing(active=key, public={}, jwks={}, keyset=KeySet(keys={}), loaded_at=0.0),
            signer=FakeSigner(),  # type: ignore[arg-type]
        )
