"""The management side of authorization servers: ``default`` and custom (``aus…``) ones.

The org authorization server (``$org``) is not managed here: Okta's management API does not
show it, so every lookup treats it as unknown. A new server is seeded as Okta seeds one:
the system scopes (``openid``, ``profile``…) and the system ``sub`` claim; the ``default``
server also gets the "Default Policy" with its "Default Policy Rule", so it issues tokens
out of the box. A custom server has no policy until one is created, as on Okta.

``issuerMode`` accepts ``ORG_URL``, ``CUSTOM_URL`` and ``DYNAMIC`` and is echoed, but the
issuer is always ``{org URL}/oauth2/{id}``: Ostiary has no custom URL domains.

This module also holds the small field validators the server's sub-resources (scopes,
claims, policies) share, so that every one of them words its errors the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.authz import policy_sets, server_lookup
from ostiary.domain.authz.server_lookup import CUSTOM, DEFAULT, DEFAULT_SERVER_ID
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid
from ostiary.store.models import AuthorizationServer, SigningKeyRow
from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule, Scope
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

MANAGEABLE = (DEFAULT, CUSTOM)
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
ISSUER_MODES = ("ORG_URL", "CUSTOM_URL", "DYNAMIC")
ROTATION_MODES = ("AUTO", "MANUAL")
SIGNING_ALGS = ("RS256", "ES256")
_MAX_NAME = 255
_MAX_DESCRIPTION = 1024
_MAX_AUDIENCE = 1024
_SEEDED = "seeded"

# --- field validation shared by servers, scopes, claims, policies and rules ------------------


def invalid(field: str, cause: str) -> Invalid:
    """Okta's E0000001: ``Api validation failed: {field}`` with one cause naming the problem."""
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=[f"{field}: {cause}"])


def present(body: Mapping[str, Any], key: str) -> bool:
    """A key counts as given when it is there and not null (the SDK drops empty values)."""
    return body.get(key) is not None


def text_field(
    body: Mapping[str, Any], key: str, *, max_length: int, required: bool = False, field: str | None = None
) -> str | None:
    name = field or key
    value = body.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise invalid(name, "The field cannot be left blank")
        return None
    if not isinstance(value, str):
        raise invalid(name, "Does not match required type: string")
    if len(value) > max_length:
        raise invalid(name, f"must be at most {max_length} characters")
    return value


def required_text(body: Mapping[str, Any], key: str, *, max_length: int, field: str | None = None) -> str:
    value = text_field(body, key, max_length=max_length, required=True, field=field)
    assert value is not None
    return value


def bool_field(body: Mapping[str, Any], key: str, default: bool, *, field: str | None = None) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(field or key, "Does not match required type: boolean")
    return value


def int_field(
    body: Mapping[str, Any],
    key: str,
    default: int | None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    field: str | None = None,
) -> int | None:
    name = field or key
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "Does not match required type: integer")
    if minimum is not None and value < minimum:
        raise invalid(name, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(name, f"must be at most {maximum}")
    return value


def choice_field(
    body: Mapping[str, Any], key: str, allowed: Sequence[str], default: str, *, field: str | None = None
) -> str:
    value = body.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise invalid(field or key, f"must be one of {', '.join(allowed)}")
    assert isinstance(value, str)
    return value


def object_field(body: Mapping[str, Any], key: str, *, field: str | None = None) -> Mapping[str, Any]:
    """A nested object; missing or null is an empty one."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(field or key, "Does not match required type: object")
    return value


def string_list(value: object, field: str, *, max_items: int = 1000, max_length: int = 1024) -> list[str]:
    """A JSON array of non-empty strings, duplicates dropped (first one kept); null is empty."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise invalid(field, "Does not match required type: array of strings")
    if len(value) > max_items:
        raise invalid(field, f"must have at most {max_items} items")
    if any(len(v) > max_length for v in value):
        raise invalid(field, f"items must be at most {max_length} characters")
    return list(dict.fromkeys(value))


# --- lookups ---------------------------------------------------------------------------------


def target(server: AuthorizationServer) -> Target:
    return Target(server.id, "AuthorizationServer", server.name, server.name)


async def manageable_server(tx: Tx, server_id: str) -> AuthorizationServer:
    """A ``default`` or custom server of this org; the org AS is as unknown as a wrong id."""
    server = await tx.session.get(AuthorizationServer, (tx.org_id, server_id))
    if server is None or server.kind not in MANAGEABLE:
        raise server_lookup.not_found(server_id)
    return server


async def list_servers(tx: Tx, *, q: str | None, after: str | None, limit: int) -> Page[AuthorizationServer]:
    """``q`` matches a part of the name or the audience, ignoring case."""
    stmt = select(AuthorizationServer).where(
        AuthorizationServer.org_id == tx.org_id, AuthorizationServer.kind.in_(MANAGEABLE)
    )
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(AuthorizationServer.name).like(pattern, escape="\\"),
                func.lower(cast(AuthorizationServer.audiences, String)).like(pattern, escape="\\"),
            )
        )
    return await fetch_page(tx.session, stmt, AuthorizationServer.id, after=after, limit=limit)


async def active_kids(session: AsyncSession, org_id: str, server_ids: Collection[str]) -> dict[str, str]:
    """The ``kid`` that signs for each server (servers without keys yet are absent)."""
    if not server_ids:
        return {}
    stmt = select(SigningKeyRow.server_id, SigningKeyRow.kid).where(
        SigningKeyRow.org_id == org_id,
        SigningKeyRow.server_id.in_(list(server_ids)),
        SigningKeyRow.status == "ACTIVE",
    )
    return {server_id: kid for server_id, kid in (await session.execute(stmt)).all()}


# --- create, replace, lifecycle, delete ------------------------------------------------------


def _audiences(body: Mapping[str, Any]) -> list[str]:
    value = body.get("audiences")
    if value is None or value == []:
        raise invalid("audiences", "The field cannot be left blank")
    audiences = string_list(value, "audiences", max_length=_MAX_AUDIENCE)
    if len(audiences) != 1:
        raise invalid("audiences", "Okta supports exactly one audience per authorization server")
    if not audiences[0].strip():
        raise invalid("audiences", "The field cannot be left blank")
    return audiences


def _rotation_mode(body: Mapping[str, Any], default: str) -> str:
    signing = object_field(object_field(body, "credentials"), "signing", field="credentials.signing")
    return choice_field(
        signing, "rotationMode", ROTATION_MODES, default, field="credentials.signing.rotationMode"
    )


def _signing_alg(body: Mapping[str, Any], default: str) -> str:
    """Ostiary's extension ``credentials.signing.alg``: RS256 (Okta's only choice) or ES256 (opt-in)."""
    signing = object_field(object_field(body, "credentials"), "signing", field="credentials.signing")
    return choice_field(signing, "alg", SIGNING_ALGS, default, field="credentials.signing.alg")


def _refuse_encryption(body: Mapping[str, Any]) -> None:
    for key in ("accessTokenEncryptedResponseAlgorithm", "jwks", "jwks_uri"):
        if present(body, key):
            raise invalid(key, "Access token encryption is not supported")


async def _ensure_name_free(tx: Tx, name: str, except_id: str | None = None) -> None:
    stmt = select(AuthorizationServer.id).where(
        AuthorizationServer.org_id == tx.org_id,
        AuthorizationServer.kind.in_(MANAGEABLE),
        func.lower(AuthorizationServer.name) == name.lower(),
    )
    existing = (await tx.session.scalars(stmt)).first()
    if existing is not None and existing != except_id:
        raise invalid("name", "An object with this field already exists in the current organization")


async def _server_exists(tx: Tx, server_id: str) -> bool:
    found: AuthorizationServer | None = await tx.session.get(AuthorizationServer, (tx.org_id, server_id))
    return found is not None


async def create_server(
    tx: Tx, body: Mapping[str, Any], *, server_id: str | None = None
) -> AuthorizationServer:
    """POST. ``server_id`` (``ostiary apply`` only) fixes the id, so the issuer is known in advance."""
    if server_id is not None and await _server_exists(tx, server_id):
        raise invalid("id", "An object with this field already exists in the current organization")
    name = required_text(body, "name", max_length=_MAX_NAME).strip()
    description = text_field(body, "description", max_length=_MAX_DESCRIPTION)
    audiences = _audiences(body)
    issuer_mode = choice_field(body, "issuerMode", ISSUER_MODES, "ORG_URL")
    rotation_mode = _rotation_mode(body, "AUTO")
    signing_alg = _signing_alg(body, "RS256")
    _refuse_encryption(body)
    await _ensure_name_free(tx, name)
    now = utcnow()
    server = AuthorizationServer(
        org_id=tx.org_id,
        id=server_id or ids.new_id(ids.AUTH_SERVER),
        kind=CUSTOM,
        name=name,
        description=description,
        audiences=audiences,
        issuer_mode=issuer_mode,
        status=ACTIVE,
        signing_alg=signing_alg,
        rotation_mode=rotation_mode,
        settings={},
        created=now,
        last_updated=now,
    )
    tx.session.add(server)
    await tx.session.flush()
    await _seed(tx.session, server, with_default_policy=False)
    record(tx, "oauth2.as.created", "Create authorization server", [target(server)])
    return server


async def replace_server(tx: Tx, server_id: str, body: Mapping[str, Any]) -> AuthorizationServer:
    """PUT: name, description, audiences, issuerMode and the rotation mode; status stays (use lifecycle)."""
    server = await manageable_server(tx, server_id)
    name = required_text(body, "name", max_length=_MAX_NAME).strip()
    description = text_field(body, "description", max_length=_MAX_DESCRIPTION)
    audiences = _audiences(body)
    issuer_mode = choice_field(body, "issuerMode", ISSUER_MODES, server.issuer_mode)
    rotation_mode = _rotation_mode(body, server.rotation_mode)
    if _signing_alg(body, server.signing_alg) != server.signing_alg:
        raise invalid("credentials.signing.alg", "The signing algorithm is fixed when the server is created")
    _refuse_encryption(body)
    await _ensure_name_free(tx, name, except_id=server.id)
    server.name, server.description, server.audiences = name, description, audiences
    server.issuer_mode, server.rotation_mode = issuer_mode, rotation_mode
    server.last_updated = utcnow()
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server.id)
    record(tx, "oauth2.as.updated", "Update authorization server", [target(server)])
    return server


async def set_status(tx: Tx, server_id: str, status: str) -> AuthorizationServer:
    """Activate or deactivate; an inactive server answers no OAuth request. Idempotent."""
    server = await manageable_server(tx, server_id)
    if server.status != status:
        server.status = status
        server.last_updated = utcnow()
        policy_sets.invalidate(tx.session, tx.org_id, server.id)
    event = "oauth2.as.activated" if status == ACTIVE else "oauth2.as.deactivated"
    message = "Activate authorization server" if status == ACTIVE else "Deactivate authorization server"
    record(tx, event, message, [target(server)])
    return server


async def delete_server(tx: Tx, server_id: str) -> None:
    """Okta lets ``default`` be deleted too. Keys, scopes, claims, policies and rules go with it."""
    server = await manageable_server(tx, server_id)
    await tx.session.delete(server)
    await tx.session.flush()
    policy_sets.invalidate(tx.session, tx.org_id, server.id)
    record(tx, "oauth2.as.deleted", "Delete authorization server", [target(server)])


# --- what a new server comes with ------------------------------------------------------------

SYSTEM_SCOPES: tuple[tuple[str, str, str], ...] = (
    ("openid", "openid", "Signals that a request is an OpenID request."),
    ("profile", "View your profile", "Allows access to end-user's default profile claims."),
    ("email", "View your email address", "Allows access to email and email_verified claims."),
    ("address", "View your home address", "Allows access to address claim."),
    ("phone", "View your phone number", "Allows access to phone_number and phone_number_verified claims."),
    (
        "offline_access",
        "Keep you signed in to the app",
        "This keeps you signed in to the app, even when you aren't using it.",
    ),
    ("groups", "View your groups", "Allows access to the groups claim."),
)
SUB_CLAIM_VALUE = "(appuser != null) ? appuser.userName : app.clientId"
DEFAULT_POLICY_NAME = "Default Policy"
DEFAULT_POLICY_DESCRIPTION = "Default policy description"
DEFAULT_RULE_NAME = "Default Policy Rule"
DEFAULT_RULE_GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
)


async def _seed(session: AsyncSession, server: AuthorizationServer, *, with_default_policy: bool) -> None:
    now = utcnow()
    common = {"org_id": server.org_id, "server_id": server.id, "created": now, "last_updated": now}
    for name, display_name, description in SYSTEM_SCOPES:
        session.add(
            Scope(
                id=ids.new_id(ids.SCOPE),
                name=name,
                display_name=display_name,
                description=description,
                consent="IMPLICIT",
                default=False,
                metadata_publish="ALL_CLIENTS",
                system=True,
                optional=False,
                **common,
            )
        )
    session.add(
        Claim(
            id=ids.new_id(ids.CLAIM),
            name="sub",
            status=ACTIVE,
            claim_type="RESOURCE",
            value_type="EXPRESSION",
            value=SUB_CLAIM_VALUE,
            group_filter_type=None,
            always_include_in_token=True,
            conditions_scopes=[],
            system=True,
            **common,
        )
    )
    if with_default_policy:
        policy = AccessPolicy(
            id=ids.new_id(ids.POLICY),
            name=DEFAULT_POLICY_NAME,
            description=DEFAULT_POLICY_DESCRIPTION,
            priority=1,
            status=ACTIVE,
            system=False,
            clients_include=["ALL_CLIENTS"],
            **common,
        )
        session.add(policy)
        await session.flush()
        session.add(
            PolicyRule(
                id=ids.new_id(ids.RULE),
                policy_id=policy.id,
                name=DEFAULT_RULE_NAME,
                priority=1,
                status=ACTIVE,
                system=False,
                users_include=[],
                users_exclude=[],
                groups_include=["EVERYONE"],
                groups_exclude=[],
                grant_types=list(DEFAULT_RULE_GRANT_TYPES),
                scopes=["*"],
                access_token_lifetime_minutes=60,
                refresh_token_lifetime_minutes=0,
                refresh_token_window_minutes=10080,
                inline_hook_id=None,
                **common,
            )
        )
    server.settings = {**server.settings, _SEEDED: True}
    await session.flush()


async def seed_default_server(session: AsyncSession, org_id: str) -> None:
    """Give the org's ``default`` server its system scopes, ``sub`` claim and Default Policy, once.

    Called at start-up after :func:`servers.ensure_builtin`. A marker in the server's settings
    makes it run once per server, so an admin's later deletions stay deleted.
    """
    stmt = select(AuthorizationServer).where(
        AuthorizationServer.org_id == org_id, AuthorizationServer.id == DEFAULT_SERVER_ID
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    server = (await session.scalars(stmt.execution_options(populate_existing=True))).first()
    if server is None or server.settings.get(_SEEDED):
        return
    await _seed(session, server, with_default_policy=True)
