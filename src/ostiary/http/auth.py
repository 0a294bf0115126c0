"""Authentication of the management API: ``SSWS`` API tokens, and ``Bearer`` tokens through a hook.

okta 3.4.6 sends ``SSWS<token>`` with no space; other clients send ``SSWS <token>``. Both, and the
same for ``Bearer``, are accepted. A Bearer token is checked by ``Runtime.bearer`` (set by the OAuth
layer); without one every Bearer token is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from ostiary.domain.context import Actor, ClientInfo, Tx
from ostiary.domain.directory import api_tokens
from ostiary.domain.orgs import Org
from ostiary.domain.roles import admins, authority
from ostiary.http.errors import OktaHTTPError
from ostiary.http.role_checks import require_role
from ostiary.http.runtime import Principal, Runtime, runtime

INVALID_TOKEN = "Invalid token provided"
INVALID_SESSION = "Invalid session"


def _split_authorization(header: str) -> tuple[str, str] | None:
    for scheme in ("SSWS", "Bearer"):
        if header[: len(scheme)].lower() == scheme.lower():
            return scheme, header[len(scheme) :].strip()
    return None


async def authenticate(request: Request, session: AsyncSession, org: Org, rt: Runtime) -> Principal:
    """The caller of a management request. No ``Authorization`` header at all is Okta's
    ``403 E0000005 Invalid session`` (the API then looks for a browser session, and there is
    none it accepts); a header with a missing, malformed or unknown token is ``401 E0000011``."""
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        raise OktaHTTPError(403, "E0000005", INVALID_SESSION)
    parsed = _split_authorization(header)
    if parsed is None or not parsed[1]:
        raise OktaHTTPError(401, "E0000011", INVALID_TOKEN)
    scheme, credential = parsed
    if scheme == "SSWS":
        token = await api_tokens.authenticate(session, org.id, credential)
        if token is None:
            raise OktaHTTPError(401, "E0000011", INVALID_TOKEN)
        if token.user_id is None:  # made before tokens had an admin: a super admin, as always
            actor = Actor(token.id, "ApiToken", token.name, token.name)
            return Principal(actor=actor, scopes=None, kind="api_token", authority=authority.SUPER)
        return await token_admin(session, org, token.user_id)
    principal = await rt.bearer(session, org, rt.org_url(org), credential) if rt.bearer else None
    if principal is None:
        raise OktaHTTPError(
            401,
            "E0000011",
            INVALID_TOKEN,
            headers={"WWW-Authenticate": 'Bearer authorization_uri="", error="invalid_token"'},
        )
    return principal


async def token_admin(session: AsyncSession, org: Org, user_id: str) -> Principal:
    """The principal of an API token made by an admin user: that user, with their roles. The
    token stops working while its user is deactivated, suspended or deleted."""
    tx = Tx(session=session, org=org)
    actor = await admins.token_admin_actor(tx, user_id)
    if actor is None:
        raise OktaHTTPError(401, "E0000011", INVALID_TOKEN)
    held = await authority.for_user(tx, user_id)
    return Principal(actor=actor, scopes=None, kind="api_token", authority=held, user_id=user_id)


def has_scope(principal: Principal, scope: str) -> bool:
    """A ``.manage`` scope includes its ``.read`` (Okta's table of okta.* scopes)."""
    if principal.scopes is None:
        return True
    if scope in principal.scopes:
        return True
    return scope.endswith(".read") and scope[: -len(".read")] + ".manage" in principal.scopes


def require_scope(principal: Principal, scope: str) -> None:
    if not has_scope(principal, scope):
        raise OktaHTTPError(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
            headers={
                "WWW-Authenticate": (
                    'Bearer error="insufficient_scope", '
                    'error_description="The access token provided does not contain the required scopes.", '
                    f'scope="{scope}"'
                )
            },
        )


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=request.scope.get("state", {}).get("request_id"),
    )


@asynccontextmanager
async def management_tx(request: Request, scope: str) -> AsyncIterator[Tx]:
    """Authenticate, check ``scope``, and run the block in one transaction of the request's org."""
    rt = runtime(request)
    org = await rt.org_for(request)
    async with rt.db.session() as session:
        principal = await authenticate(request, session, org, rt)
        require_scope(principal, scope)
        request.state.principal = principal  # for checks beyond the scope (app_authority)
        tx = Tx(session=session, org=org, actor=principal.actor, client=client_info(request))
        await require_role(request, tx, principal, scope)
        yield tx
