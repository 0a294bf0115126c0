"""The grant handlers (RFC 6749 §4.1.3, §4.4, §6) and client authentication (§2.3, RFC 7523)
over in-memory storage (``token_fakes``): one table per grant, each row one request and the
answer it must get. The same grants run against SQLite and PostgreSQL in the HTTP tests
(``test_token_endpoint_http``, ``test_code_grant``, ``test_refresh_tokens``)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from ostiary import timeutil
from ostiary.domain.authz.policy_engine import POLICY_DENIED, UNKNOWN_SCOPE
from ostiary.domain.clients import authentication
from ostiary.domain.clients.client_cache import SecretRecord
from ostiary.domain.clients.client_secrets import digest
from ostiary.domain.oauth_errors import OAuthError
from ostiary.domain.tokens import pkce, refresh_tokens
from ostiary.domain.tokens.authorization_codes import CODE_LIFETIME, CodeGrant, issue_code
from ostiary.domain.tokens.grant_context import TokenResponse
from ostiary.domain.tokens.grants import authorization_code, client_credentials, refresh_token
from ostiary.timeutil import utcnow
from tests.support import token_fakes as fakes
from tests.support.authorize import claims as minted_claims
from tests.support.token_fakes import CLIENT, ORG, SERVER, USER, World


async def _outcome(world: World, grant: Any, params: dict[str, str], **context: Any) -> TokenResponse | str:
    """The token response, or ``"error: description"`` for an OAuth error."""
    try:
        return await grant(world.context(params, **context))  # type: ignore[no-any-return]
    except OAuthError as exc:
        return f"{exc.error}: {exc.description}"


# --- client credentials (RFC 6749 §4.4) --------------------------------------------------------


@dataclass(frozen=True)
class CC:
    name: str
    scope: str
    expected: str  # "granted: scopes expires_in" or "error: description"
    kind: str = "DEFAULT"
    rule: Callable[[], Any] = lambda: fakes.rule("client_credentials")
    granted: frozenset[str] = frozenset()


CLIENT_CREDENTIALS = [
    CC("a scope the rule allows", "read", "granted: read 3600"),
    CC(
        "the rule sets the lifetime",
        "read",
        "granted: read 300",
        rule=lambda: fakes.rule("client_credentials", lifetime_minutes=5),
    ),
    CC("an unknown scope", "write", f"invalid_scope: {UNKNOWN_SCOPE}"),
    CC(
        "no rule for the grant type",
        "read",
        f"access_denied: {POLICY_DENIED}",
        rule=lambda: fakes.rule("authorization_code"),
    ),
    CC(
        "a scope the rule does not list",
        "read",
        f"access_denied: {POLICY_DENIED}",
        rule=lambda: fakes.rule("client_credentials", scopes=["openid"]),
    ),
    CC(
        "org server: a granted okta scope",
        "okta.users.read",
        "granted: okta.users.read 3600",
        kind="ORG",
        granted=frozenset({"okta.users.read"}),
    ),
    CC(
        "org server: an okta scope not granted",
        "okta.users.read",
        "invalid_scope: The requested scopes are not granted to the client: okta.users.read.",
        kind="ORG",
    ),
    CC(
        "org server: not an okta scope",
        "read",
        "invalid_scope: The requested scope is invalid, unknown, or malformed.",
        kind="ORG",
    ),
    CC(
        "org server: no scope",
        "",
        "invalid_scope: The `scope` parameter is required and can't be empty.",
        kind="ORG",
    ),
]


@pytest.mark.parametrize("case", CLIENT_CREDENTIALS, ids=lambda case: case.name)
async def test_client_credentials(case: CC) -> None:
    world = World(
        policy_sets=fakes.FakePolicySets({SERVER: fakes.policy_set(case.rule())}),
        scope_grants=fakes.FakeScopeGrants({CLIENT: case.granted}),
    )
    got = await _outcome(world, client_credentials.issue, {"scope": case.scope}, kind=case.kind)
    if isinstance(got, TokenResponse):
        claims = minted_claims(got.access_token)
        assert claims["cid"] == CLIENT and claims["scp"] == list(got.scope) and "uid" not in claims
        got = f"granted: {' '.join(got.scope)} {got.expires_in}"
    assert got == case.expected


async def test_client_credentials_decides_again_when_the_policy_set_is_replaced() -> None:
    world = World()
    assert (await client_credentials.issue(world.context({"scope": "read"}))).scope == ("read",)
    world.policy_sets.sets[SERVER] = fakes.policy_set(fakes.rule("authorization_code"))
    denied = await _outcome(world, client_credentials.issue, {"scope": "read"})
    assert denied == f"access_denied: {POLICY_DENIED}"


async def test_client_credentials_reuses_a_decision_while_its_policy_set_stands() -> None:
    world = World()
    first = await client_credentials.issue(world.context({"scope": "read"}))
    [(key, (snapshot, grant))] = list(world.decisions.remembered.items())
    world.decisions.remembered[key] = (snapshot, replace(grant, access_token_lifetime=42))
    second = await client_credentials.issue(world.context({"scope": "read"}))
    assert (first.expires_in, second.expires_in) == (3600, 42)


# --- authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6) ---------------------------------------

VERIFIER = "a" * 43
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
REDIRECT = "https://app.example/cb"


def _code_grant(**changes: Any) -> CodeGrant:
    grant = CodeGrant(
        org_id=ORG,
        server_id=SERVER,
        client_id=CLIENT,
        user_id=USER,
        redirect_uri=REDIRECT,
        scopes=("openid", "offline_access"),
        nonce="n-1",
        code_challenge=CHALLENGE,
        code_challenge_method=pkce.S256,
        auth_time=1_700_000_000,
        amr=("pwd",),
        access_token_lifetime=600,
        refresh_token_lifetime_minutes=None,
        refresh_token_window_minutes=60,
    )
    return replace(grant, **changes)


@dataclass(frozen=True)
class Code:
    name: str
    expected: str
    params: dict[str, str | None]
    grant: dict[str, Any] | None = None
    prepare: Callable[[World, str], None] = lambda world, code: None


def _expire(world: World, code: str) -> None:
    for row in world.codes.rows.values():
        row.expires_at = utcnow() - timedelta(seconds=1)


def _suspend(world: World, code: str) -> None:
    world.users.users[USER] = fakes.user(status="SUSPENDED")


AUTHORIZATION_CODE = [
    Code("the code with its verifier", "granted: openid offline_access 600 +id_token +refresh_token", {}),
    Code(
        "no offline_access: no refresh token",
        "granted: openid 600 +id_token",
        {},
        grant={"scopes": ("openid",)},
    ),
    Code("no code", "invalid_request: The `code` parameter is required.", {"code": None}),
    Code(
        "no redirect_uri",
        "invalid_request: The `redirect_uri` parameter is required.",
        {"redirect_uri": None},
    ),
    Code("an unknown code", f"invalid_grant: {authorization_code.INVALID_CODE}", {"code": "not-a-code"}),
    Code(
        "another client's code",
        f"invalid_grant: {authorization_code.OTHER_CLIENT}",
        {},
        grant={"client_id": "0oa_other"},
    ),
    Code(
        "another redirect_uri",
        f"invalid_grant: {authorization_code.REDIRECT_MISMATCH}",
        {"redirect_uri": REDIRECT + "/x"},
    ),
    Code("a wrong verifier", f"invalid_grant: {authorization_code.PKCE_FAILED}", {"code_verifier": "b" * 43}),
    Code("no verifier", f"invalid_grant: {authorization_code.PKCE_FAILED}", {"code_verifier": None}),
    Code("an expired code", f"invalid_grant: {authorization_code.INVALID_CODE}", {}, prepare=_expire),
    Code("a suspended user", f"invalid_grant: {authorization_code.INVALID_CODE}", {}, prepare=_suspend),
]


@pytest.mark.parametrize("case", AUTHORIZATION_CODE, ids=lambda case: case.name)
async def test_authorization_code(case: Code) -> None:
    world = World()
    code = await issue_code(world.codes, _code_grant(**(case.grant or {})))
    case.prepare(world, code)
    sent = {"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    sent.update(case.params)  # type: ignore[arg-type]
    params = {name: value for name, value in sent.items() if value is not None}
    got = await _outcome(world, authorization_code.issue, params)
    if isinstance(got, TokenResponse):
        extras = [f"+{name}" for name in ("id_token", "refresh_token") if getattr(got, name)]
        got = " ".join(["granted:", *got.scope, str(got.expires_in), *extras])
    assert got == case.expected


async def test_a_replayed_code_revokes_the_tokens_it_became() -> None:
    world = World()
    code = await issue_code(world.codes, _code_grant())
    params = {"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    first = await authorization_code.issue(world.context(params))
    jti = minted_claims(first.access_token)["jti"]
    [family] = {row.family_id for row in world.refresh_tokens.rows.values()}
    assert world.refresh_tokens.access_tokens[jti][0] == family

    replay = await _outcome(world, authorization_code.issue, params)

    assert replay == f"invalid_grant: {authorization_code.INVALID_CODE}"
    assert jti in world.codes.revoked_jtis
    assert world.refresh_tokens.durable_revocations == [family]
    assert all(row.revoked_at is not None for row in world.refresh_tokens.family(family))


async def test_a_code_issued_names_the_tokens_it_becomes() -> None:
    """The access token's ``jti`` and the refresh family are chosen at issue, so a redemption
    writes nothing after its claim; the stored expiry bounds the token's ``exp``."""
    world = World()
    code = await issue_code(world.codes, _code_grant())
    [row] = world.codes.rows.values()
    named = (row.access_token_jti, row.access_token_expires_at, row.refresh_token_family_id)
    params = {"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    first = await authorization_code.issue(world.context(params))
    claims = minted_claims(first.access_token)
    assert claims["jti"] == named[0]
    assert named[1] is not None and claims["exp"] <= named[1].timestamp()
    assert {r.family_id for r in world.refresh_tokens.rows.values()} == {named[2]}
    assert (row.access_token_jti, row.access_token_expires_at, row.refresh_token_family_id) == named


async def test_the_named_expiry_bounds_a_token_minted_as_the_code_expires() -> None:
    """A code claimed in its last second mints its token a moment later: the stored bound (a
    replay's revocation record lives until it) must still not end before the token does."""
    world = World()
    code = await issue_code(world.codes, _code_grant())
    [row] = world.codes.rows.values()
    assert row.access_token_expires_at is not None
    params = {"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    timeutil.set_token_clock_skew(CODE_LIFETIME.total_seconds() + 2)  # the token clock, late
    try:
        first = await authorization_code.issue(world.context(params))
    finally:
        timeutil.set_token_clock_skew(0)
    assert minted_claims(first.access_token)["exp"] <= row.access_token_expires_at.timestamp()


async def test_a_code_issued_before_tokens_were_named_still_revokes_them_on_replay() -> None:
    """A code from an older version (no names stored; it lives 60 s across an upgrade) is
    redeemed, and the tokens it became are written after: a replay still revokes them."""
    world = World()
    code = await issue_code(world.codes, _code_grant())
    [row] = world.codes.rows.values()
    row.access_token_jti = row.access_token_expires_at = row.refresh_token_family_id = None
    params = {"code": code, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    first = await authorization_code.issue(world.context(params))
    jti = minted_claims(first.access_token)["jti"]
    [family] = {r.family_id for r in world.refresh_tokens.rows.values()}
    assert (row.access_token_jti, row.refresh_token_family_id) == (jti, family)

    replay = await _outcome(world, authorization_code.issue, params)

    assert replay == f"invalid_grant: {authorization_code.INVALID_CODE}"
    assert jti in world.codes.revoked_jtis
    assert world.refresh_tokens.durable_revocations == [family]


# --- refresh token (RFC 6749 §6, RFC 9700 §4.14) -----------------------------------------------

ROTATE = {"oauthClient": {"refresh_token": {"rotation_type": "ROTATE", "leeway": 0}}}


@dataclass(frozen=True)
class Refresh:
    name: str
    expected: str
    scope: str | None = None
    send: str | None = "issued"  # "issued", None (absent) or a literal token
    prepare: Callable[[World], None] = lambda world: None
    token: dict[str, Any] | None = None
    rules: Callable[[], Any] = lambda: fakes.rule("refresh_token", window_minutes=30)
    settings: dict[str, Any] | None = None


def _revoke_all(world: World) -> None:
    for row in world.refresh_tokens.rows.values():
        row.revoked_at = utcnow()


def _unassign(world: World) -> None:
    world.users.assigned.clear()


def _suspended_after_issue(world: World) -> None:
    world.users.users[USER] = fakes.user(status="SUSPENDED", status_changed=utcnow())


INVALID = f"invalid_grant: {refresh_token.INVALID_TOKEN}"

REFRESH = [
    Refresh("a static token", "granted: openid offline_access 3600 same-token"),
    Refresh("a rotating app's token", "granted: openid offline_access 3600 new-token", settings=ROTATE),
    Refresh(
        "a narrower scope keeping offline_access",
        "granted: offline_access 3600 same-token",
        scope="offline_access",
    ),
    Refresh(
        "the rule sets the lifetime",
        "granted: openid offline_access 120 same-token",
        rules=lambda: fakes.rule("refresh_token", lifetime_minutes=2),
    ),
    Refresh("no refresh_token", "invalid_request: The `refresh_token` parameter is required.", send=None),
    Refresh("an unknown token", INVALID, send="not-a-token"),
    Refresh("another client's token", INVALID, token={"client_id": "0oa_other"}),
    Refresh("a revoked token", INVALID, prepare=_revoke_all),
    Refresh(
        "an expired token", INVALID, token={"lifetime_minutes": 1, "now": utcnow() - timedelta(minutes=2)}
    ),
    Refresh(
        "a token past its idle window",
        INVALID,
        token={"window_minutes": 1, "now": utcnow() - timedelta(minutes=2)},
    ),
    Refresh("a user suspended since", INVALID, prepare=_suspended_after_issue),
    Refresh("a user no longer assigned", f"invalid_grant: {refresh_token.NOT_ASSIGNED}", prepare=_unassign),
    Refresh(
        "a scope outside the grant", f"invalid_scope: {refresh_token.SCOPE_NOT_GRANTED}", scope="openid read"
    ),
    Refresh(
        "a scope without offline_access",
        f"invalid_scope: {refresh_token.OFFLINE_ACCESS_REQUIRED}",
        scope="openid",
    ),
    Refresh(
        "no rule for refresh_token",
        f"invalid_grant: {POLICY_DENIED}",
        rules=lambda: fakes.rule("authorization_code"),
    ),
]


async def _issued(world: World, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "org_id": ORG,
        "server_id": SERVER,
        "client_id": CLIENT,
        "user_id": USER,
        "scopes": ("openid", "offline_access"),
        "auth_time": 1_700_000_000,
        "lifetime_minutes": None,
        "window_minutes": 60,
        **changes,
    }
    return (await refresh_tokens.issue_refresh_token(world.refresh_tokens, **arguments)).secret


@pytest.mark.parametrize("case", REFRESH, ids=lambda case: case.name)
async def test_refresh_token(case: Refresh) -> None:
    world = World(
        clients=fakes.FakeClients(fakes.client(settings=case.settings)),
        policy_sets=fakes.FakePolicySets({SERVER: fakes.policy_set(case.rules())}),
    )
    issued = await _issued(world, **(case.token or {}))
    case.prepare(world)
    params = {"refresh_token": issued if case.send == "issued" else case.send, "scope": case.scope}
    got = await _outcome(world, refresh_token.issue, {k: v for k, v in params.items() if v is not None})
    if isinstance(got, TokenResponse):
        same = "same-token" if got.refresh_token == issued else "new-token"
        got = " ".join(["granted:", *got.scope, str(got.expires_in), same])
    assert got == case.expected


async def test_a_rotated_token_used_again_revokes_its_family() -> None:
    world = World(clients=fakes.FakeClients(fakes.client(settings=ROTATE)))
    issued = await _issued(world)
    first = await refresh_token.issue(world.context({"refresh_token": issued}))
    minted = minted_claims(first.access_token)["jti"]

    reused = await _outcome(world, refresh_token.issue, {"refresh_token": issued})

    assert reused == INVALID
    [family] = world.refresh_tokens.durable_revocations
    assert all(row.revoked_at is not None for row in world.refresh_tokens.family(family))
    assert minted in world.refresh_tokens.revoked_jtis
    assert await _outcome(world, refresh_token.issue, {"refresh_token": first.refresh_token or ""}) == INVALID


async def test_a_retry_within_the_grace_answers_the_same_successor_once() -> None:
    grace = {"oauthClient": {"refresh_token": {"rotation_type": "ROTATE", "leeway": 30}}}
    world = World(clients=fakes.FakeClients(fakes.client(settings=grace)))
    issued = await _issued(world)
    first = await refresh_token.issue(world.context({"refresh_token": issued}))
    retry = await refresh_token.issue(world.context({"refresh_token": issued}))
    assert retry.refresh_token == first.refresh_token != issued
    assert await _outcome(world, refresh_token.issue, {"refresh_token": issued}) == INVALID


# --- client authentication (RFC 6749 §2.3) -----------------------------------------------------

SECRET = "s3cr3t-" + "x" * 33


@dataclass(frozen=True)
class Auth:
    name: str
    expected: str  # "method client_id" or "error: description"
    form: dict[str, str]
    header: str | None = None


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


CLIENT_AUTHENTICATION = [
    Auth("client_secret_basic", f"client_secret_basic {CLIENT}", {}, _basic(CLIENT, SECRET)),
    Auth("a wrong secret", f"invalid_client: {authentication.INVALID_SECRET}", {}, _basic(CLIENT, "wrong")),
    Auth(
        "an unknown client",
        f"invalid_client: {authentication.INVALID_CLIENT_ID}",
        {},
        _basic("0oa_nobody", SECRET),
    ),
    Auth(
        "the secret in the form, not the registered method",
        f"invalid_client: {authentication.WRONG_METHOD}",
        {"client_id": CLIENT, "client_secret": SECRET},
    ),
    Auth(
        "two methods at once",
        f"invalid_request: {authentication.MULTIPLE_METHODS}",
        {"client_secret": SECRET},
        _basic(CLIENT, SECRET),
    ),
    Auth("a public client by id", "none 0oa_public", {"client_id": "0oa_public"}),
    Auth("no credentials", f"invalid_client: {authentication.NO_CREDENTIALS}", {}),
    Auth(
        "an inactive client",
        f"invalid_client: {authentication.INVALID_CLIENT_ID}",
        {"client_id": "0oa_inactive"},
    ),
]


@pytest.mark.parametrize("case", CLIENT_AUTHENTICATION, ids=lambda case: case.name)
async def test_client_authentication(case: Auth) -> None:
    confidential = replace(fakes.client(), secrets=(SecretRecord("0sc_1", digest(SECRET), None),))
    public = fakes.client("0oa_public", method="none")
    inactive = fakes.client("0oa_inactive", method="none", status="INACTIVE")
    directory = fakes.FakeClients(confidential, public, inactive)
    try:
        caller = await authentication.authenticate_client(
            directory,
            fakes.FakeAssertionReplay(),
            ORG,
            authorization_header=case.header,
            form=case.form,
            endpoint_url=f"{fakes.ORG_URL}/oauth2/{SERVER}/v1/token",
        )
        got = f"{caller.method} {caller.client_id}"
    except OAuthError as exc:
        got = f"{exc.error}: {exc.description}"
    assert got == case.expected
