"""Who may change an app's credentials or ``okta.*`` grants (security review F7).

Scopes alone would let a service app with ``okta.apps.manage`` mint a secret for any other app
and then use that app's ``okta.*`` grants; ``okta.appGrants.manage`` alone would let it grant
itself any scope. The rule: an OAuth principal may change an app's credentials (client secrets,
JWKs, the ``credentials.oauthClient`` settings) or its grants only if its token holds every
``okta.*`` scope granted to that app, and, when granting, the scope it grants. Admin roles add
the same rule for admins: a super admin's API token (or one made before tokens had an admin) is
not limited; an admin with other roles may do so only for scopes their roles permit org-wide, so
an app admin cannot grant ``okta.roles.manage`` to an app without roles and act through it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from ostiary.domain.clients import scope_grants
from ostiary.domain.context import Tx
from ostiary.domain.roles import authority
from ostiary.http.auth import has_scope
from ostiary.http.errors import OktaHTTPError
from ostiary.http.runtime import Principal

FORBIDDEN = "You do not have permission to perform the requested action"


def _principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):  # management_tx sets it; anything else is a bug
        raise RuntimeError("app authority checked outside management_tx")
    return principal


async def missing_scopes(request: Request, tx: Tx, app_id: str, granting: Iterable[str] = ()) -> list[str]:
    """The ``okta.*`` scopes of the app (and ``granting``) the caller's token does not hold."""
    principal = _principal(request)
    limited_by_roles = principal.authority.grants is not None and not principal.authority.is_super_admin
    if principal.scopes is None and not limited_by_roles:
        return []
    needed = await scope_grants.okta_scopes_of(tx, app_id) | frozenset(granting)
    missing = {scope for scope in needed if not has_scope(principal, scope)}
    if limited_by_roles:  # an admin's roles must permit each scope org-wide (no escalation by app)
        for scope in needed:
            if not await authority.permits(tx, principal.authority, scope, authority.Resource()):
                missing.add(scope)
    return sorted(missing)


async def require_app_authority(request: Request, tx: Tx, app_id: str, granting: Iterable[str] = ()) -> None:
    """403 E0000006 unless the caller holds every ``okta.*`` scope of the app (and ``granting``)."""
    missing = await missing_scopes(request, tx, app_id, granting)
    if missing:
        raise OktaHTTPError(
            403,
            "E0000006",
            FORBIDDEN,
            causes=[
                f"Changing this app's credentials or grants needs the scopes it holds: {', '.join(missing)}"
            ],
        )
