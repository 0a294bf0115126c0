"""May this browser request redeem a ``sessionToken``? (login CSRF through the handoff).

A session token is Okta's server-to-browser handoff: an app signs the user in with
``/api/v1/authn`` (itself, or okta-auth-js / the sign-in widget on the app's page) and then
sends the browser to ``/v1/authorize?sessionToken=...``, a top-level navigation (or, for
okta-auth-js ``getWithoutPrompt``, an iframe) started by the app's page. Redeeming it starts a
session and sets the ``sid`` cookie without showing a page.

The attack: anyone can mint a valid token for *their own* account and put it in a link; a
victim who follows it from the attacker's page is silently signed in to the attacker's account
(login CSRF), which the hosted ``/login`` form prevents with its CSRF token. The token being
single-use and short-lived does not help, since the attacker mints a fresh one. What separates
the two is who started the navigation: the app's page (a trusted origin, or the origin of the
app's registered redirect URI) or someone else's page. Browsers tell us that and scripts
cannot forge it:

- ``Sec-Fetch-Site: same-origin`` (this server's own pages) or ``none`` (typed, bookmarked)
  is fine;
- otherwise the ``Referer``'s origin must be this server's origin, the app's redirect URI's
  origin, or an ACTIVE trusted origin (CORS or REDIRECT scope). A cross-site navigation with
  no ``Referer`` (the attacker can suppress it) is refused; so is any untrusted ``Referer``.
- A request with neither header is not a browser navigation that a third party can trigger
  (scripts, server-side handoffs, and only very old browsers): it is allowed.

A refused token is not redeemed at all (it stays unused): the request goes on as if there were
no token, i.e. with the browser's own session, or to the sign-in page. An app whose pages send
``Referrer-Policy: no-referrer`` must list its origin as a trusted origin *and* keep the default
referrer policy, or its users see the sign-in page once.
"""

from __future__ import annotations

from starlette.requests import Request

from ostiary.domain.directory import trusted_origins
from ostiary.http.runtime import runtime

_OWN_SITE = frozenset({"same-origin", "none"})


def own_origin(request: Request) -> str | None:
    return trusted_origins.canonical_origin(f"{request.url.scheme}://{request.url.netloc}")


async def browser_may_redeem(request: Request, org_id: str, *, app_origin: str | None = None) -> bool:
    """True when the request may redeem a session token (see the module docstring)."""
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site in _OWN_SITE:
        return True
    referer = request.headers.get("referer")
    if not referer:
        return not fetch_site
    initiator = trusted_origins.origin_of(referer)
    if initiator is None:
        return False
    if initiator in (own_origin(request), app_origin):
        return True
    db = runtime(request).db
    for scope in (trusted_origins.CORS, trusted_origins.REDIRECT):
        if await trusted_origins.is_trusted(db, org_id, initiator, scope):
            return True
    return False
