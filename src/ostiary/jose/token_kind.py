"""Is this JWT an access token? Refuse the tokens that say they are something else.

A resource server that checks only the signature, ``iss`` and ``aud`` accepts an ID token
whose ``aud`` happens to be accepted (RFC 8725 §2.8, "cross-JWT confusion"). The signs
that mark another kind of token, from the most to the least explicit:

- the header ``typ``: RFC 9068 access tokens say ``at+jwt`` (or ``application/at+jwt``);
  Okta's and Ostiary's access tokens carry no ``typ``, and many issuers write ``JWT``.
  Any other value (``id_token+jwt``, ``logout+jwt``, ``dpop+jwt``, ...) names another kind;
- claims that OpenID Connect defines for ID tokens only: ``nonce`` (Core §2), ``at_hash``
  (§3.1.3.6) and ``c_hash`` (§3.3.2.11);
- Okta's (and Ostiary's) ``jti`` of an ID token, which starts with ``ID.`` (access tokens:
  ``AT.``).

Access tokens are not required to carry ``cid``/``scp``: RFC 9068 tokens use ``client_id``
and ``scope``, and other issuers other names; the audience check stays the main defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ostiary.jose.verify import TokenInvalid

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt", "jwt"})
ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")


def not_an_access_token(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str | None:
    """Why the token is not an access token, or ``None``."""
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES):
        return "its typ names another kind of token"
    for name in ID_TOKEN_CLAIMS:
        if name in claims:
            return f"it has the ID token claim {name!r}"
    jti = claims.get("jti")
    if isinstance(jti, str) and jti.startswith("ID."):
        return "its jti is an ID token's"
    return None


def check_access_token(header: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    """Raise ``TokenInvalid("not_access_token")`` for a token marked as another kind."""
    why = not_an_access_token(header, claims)
    if why is not None:
        raise TokenInvalid("not_access_token", f"the token is not an access token: {why}")
