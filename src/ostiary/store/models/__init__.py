"""SQLAlchemy models, one module per area. Every row carries ``org_id``; ids are Okta-style.

Importing this package registers every table on ``Base.metadata`` (migrations and tests rely on it).
"""

from ostiary.store.models.authz import AuthorizationServer, RevokedToken, SigningKeyRow
from ostiary.store.models.base import Base
from ostiary.store.models.directory import ApiToken, Group, GroupMembership, LogEvent, Org, User

__all__ = [
    "ApiToken",
    "AuthorizationServer",
    "Base",
    "Group",
    "GroupMembership",
    "LogEvent",
    "Org",
    "RevokedToken",
    "SigningKeyRow",
    "User",
]
