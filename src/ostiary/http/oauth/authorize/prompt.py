"""Steps: ``prompt`` and ``max_age`` (OpenID Connect Core §3.1.2.1), and sending the user to sign in.

``prompt`` is ``none``, ``login``, ``consent`` or ``login consent``. Sign-in is needed when
there is no session, when ``prompt=login`` asks for it (unless a ``sessionToken`` just signed
the user in), or when the session's last authentication is older than ``max_age`` seconds.
With ``prompt=none`` that is ``login_required`` at the redirect URI; otherwise the browser goes
to the hosted sign-in page (``login_hint`` fills in the username) and comes back through the
resume page (:mod:`.endpoint`) to this request, minus ``prompt=login``, ``max_age`` and
``sessionToken``: the sign-in that just happened satisfies them, and keeping them would ask
again forever.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from ostiary.http.login.page import LOGIN_PATH, MAX_NEXT_LENGTH, safe_next
from ostiary.http.oauth.authorize.errors import AuthorizeError
from ostiary.http.oauth.authorize.state import Authorization
from ostiary.http.oauth.authorize.urls import with_suffix

NONE, LOGIN, CONSENT = "none", "login", "consent"
PROMPTS = frozenset({NONE, LOGIN, CONSENT})
LOGIN_REQUIRED = "The client specified not to prompt, but the user is not logged in."
RESUME_SUFFIX = "/resume"
_MAX_AGE = re.compile(r"[0-9]{1,10}")


def parse_prompt(authz: Authorization) -> None:
    prompts = frozenset(authz.params.get("prompt", "").split())
    if not prompts <= PROMPTS:
        raise AuthorizeError("invalid_request", "The 'prompt' parameter is invalid or not supported.")
    if NONE in prompts and len(prompts) > 1:
        raise AuthorizeError(
            "invalid_request", "The 'prompt' value 'none' can't be combined with other values."
        )
    authz.prompts = prompts
    raw = authz.params.get("max_age")
    if raw is not None:
        if not _MAX_AGE.fullmatch(raw):
            raise AuthorizeError("invalid_request", "The 'max_age' parameter must be a non-negative integer.")
        authz.max_age = int(raw)


def needs_sign_in(authz: Authorization) -> bool:
    if authz.user_session is None:
        return True
    if authz.fresh_sign_in:
        return False
    if LOGIN in authz.prompts:
        return True
    return authz.max_age is not None and time.time() - authz.user_session.auth_time > authz.max_age


def check_sign_in(authz: Authorization) -> Response | None:
    """None when the session will do; a redirect to the sign-in page otherwise."""
    if not needs_sign_in(authz):
        return None
    if NONE in authz.prompts:
        raise AuthorizeError("login_required", LOGIN_REQUIRED)
    back = with_suffix(authz, RESUME_SUFFIX, drop=("max_age", "sessionToken"), drop_prompts=(LOGIN,))
    if safe_next(back) is None or len(back) > MAX_NEXT_LENGTH:
        raise AuthorizeError(
            "invalid_request", "The authorization request is too long to resume after sign-in."
        )
    query = {"fromURI": back}
    hint = authz.params.get("login_hint")
    if hint:
        query["login_hint"] = hint
    return RedirectResponse(f"{LOGIN_PATH}?{urlencode(query)}", status_code=302)
