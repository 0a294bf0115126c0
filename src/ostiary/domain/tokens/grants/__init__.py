"""Grant handlers, one module per grant type; importing this package registers them in ``GRANTS``."""

from ostiary.domain.tokens.grants import client_credentials
from ostiary.domain.tokens.grants.base import GRANTS

__all__ = ["GRANTS", "client_credentials"]
