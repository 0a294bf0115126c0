"""Grant handlers, one module per grant type (RFC 6749 §4.1.3, §4.4, §6), and the table of them.

The token endpoint looks the request's ``grant_type`` up in :data:`GRANTS` (absent:
``unsupported_grant_type``) and checks the client may use it
(:func:`~ostiary.domain.tokens.grants.base.check_grant_type_allowed`) before calling it.
"""

from collections.abc import Mapping

from ostiary.domain.tokens.grants import authorization_code, client_credentials, device_code, refresh_token
from ostiary.domain.tokens.grants.base import Grant

GRANTS: Mapping[str, Grant] = {
    authorization_code.GRANT_TYPE: authorization_code.issue,
    client_credentials.GRANT_TYPE: client_credentials.issue,
    refresh_token.GRANT_TYPE: refresh_token.issue,
    device_code.GRANT_TYPE: device_code.issue,
}

__all__ = ["GRANTS", "Grant"]
