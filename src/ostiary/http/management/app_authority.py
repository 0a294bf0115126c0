"""Who may change an app's credentials or ``okta.*`` grants (security review F7).

Scopes are Ostiary's only authorization (there are no admin roles yet), so ``okta.apps.manage``
alone would let a service app mint a secret for any other app and then use that app's
``okta.*`` grants; ``okta.appGrants.manage`` alone would let it grant itself any scope. The rule:
an OAuth principal may change an app's credentials (client secrets, JWKs, the
``credentials.oauthClient`` settings) or its grants only if its token holds every ``okta.*``
scope granted to that app, and, when granting, the scope it grants. API tokens (SSWS) act as
super admins and are not limited.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request

from ostiary.domain.clients import grants
from ostiary.domain.context import Tx
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
    if principal.scopes is None:
        return []
    needed = await grants.okta_scopes_of(tx, app_id) | frozenset(granting)
    return sorted(scope for scope in needed if not has_scope(principal, scope))


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
