"""Step: consent. When the app requires consent for scopes the user has not agreed to yet (or
``prompt=consent`` asks again), the browser goes to the consent page (:mod:`ostiary.http.oauth.consent`),
which comes back here once the user allows; ``prompt=none`` makes that ``consent_required``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ostiary.domain.authz.consents import ScopeToConsent, scopes_to_consent
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.prompt import CONSENT, NONE
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.authorize.urls import with_suffix

CONSENT_SUFFIX = "/consent"
CONSENT_REQUIRED = "The client specified not to prompt, but the client app requires user consent."


async def pending_consent(authz: Authorization, session: AsyncSession) -> list[ScopeToConsent]:
    return await scopes_to_consent(
        session,
        authz.org.id,
        authz.server.server,
        client_id=authz.client.id,
        client_settings=authz.client.settings,
        user_id=authz.signed_in_session.user_id,
        scopes=authz.scopes,
        force=CONSENT in authz.prompts,
    )


async def check_consent(authz: Authorization, session: AsyncSession) -> Response | None:
    if not await pending_consent(authz, session):
        return None
    if NONE in authz.prompts:
        raise AuthorizeError("consent_required", CONSENT_REQUIRED)
    return RedirectResponse(
        with_suffix(authz, CONSENT_SUFFIX, drop=("sessionToken", "max_age")), status_code=302
    )
