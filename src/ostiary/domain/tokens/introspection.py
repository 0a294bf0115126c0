"""Who may introspect which token (RFC 7662 §2.1 and §4: the endpoint must not become a
token-scanning or identity oracle).

- a public client (``token_endpoint_auth_method: none``) only the tokens issued to it: its
  ``client_id`` is no secret (it ships in SPA and native code), so it proves nothing more;
- a confidential client the tokens issued to it, and the access tokens whose ``aud`` names its
  own client id: the app of a resource server, made the audience of an authorization server
  (Okta's servers have exactly one audience; setting it to the resource server's client id is
  how that server is told "these tokens are for me"). The org authorization server's audience
  is the org URL, so there a client only ever sees its own tokens;
- a refresh token only the client it was issued to, whatever the audience.

Any other request gets the answer of an unknown token, ``{"active": false}``: the caller learns
nothing about a token it may not see.
"""

from __future__ import annotations

from ostiary.domain.clients.authentication import NONE, AuthenticatedClient


def may_introspect_access_token(caller: AuthenticatedClient, issued_to: object, audience: object) -> bool:
    """``issued_to`` and ``audience`` are the token's ``cid`` and ``aud`` claims."""
    if issued_to == caller.client_id:
        return True
    if caller.method == NONE:
        return False
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    return caller.client_id in audiences


def may_introspect_refresh_token(caller: AuthenticatedClient, issued_to: str) -> bool:
    return issued_to == caller.client_id
