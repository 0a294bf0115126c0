"""Grant handlers, one module per grant type; importing this package registers them in ``GRANTS``."""

from ostiary.domain.tokens.grants import authorization_code, client_credentials, refresh_token
from ostiary.domain.tokens.grants.base import GRANTS

__all__ = ["GRANTS", "authorization_code", "client_credentials", "refresh_token"]
