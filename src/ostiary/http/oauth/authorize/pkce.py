"""Step: PKCE (RFC 7636) for responses that include a code.

Public clients (browser apps, native apps without a secret) must send an ``S256`` challenge;
so must every app that sets ``pkce_required``. The challenge is stored with the code.
"""

from __future__ import annotations

from ostiary.domain.tokens import pkce
from ostiary.http.oauth.authorize.state import Authorization

PKCE_APP_TYPES = frozenset({"browser", "native"})


def pkce_required(authz: Authorization) -> bool:
    client = authz.client
    return client.is_public or client.pkce_required or client.application_type in PKCE_APP_TYPES


def check_pkce(authz: Authorization) -> None:
    if not authz.wants_code:
        return
    challenge = authz.params.get("code_challenge") or None
    method = pkce.check_challenge(  # its OAuthError goes to the redirect URI as raised
        challenge,
        authz.params.get("code_challenge_method") or None,
        public=authz.client.is_public,
        required=pkce_required(authz),
    )
    authz.code_challenge, authz.code_challenge_method = challenge, method
