"""SQLAlchemy models, one module per area. Every row carries ``org_id``; ids are Okta-style.

Importing this package registers every table on ``Base.metadata`` (migrations and tests rely on it).
"""

from ostiary.store.models.authz import AuthorizationServer, RevokedToken, SigningKeyRow
from ostiary.store.models.base import Base
from ostiary.store.models.cache_log import CacheEventRow  # noqa: F401
from ostiary.store.models.clients import (
    App,
    AppGrant,
    AppGroupAssignment,
    AppJwk,
    AppUserAssignment,
    ClientAssertionJti,
    ClientSecret,
)
from ostiary.store.models.codes import AuthorizationCode, ConsentGrant  # noqa: F401
from ostiary.store.models.directory import ApiToken, Group, GroupMembership, LogEvent, Org, OrgDomain, User
from ostiary.store.models.integrations import ApiServiceInstall, IntegrationEntry  # noqa: F401
from ostiary.store.models.key_credentials import AppKeyCredential, ResourceServerKey  # noqa: F401
from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule, Scope  # noqa: F401
from ostiary.store.models.refresh_tokens import FamilyAccessToken, RefreshToken  # noqa: F401
from ostiary.store.models.roles import RoleAssignment, RoleTarget
from ostiary.store.models.schemas import UserSchema  # noqa: F401
from ostiary.store.models.sessions import SessionToken, TrustedOrigin, UserSession  # noqa: F401

__all__ = [
    "ApiToken",
    "App",
    "AppGrant",
    "AppGroupAssignment",
    "AppJwk",
    "AppUserAssignment",
    "AuthorizationServer",
    "Base",
    "ClientAssertionJti",
    "ClientSecret",
    "Group",
    "GroupMembership",
    "LogEvent",
    "Org",
    "OrgDomain",
    "RevokedToken",
    "RoleAssignment",
    "RoleTarget",
    "SigningKeyRow",
    "User",
]

from ostiary.store.models.device_codes import DeviceCode  # noqa: F401
from ostiary.store.models.group_rules import GroupRuleMember, GroupRuleRow  # noqa: F401
from ostiary.store.models.pushed_requests import PushedRequest  # noqa: F401
