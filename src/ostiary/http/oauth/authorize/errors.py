"""The two ways ``/authorize`` fails.

- :class:`AuthorizeError`: the client and redirect URI are valid, so the error goes back to the
  redirect URI (RFC 6749 §4.1.2.1), with ``state``, in the response mode. It is the domain's
  one OAuth error (:class:`~ostiary.domain.oauth_errors.OAuthError`): a refusal from the domain
  (scopes, PKCE, policies) reaches the redirect as it was raised, and this endpoint only adds
  the redirect.
- :class:`ErrorPage`: the client or redirect URI cannot be trusted (unknown client, URI not
  registered, inactive server); redirecting would make the server an open redirector, so the
  user sees an error page instead (§4.1.2.1, first paragraph).
"""

from __future__ import annotations

from ostiary.domain.oauth_errors import OAuthError

AuthorizeError = OAuthError


class ErrorPage(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
